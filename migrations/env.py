"""Alembic environment: migrate the database named by the service configuration."""
from __future__ import annotations

import logging

from alembic import context
from sqlalchemy import create_engine, pool

from heshan_map.config import load_config
from heshan_map.models import Base

LOGGER = logging.getLogger(__name__)
config = context.config
target_metadata = Base.metadata


def database_url() -> str:
    """Return the URL given to Alembic, else the service's configured one."""
    return config.attributes.get("database_url") or str(load_config()["DATABASE_URL"])


def run_migrations_offline() -> None:
    """Emit the migration SQL without a database."""
    context.configure(url=database_url(), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Apply the migrations on a live connection."""
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, target_metadata=target_metadata)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(database_url(), poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
