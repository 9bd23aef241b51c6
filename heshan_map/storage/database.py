"""Statements about the database itself: whether PostGIS is there, and dropping and creating a database."""
from __future__ import annotations

import logging

from sqlalchemy import Connection, create_engine, text
from sqlalchemy.engine import make_url

LOGGER = logging.getLogger(__name__)


def postgis_state(connection: Connection) -> tuple[bool, bool]:
    """Return whether the postgis extension is installed in the database, and whether it is available to install."""
    installed, available = connection.execute(text(
        "SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'postgis'),"
        " EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'postgis')")).one()
    return bool(installed), bool(available)


def recreate_database(url: str) -> None:
    """Drop and create the database a URL names (for tests and benchmarks: everything in it is lost)."""
    parsed = make_url(url)
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    name = parsed.database.replace('"', '""')  # an identifier cannot be a bound parameter
    try:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()


def replica_lag_seconds(connection: Connection) -> float:
    """Return how many seconds a replica's replay is behind: 0 when caught up with a live stream or not a replica."""
    in_recovery, streaming, caught_up, since_replay = connection.execute(text(
        "SELECT pg_is_in_recovery(),"
        " EXISTS (SELECT 1 FROM pg_stat_wal_receiver),"
        " pg_last_wal_receive_lsn() IS NOT DISTINCT FROM pg_last_wal_replay_lsn(),"
        " extract(epoch FROM clock_timestamp() - pg_last_xact_replay_timestamp())::float8")).one()
    if not in_recovery or (streaming and caught_up):
        return 0.0
    return float("inf") if since_replay is None else max(0.0, float(since_replay))
