"""Authentication: users' API tokens, the web session and its CSRF token, and the roles views require."""
from __future__ import annotations

import functools
import hashlib
import hmac
import logging
import secrets
from typing import Any, Callable, TypeVar

from flask import g, request, session as web_session
from sqlalchemy.orm import Session

from .db import get_session
from .errors import ServiceError
from .storage import users as user_store

LOGGER = logging.getLogger(__name__)
ROLES = ("viewer", "editor", "admin")
ROLE_RANK = {role: rank for rank, role in enumerate(ROLES)}
F = TypeVar("F", bound=Callable[..., Any])


def hash_token(token: str) -> str:
    """Return the SHA-256 of a token, which is all the database keeps."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_user(session: Session, name: str, role: str) -> str:
    """Add a user with a role to the session's transaction and return its new API token (shown once)."""
    if role not in ROLES:
        raise ServiceError(f"unknown role '{role}'; expected one of {', '.join(ROLES)}")
    if not name.strip():
        raise ServiceError("a user needs a name")
    token = secrets.token_urlsafe(32)
    if user_store.insert_user(session, name.strip(), role, hash_token(token)) is None:
        raise ServiceError(f"a user named '{name}' already exists", code="conflict")
    return token


def user_for_token(session: Session, token: str) -> dict[str, Any] | None:
    """Return the user a token belongs to, or None."""
    return user_store.user_by_token_hash(session, hash_token(token))


def has_role(user: dict[str, Any], role: str) -> bool:
    """Tell whether a user's role is at least the given one (viewer < editor < admin)."""
    return ROLE_RANK[user["role"]] >= ROLE_RANK[role]


def csrf_token() -> str:
    """Return the CSRF token of the web session, making one on first use."""
    if "csrf" not in web_session:
        web_session["csrf"] = secrets.token_urlsafe(32)
    return web_session["csrf"]


def log_in(name: str, token: str) -> dict[str, Any] | None:
    """Start a web session for a user whose name and API token match; return the user or None."""
    user = user_for_token(get_session(), token.strip())
    if user is None or user["name"] != name.strip():
        return None
    web_session.clear()
    web_session["user_id"] = user["id"]
    csrf_token()
    return user


def log_out() -> None:
    """End the web session."""
    web_session.clear()


def current_user() -> dict[str, Any] | None:
    """Return the user of the request's bearer token or web session, or None when there is none."""
    if "user" in g:
        return g.user
    header = request.headers.get("Authorization", "")
    user = None
    g.auth_via = None
    if header.lower().startswith("bearer "):
        user = user_for_token(get_session(), header[7:].strip())
        if user is None:
            raise ServiceError("the bearer token is not valid", code="unauthorized")
        g.auth_via = "token"
    elif "user_id" in web_session:
        user = user_store.user_by_id(get_session(), web_session["user_id"])
        g.auth_via = "session" if user else None
    g.user = user
    return user


def refuse_without_csrf_token() -> None:
    """Refuse the request unless it carries the web session's CSRF token (header or form field)."""
    sent = request.headers.get("X-CSRF-Token") or request.form.get("csrf_token") or ""
    expected = str(web_session.get("csrf", ""))
    if not expected or not hmac.compare_digest(sent.encode("utf-8"), expected.encode("utf-8")):
        raise ServiceError("missing or wrong CSRF token; reload the page / 页面已过期，请刷新", code="csrf_failed")


def check_csrf() -> None:
    """Refuse a state-changing request made with a web session but without its CSRF token."""
    if request.method in ("GET", "HEAD", "OPTIONS") or g.get("auth_via") != "session":
        return
    refuse_without_csrf_token()


def require_role(role: str) -> Callable[[F], F]:
    """Refuse the view unless the user has at least this role: 401 anonymous, 403 too weak."""
    def decorate(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            user = current_user()
            if user is None:
                raise ServiceError("authentication required: send Authorization: Bearer <token>",
                                   code="unauthorized")
            if not has_role(user, role):
                raise ServiceError(f"the {role} role is required", code="forbidden")
            check_csrf()
            return view(*args, **kwargs)
        return wrapper  # type: ignore[return-value]
    return decorate
