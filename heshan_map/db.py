"""Database engine and per-request session, migrations; checks that PostGIS is reachable and ready."""
from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from flask import Flask, current_app, g
from sqlalchemy import Engine, create_engine
from sqlalchemy.exc import OperationalError, ProgrammingError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from .errors import DatabaseUnavailable
from .storage import database

LOGGER = logging.getLogger(__name__)
PROJECT_ROOT = Path(__file__).resolve().parent.parent


def make_engine(url: str, limits: Mapping[str, Any] | None = None) -> Engine:
    """Create the engine for a PostgreSQL URL: a bounded wait for a connection, a timeout on every statement."""
    limits = limits or {}
    connect_args: dict[str, Any] = {"connect_timeout": 5}
    settings = {"statement_timeout": limits.get("STATEMENT_TIMEOUT_MS"),
                "lock_timeout": limits.get("WRITE_LOCK_TIMEOUT_MS"),
                "idle_in_transaction_session_timeout": limits.get("IDLE_IN_TRANSACTION_TIMEOUT_MS")}
    options = " ".join(f"-c {name}={int(value)}" for name, value in settings.items() if value)
    if options:
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
    """Return the session of the current request, opening it on first use."""
    if "db_session" not in g:
        g.db_session = current_app.extensions["heshan_sessionmaker"]()
    return g.db_session


def new_session() -> Session:
    """Return a session of its own (a streamed response's), which the caller must close."""
    return current_app.extensions["heshan_sessionmaker"]()


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
    app.extensions["heshan_engine"] = engine
    app.extensions["heshan_sessionmaker"] = factory
    app.teardown_appcontext(close_session)
