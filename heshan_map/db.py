"""Database engines (the primary, and a replica for reads), the per-request session, migrations, PostGIS checks."""
from __future__ import annotations

import logging
import math
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from flask import Flask, Response, current_app, g, has_request_context, request
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import OperationalError, ProgrammingError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session, sessionmaker

from .config import normalise_database_url
from .errors import DatabaseUnavailable
from .replica import READ_METHODS, WROTE_COOKIE, ReplicaRouter, wrote_recently
from .storage import database

LOGGER = logging.getLogger(__name__)
PROJECT_ROOT = Path(__file__).resolve().parent.parent


def make_engine(url: str, limits: Mapping[str, Any] | None = None) -> Engine:
    """Create the engine for a PostgreSQL URL: a bounded wait for a connection, a timeout on every statement."""
    limits = limits or {}
    connect_args: dict[str, Any] = {"connect_timeout": max(1, int(limits.get("CONNECT_TIMEOUT_S", 5)))}
    settings = {"statement_timeout": limits.get("STATEMENT_TIMEOUT_MS"),
                "lock_timeout": limits.get("WRITE_LOCK_TIMEOUT_MS"),
                "idle_in_transaction_session_timeout": limits.get("IDLE_IN_TRANSACTION_TIMEOUT_MS")}
    # JIT off: the planner's cost of a 100k-row export or a county-wide tile passes jit_above_cost, and compiling
    # then took 2.4 s before the first byte, for queries that stream in a few seconds without it.
    options = " ".join(["-c jit=off"] + [f"-c {name}={int(value)}" for name, value in settings.items() if value])
    connect_args["options"] = options
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5,
                         pool_timeout=float(limits.get("POOL_TIMEOUT_S", 30)), connect_args=connect_args)


def postgis_state(engine: Engine) -> tuple[bool, bool]:
    """Return (installed in the database, available to install); one clear sentence if it cannot connect."""
    try:
        with engine.connect() as connection:
            return database.postgis_state(connection)
    except OperationalError as error:
        reason = str(error.orig).strip().splitlines()[0] if error.orig else str(error)
        raise DatabaseUnavailable(
            f"Cannot connect to the database at {engine.url.render_as_string(hide_password=True)} ({reason}); "
            "start PostgreSQL or set DATABASE_URL to a reachable PostGIS database (make run does both).") from None


def check_database(engine: Engine) -> None:
    """Raise DatabaseUnavailable with one clear sentence when the database cannot serve."""
    installed, available = postgis_state(engine)
    if not installed:
        hint = ("run `heshan-map db upgrade`, which creates the postgis extension"
                if available else "install PostGIS (apt-get install postgresql-15-postgis-3) and run "
                "`heshan-map db upgrade`")
        raise DatabaseUnavailable(f"The database at {engine.url.render_as_string(hide_password=True)} "
                                  f"has no PostGIS extension; {hint}.")


def alembic_config(url: str) -> Config:
    """Return the Alembic configuration for the project's migrations."""
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    config.attributes["database_url"] = url
    return config


def upgrade_database(engine: Engine) -> None:
    """Apply every migration to the database, creating PostGIS when it is available."""
    installed, available = postgis_state(engine)
    if not (installed or available):
        check_database(engine)
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        try:
            command.upgrade(config, "head")
        except ProgrammingError as error:
            raise DatabaseUnavailable(f"Migrating failed: {str(error.orig).strip()}") from None


def get_engine() -> Engine:
    """Return the application's engine."""
    return current_app.extensions["heshan_engine"]


def get_session() -> Session:
    """Return the session of the current request, opening it on first use (on the replica when it may read it)."""
    if "db_session" not in g:
        g.db_session = new_session()
    return g.db_session


def new_session() -> Session:
    """Return a session of its own (a streamed response's), which the caller must close; routed as get_session."""
    replica: ReplicaRouter | None = current_app.extensions.get("heshan_replica")
    if replica is not None and may_read_replica() and replica.usable():
        session = current_app.extensions["heshan_read_sessionmaker"]()
        try:
            session.connection()
            return session
        except (OperationalError, PoolTimeout) as error:
            session.close()
            replica.mark_down(error)
    return current_app.extensions["heshan_sessionmaker"]()


def may_read_replica() -> bool:
    """Tell whether this request only reads and its client wrote nothing lately, so a replica may answer it."""
    if not has_request_context() or request.method not in READ_METHODS or g.get("db_read_primary"):
        return False
    return not wrote_recently(request.cookies.get(WROTE_COOKIE), float(current_app.config["READ_AFTER_WRITE_S"]))


def read_primary() -> None:
    """Send the rest of this request's reads to the primary (call before the first get_session)."""
    g.db_read_primary = True


def replica_state() -> dict[str, object] | None:
    """Return whether reads go to the replica and why not, or None when no replica is configured."""
    replica: ReplicaRouter | None = current_app.extensions.get("heshan_replica")
    return None if replica is None else replica.state()


def remember_write(_session: Session) -> None:
    """Note that the current request committed on the primary (a session's after_commit hook)."""
    if has_request_context():
        g.db_wrote = True


def mark_client_as_writer(response: Response) -> Response:
    """After a request that committed, set the cookie that keeps its client's reads on the primary for a while."""
    if g.get("db_wrote") and current_app.extensions.get("heshan_replica") is not None:
        window = float(current_app.config["READ_AFTER_WRITE_S"])
        response.set_cookie(WROTE_COOKIE, f"{time.time():.3f}", max_age=max(1, math.ceil(window)), httponly=True,
                            samesite="Lax", secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")))
    return response


def take_session() -> Session:
    """Return the current request's session, handed over to the caller to close; a new one if none is open."""
    session = g.pop("db_session", None)
    return session if session is not None else new_session()


def rollback_session() -> None:
    """Roll back the current request's session, if one is open; a connection already lost is only logged."""
    session = g.get("db_session")
    if session is not None:
        try:
            session.rollback()
        except SQLAlchemyError as error:
            LOGGER.warning("rollback failed: %s", error.__class__.__name__)


def close_session(_error: BaseException | None = None) -> None:
    """Close the current request's session."""
    session = g.pop("db_session", None)
    if session is not None:
        session.close()


def init_app(app: Flask) -> None:
    """Create the engine and session factory and close sessions after each request."""
    connection = app.config.get("DB_CONNECTION")
    if connection is not None:
        engine = connection.engine
        factory = sessionmaker(bind=connection, join_transaction_mode="create_savepoint",
                               expire_on_commit=False)
    else:
        engine = make_engine(app.config["DATABASE_URL"], app.config)
        factory = sessionmaker(bind=engine, expire_on_commit=False)
    event.listen(factory, "after_commit", remember_write)
    app.extensions["heshan_engine"] = engine
    app.extensions["heshan_sessionmaker"] = factory
    if app.config.get("DATABASE_READ_URL"):
        init_replica(app)
    app.after_request(mark_client_as_writer)
    app.teardown_appcontext(close_session)


def init_replica(app: Flask) -> None:
    """Create the replica's engine, session factory and router from DATABASE_READ_URL."""
    read_engine = make_engine(normalise_database_url(app.config["DATABASE_READ_URL"]),
                              {**app.config, "CONNECT_TIMEOUT_S": app.config["REPLICA_CONNECT_TIMEOUT_S"]})
    app.extensions["heshan_read_engine"] = read_engine
    app.extensions["heshan_read_sessionmaker"] = sessionmaker(bind=read_engine, expire_on_commit=False)
    app.extensions["heshan_replica"] = ReplicaRouter(
        read_engine, float(app.config["REPLICA_MAX_LAG_S"]), float(app.config["REPLICA_CHECK_S"]),
        float(app.config["REPLICA_LOG_INTERVAL_S"]))
