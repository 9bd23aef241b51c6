"""The migrated schema matches the site declaration: the columns of sites, the stage-date view, the ORM model."""
from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Connection, create_engine, text
from sqlalchemy.engine import make_url

from heshan_map.db import upgrade_database
from heshan_map.storage.database import recreate_database
from heshan_map.models import Site
from heshan_map.sitefields import STAGE_FIELDS, STORED_FIELDS

from .conftest import TEST_URL

# The columns of sites the declaration does not hold: the geometry (none when the place is unknown) and who created the site from what.
UNDECLARED_COLUMNS = {"geom": ("USER-DEFINED", "YES"), "created_by": ("text", "YES"),
                      "created_upload_id": ("bigint", "YES")}


@pytest.fixture(scope="module")
def migrated() -> Iterator[Connection]:
    """Return a connection to a database of its own, only migrated (not seeded, so a bad declaration shows here)."""
    url = make_url(TEST_URL)
    url = url.set(database=f"{url.database}_schema").render_as_string(hide_password=False)
    recreate_database(url)
    engine = create_engine(url)
    upgrade_database(engine)
    with engine.connect() as connection:
        yield connection
    engine.dispose()


def table_columns(connection: Connection, table: str) -> dict[str, tuple[str, str]]:
    """Return the columns of a table or view of the public schema: name -> (data_type, is_nullable)."""
    rows = connection.execute(text(
        "SELECT column_name, data_type, is_nullable FROM information_schema.columns"
        " WHERE table_schema = 'public' AND table_name = :table"), {"table": table})
    return {name: (data_type, nullable) for name, data_type, nullable in rows}


def mismatches(declared: dict[str, tuple[str, str]], actual: dict[str, tuple[str, str]], where: str) -> list[str]:
    """Return one sentence per column the declaration and the database disagree on."""
    problems = []
    for name in sorted(declared.keys() | actual.keys()):
        if name not in actual:
            problems.append(f"{name}: declared {declared[name]} but {where} has no such column")
        elif name not in declared:
            problems.append(f"{name}: {where} has {actual[name]} but sitefields.py does not declare it")
        elif declared[name] != actual[name]:
            problems.append(f"{name}: declared (data_type, is_nullable) = {declared[name]}, {where} has {actual[name]}")
    return problems


def declared_site_columns() -> dict[str, tuple[str, str]]:
    """Return the columns of sites as the declaration (and UNDECLARED_COLUMNS) say they are."""
    declared = {field.name: (field.sql_type or "", "YES" if field.nullable else "NO") for field in STORED_FIELDS}
    return {**declared, **UNDECLARED_COLUMNS}


def test_sites_columns_are_the_declared_ones(migrated) -> None:
    problems = mismatches(declared_site_columns(), table_columns(migrated, "sites"), "table sites")
    assert not problems, "sitefields.py and the migrated table sites disagree:\n" + "\n".join(problems)


def test_stage_dates_view_has_a_date_and_precision_per_stage_field(migrated) -> None:
    declared = {"site_id": ("bigint", "YES")}
    for field in STAGE_FIELDS:
        declared[f"{field.stage}_on"] = ("date", "YES")
        declared[f"{field.stage}_precision"] = ("text", "YES")  # max() of a varchar is text
    problems = mismatches(declared, table_columns(migrated, "site_stage_dates"), "view site_stage_dates")
    assert not problems, "sitefields.STAGE_FIELDS and the view site_stage_dates disagree:\n" + "\n".join(problems)


def test_stage_fields_are_named_after_their_stage() -> None:
    assert [field.name for field in STAGE_FIELDS] == [f"{field.stage}_on" for field in STAGE_FIELDS]


def test_orm_model_has_the_tables_columns(migrated) -> None:
    model = {column.name: "YES" if column.nullable else "NO" for column in Site.__table__.columns}
    table = {name: nullable for name, (_, nullable) in table_columns(migrated, "sites").items()}
    assert model == table
