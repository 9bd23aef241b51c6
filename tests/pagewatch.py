"""Watch a page in the browser tests: JavaScript errors, dialogs, CSP violations and requests leaving the service."""
from __future__ import annotations

import time
from urllib.parse import urlparse

from playwright.sync_api import Page

# Every Content-Security-Policy violation of a document, as the page itself sees it.
CSP_LISTENER = """window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => window.__cspViolations.push(
    e.violatedDirective + " " + e.blockedURI + " " + (e.sample || "")));"""


class PageWatch:
    """Record a page's errors, dialogs, CSP violations and outside requests; let only the service's own through.

    With `console_errors`, console messages of type error (other than failed outside loads) count as errors too.
    """

    def __init__(self, page: Page, base_url: str, console_errors: bool = True) -> None:
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self.refused: list[str] = []
        self.outside: list[tuple[str, str]] = []
        self.page = page
        self.host = urlparse(base_url).netloc
        page.add_init_script(CSP_LISTENER)
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        if console_errors:
            page.on("console", lambda msg: self.errors.append(msg.text) if msg.type == "error"
                    and "ERR_FAILED" not in msg.text and "ERR_NAME" not in msg.text else None)
        page.on("console", lambda msg: self.refused.append(msg.text) if "Refused to" in msg.text
                or "Content Security Policy" in msg.text else None)
        page.on("dialog", lambda dialog: (self.dialogs.append(dialog.message), dialog.dismiss()))
        page.route("**/*", self.route)

    def route(self, route, request) -> None:
        """Let the service's own requests and data URLs through; record and abort the rest."""
        if urlparse(request.url).netloc == self.host or request.url.startswith("data:"):
            route.continue_()
        else:
            self.outside.append((request.resource_type, request.url))
            route.abort()

    def csp_violations(self) -> list[str]:
        """Return the policy violations of the current document and every console refusal so far."""
        return self.page.evaluate("window.__cspViolations || []") + self.refused


def wait_until(page: Page, expression: str, timeout_ms: int = 30_000) -> None:
    """Poll a page expression until it is true; unlike wait_for_function it needs no eval the CSP forbids."""
    deadline = time.monotonic() + timeout_ms / 1000
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {expression}")
        page.wait_for_timeout(50)
