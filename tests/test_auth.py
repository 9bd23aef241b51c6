"""Authentication: users and tokens leave the transaction to their caller; roles, bearer tokens, the web session."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import text

from heshan_map import auth
from heshan_map.errors import ServiceError
from heshan_map.storage import users as user_store

from .test_cli import run_cli


def user_count(session, name: str) -> int:
    return session.execute(text("SELECT count(*) FROM users WHERE name = :name"), {"name": name}).scalar_one()


def test_create_user_leaves_the_commit_to_its_caller(session) -> None:
    token = auth.create_user(session, "  auth-editor ", "editor")
    assert session.in_transaction()
    user = auth.user_for_token(session, token)
    assert user is not None and user["name"] == "auth-editor" and user["role"] == "editor"
    session.rollback()
    assert auth.user_for_token(session, token) is None
    assert user_count(session, "auth-editor") == 0


def test_a_taken_name_is_a_conflict_and_the_transaction_goes_on(session) -> None:
    first = auth.create_user(session, "auth-twice", "viewer")
    with pytest.raises(ServiceError) as raised:
        auth.create_user(session, "auth-twice", "admin")
    assert raised.value.code == "conflict"
    assert raised.value.message == "a user named 'auth-twice' already exists"
    assert auth.user_for_token(session, first)["role"] == "viewer"  # the first user is still in the transaction
    assert user_count(session, "auth-twice") == 1


@pytest.mark.parametrize("name,role,message", [
    ("auth-x", "owner", "unknown role 'owner'; expected one of viewer, editor, admin"),
    ("   ", "editor", "a user needs a name"),
])
def test_unknown_role_and_empty_name_are_refused(session, name: str, role: str, message: str) -> None:
    with pytest.raises(ServiceError) as raised:
        auth.create_user(session, name, role)
    assert raised.value.code == "bad_request" and raised.value.message == message


def test_only_the_tokens_hash_is_stored(session) -> None:
    token = auth.create_user(session, "auth-hash", "viewer")
    stored = session.execute(text("SELECT token_sha256 FROM users WHERE name = 'auth-hash'")).scalar_one()
    assert stored == auth.hash_token(token) and token not in stored
    user = user_store.user_by_token_hash(session, stored)
    assert user_store.user_by_id(session, user["id"]) == user


@pytest.mark.parametrize("role,required,allowed", [
    ("viewer", "viewer", True), ("viewer", "editor", False), ("editor", "editor", True),
    ("editor", "admin", False), ("admin", "editor", True),
])
def test_roles_rank_viewer_editor_admin(role: str, required: str, allowed: bool) -> None:
    assert auth.has_role({"role": role}, required) is allowed


def test_bearer_tokens_are_checked_before_the_role(client, session) -> None:
    viewer = auth.create_user(session, "auth-viewer", "viewer")
    body = {"type": "Feature", "properties": {}, "geometry": None}
    wrong = client.post("/api/features", json=body, headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401 and wrong.get_json()["error"]["message"] == "the bearer token is not valid"
    weak = client.post("/api/features", json=body, headers={"Authorization": f"Bearer {viewer}"})
    assert weak.status_code == 403 and weak.get_json()["error"]["message"] == "the editor role is required"
    anonymous = client.post("/api/features", json=body)
    assert anonymous.status_code == 401 and anonymous.get_json()["error"]["code"] == "unauthorized"


def test_logout_needs_the_csrf_token_and_ends_the_session(client, session) -> None:
    editor = auth.create_user(session, "auth-session", "editor")
    form = client.get("/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    assert client.post("/login", data={"name": "auth-session", "token": editor, "csrf_token": csrf}).status_code == 302
    assert client.get("/upload").status_code == 200
    refused = client.post("/logout")
    assert refused.status_code == 403
    assert client.get("/upload").status_code == 200  # still logged in
    page = client.get("/upload").get_data(as_text=True)
    csrf = re.search(r'<meta name="csrf-token" content="([^"]+)">', page).group(1)
    assert client.post("/logout", data={"csrf_token": csrf}).status_code == 302
    assert client.get("/upload").status_code == 302  # to the login page


def test_users_create_twice_is_one_clear_sentence(engine) -> None:
    first = run_cli("users", "create", "auth-cli-twice", "--role", "viewer")
    try:
        assert first.returncode == 0, first.stderr
        again = run_cli("users", "create", "auth-cli-twice", "--role", "editor")
        assert again.returncode == 1
        assert "Traceback" not in again.stderr
        assert "a user named 'auth-cli-twice' already exists" in again.stderr
    finally:
        with engine.begin() as connection:
            connection.execute(text("DELETE FROM users WHERE name = 'auth-cli-twice'"))
