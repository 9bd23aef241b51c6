"""The heshan-map commands: serve, db upgrade, seed, users create, import, export (main is in __main__)."""
from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Any, Callable

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext
from gunicorn.app.base import BaseApplication
from sqlalchemy.orm import Session

from . import db, export, logsafe
from .auth import ROLES, create_user
from .errors import ServiceError
from .filters import Filter, check_parks, parse_filter
from .seed import SEED_FILE, seed_database
from .storage import site_reads, site_writes
from .uploads import UploadRequest, limits_from_config, process_upload
from .vocabulary import EXPORT_FORMATS, KINDS, STAGES

LOGGER = logging.getLogger(__name__)


def friendly_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Turn service errors into one-line messages without a traceback."""
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except ServiceError as error:
            raise click.ClickException(error.message) from None
    wrapper.__name__ = command.__name__
    wrapper.__doc__ = command.__doc__
    return wrapper


def engine_checked() -> Any:
    """Return the app's engine after checking the database answers with PostGIS."""
    engine = db.get_engine()
    db.check_database(engine)
    return engine


db_cli = AppGroup("db", help="Database schema commands.")


@db_cli.command("upgrade")
@friendly_errors
def db_upgrade() -> None:
    """Apply all migrations (creates the postgis extension)."""
    db.upgrade_database(db.get_engine())
    click.echo("database is at the latest migration")


@click.command("seed")
@click.option("--file", "path", type=click.Path(exists=True, dir_okay=False), default=None,
              help="seed GeoJSON (default geodata/seed_sites.geojson)")
@click.option("--if-empty", is_flag=True, help="only when the database holds no sites yet (what make run does)")
@with_appcontext
@friendly_errors
def seed_command(path: str | None, if_empty: bool) -> None:
    """Load the county, the towns and the seed sites; running it twice changes nothing."""
    engine = engine_checked()
    with Session(engine) as session:
        existing = site_reads.count_sites(session, Filter())
        if if_empty and existing:
            click.echo(f"the database already holds {existing} sites; seed data not loaded again "
                       "(run `heshan-map seed` to reset the seed sites to the seed file)")
            return
        seed_database(session, Path(path) if path else SEED_FILE, progress=click.echo)
        session.commit()


users_cli = AppGroup("users", help="User and token commands.")


@users_cli.command("create")
@click.argument("name")
@click.option("--role", type=click.Choice(ROLES), required=True)
@friendly_errors
def users_create(name: str, role: str) -> None:
    """Create a user and print its API token, alone on the last line."""
    with Session(engine_checked()) as session:
        token = create_user(session, name, role)
        session.commit()
    click.echo(f"created {role} '{name}'; the API token below is shown only once:")
    click.echo(token)


@click.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--kind", type=click.Choice(KINDS), default=None,
              help="kind of rows without a kind column value (else assumed from the file's headers or format)")
@click.option("--crs", default=None, help="EPSG:<code>, GCJ-02 or BD-09 (default: the file's own, or EPSG:4326)")
@click.option("--stage", type=click.Choice(STAGES), default=None,
              help="stage of rows that give none")
@click.option("--dry-run", is_flag=True, help="check and report; write nothing")
@click.option("--repair", is_flag=True, help="repair invalid polygons (reported)")
@click.option("--user", "user_name", default="cli", show_default=True, help="who the history records")
@click.option("--json", "as_json", is_flag=True, help="print the whole report as JSON")
@with_appcontext
@friendly_errors
def import_command(path: str, kind: str | None, crs: str | None, stage: str | None, dry_run: bool, repair: bool,
                   user_name: str, as_json: bool) -> None:
    """Import a file of sites (CSV, XLSX, GeoJSON, KML, Shapefile zip, GeoPackage, land-report txt)."""
    file = Path(path)
    shown = logsafe.escape_control(file.name)  # a name with a newline must not forge terminal lines
    with Session(engine_checked()) as session, click.progressbar(length=3, label=f"importing {shown}",
                                                                 file=sys.stderr) as bar:
        site_writes.lift_statement_timeout(session)  # the service's per-statement limit is not for the CLI

        def progress(step: str, done: int, total: int) -> None:
            bar.label = f"importing {shown}: {step}"
            bar.update(done - bar.pos)

        outcome = process_upload(session, UploadRequest(
            data=file.read_bytes(), filename=file.name, user=user_name, kind=kind, crs=crs, stage=stage,
            dry_run=dry_run, repair=repair, **limits_from_config(current_app.config)), progress)
        if outcome.accepted:
            session.commit()  # a dry run wrote only in a savepoint it rolled back
    report = outcome.report
    if as_json:
        click.echo(json.dumps({k: v for k, v in report.items() if k not in ("preview", "sites")},
                              ensure_ascii=False, indent=1))
    for note in report["notes"][:50]:
        click.echo(f"row {note['row']}: {note['message']}")
    for error in report["errors"]:
        column = f" [{error['column']}]" if error["column"] else ""
        click.echo(f"row {error['row']}{column}: {error['message']}", err=True)
    if report["errors"]:
        raise click.ClickException(f"{len(report['errors'])} error(s); nothing was written")
    verb = "would be checked (dry run, nothing written)" if dry_run else "written"
    click.echo(f"{report['valid_rows']} rows {verb}: created {report['created']}, updated {report['updated']}, "
               f"unchanged {report['unchanged']}; upload id {report['upload_id']}")


@click.command("export")
@click.option("--format", "fmt", required=True, type=click.Choice(EXPORT_FORMATS))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, writable=True))
@click.option("--kind", default=None, help="comma list: park,project,land_plot,green_site")
@click.option("--stage", default=None, help="comma list: planned,signed,started,in_production")
@click.option("--town", default=None)
@click.option("--park", default=None)
@click.option("--q", default=None, help="text in the name")
@click.option("--year", default=None, help="2024, 2022..2024, 2023..")
@click.option("--bbox", default=None, help="minlon,minlat,maxlon,maxlat")
@click.option("--precision", default=None)
@click.option("--as-of", "as_of", default=None, help="YYYY-MM-DD: the sites as they stood at the end of that day")
@click.option("--reached", default=None, help="STAGE:YEAR or STAGE:Y1..Y2, e.g. signed:2024 (comma list)")
@click.option("--alert", default=None, help="comma list: yellow,red")
@click.option("--lang", default="zh", type=click.Choice(["zh", "en"]))
@click.option("--crs", default=None, help="output CRS for gpkg/shp.zip, e.g. EPSG:4547 or GCJ-02")
@click.option("--chinese-headers", is_flag=True, help="Chinese column headers in csv/xlsx")
@with_appcontext
@friendly_errors
def export_command(fmt: str, output: str, lang: str, crs: str | None, chinese_headers: bool,
                   **filters: str | None) -> None:
    """Export exactly what the filters select, as on the map."""
    selection = parse_filter({key: value for key, value in filters.items() if value})
    request = export.ExportRequest(selection=selection, fmt=fmt, lang=lang, crs=export.parse_export_crs(fmt, crs),
                                   chinese_headers=chinese_headers)
    with Session(engine_checked()) as session:
        site_writes.lift_statement_timeout(session)  # the service's per-statement limit is not for the CLI
        if selection.parks:
            check_parks(selection, site_reads.park_names(session))
        total = site_reads.count_sites(session, selection)
        click.echo(f"exporting {total} sites as {fmt} to {output}", err=True)
        export.write_export(session, request, Path(output))
    click.echo(f"wrote {total} sites to {output}")


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", envvar="PORT", default=5000, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=int)
@with_appcontext
@friendly_errors
def serve_command(host: str, port: int, workers: int) -> None:
    """Serve the map with gunicorn after checking the database."""
    engine_checked().dispose()  # no pooled connection may be inherited by the forked workers
    app = current_app._get_current_object()  # type: ignore[attr-defined]

    class Server(BaseApplication):
        def load_config(self) -> None:
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)
            self.cfg.set("threads", 4)
            self.cfg.set("worker_class", "gthread")
            self.cfg.set("timeout", 300)
            self.cfg.set("accesslog", "-")
            self.cfg.set("logger_class", logsafe.gunicorn_logger_class())

        def load(self) -> Flask:
            return app

    click.echo(f"serving the Heshan map on http://{host}:{port}/")
    Server().run()


def init_app(app: Flask) -> None:
    """Register the commands on the Flask CLI."""
    for command in (db_cli, seed_command, users_cli, import_command, export_command, serve_command):
        app.cli.add_command(command)

