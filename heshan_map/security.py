"""Security headers on every response: a nonce-based Content-Security-Policy and its companions."""
from __future__ import annotations

import logging
import re
import secrets
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, Response, current_app, g

LOGGER = logging.getLogger(__name__)
TIANDITU_HOSTS = tuple(f"https://t{n}.tianditu.gov.cn" for n in range(8))
# An inline <script> tag: one without a src attribute.
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\ssrc\s*=)(\s[^>]*)?>", re.IGNORECASE)
OTHER_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "SAMEORIGIN",
}


def csp_nonce() -> str:
    """Return the current request's script nonce, made on first use."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(18)
    return g.csp_nonce


def add_nonce(html: str, nonce: str) -> str:
    """Return trusted generated markup (folium's) with the nonce on each of its inline scripts."""
    def with_nonce(match: re.Match[str]) -> str:
        attributes = match.group(1) or ""
        return f'<script nonce="{nonce}"{attributes}>'
    return INLINE_SCRIPT.sub(with_nonce, html)


def tile_source(url: str) -> str | None:
    """Return the CSP source of a tile URL template: its origin, `{s}` subdomains as a wildcard."""
    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc:
        return None  # a path on this service: 'self'
    host, _, port = parts.netloc.rpartition("@")[2].partition(":")
    labels = host.split(".")
    if any("{" in label for label in labels[1:]) or "{" in port:
        LOGGER.warning("TILE_URL %s has a placeholder past its first host label; allowing any %s: host",
                       url, parts.scheme)
        return f"{parts.scheme}:"
    if "{" in labels[0]:
        labels[0] = "*"
    return f"{parts.scheme}://{'.'.join(labels)}" + (f":{port}" if port else "")


def image_sources(config: dict[str, Any]) -> list[str]:
    """Return the img-src list: this service, data and blob URLs, and the configured basemap hosts."""
    sources = ["'self'", "data:", "blob:"]
    tiles = tile_source(str(config.get("TILE_URL") or ""))
    if tiles:
        sources.append(tiles)
    if config.get("TIANDITU_KEY"):
        sources.extend(TIANDITU_HOSTS)
    return sources


def content_security_policy(config: dict[str, Any], nonce: str) -> str:
    """Return the policy: own scripts and nonced inline ones only, own connections, basemap images."""
    directives = {
        "default-src": ["'self'"],
        "script-src": ["'self'", f"'nonce-{nonce}'"],
        "style-src": ["'self'", "'unsafe-inline'"],  # folium writes <style> blocks, Leaflet style attributes
        "img-src": image_sources(config),
        "connect-src": ["'self'"],
        "font-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'self'"],
        "form-action": ["'self'"],
    }
    return "; ".join(f"{name} {' '.join(values)}" for name, values in directives.items())


def add_security_headers(response: Response) -> Response:
    """Put the policy and the other security headers on a response that does not set its own."""
    if "Content-Security-Policy" not in response.headers:
        response.headers["Content-Security-Policy"] = content_security_policy(current_app.config, csp_nonce())
    for name, value in OTHER_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def init_app(app: Flask) -> None:
    """Send the headers on every response and give templates csp_nonce()."""
    app.after_request(add_security_headers)
    app.jinja_env.globals["csp_nonce"] = csp_nonce
