"""Uploads: read a file, validate every row, and write all of it in one transaction or nothing."""
from __future__ import annotations

import dataclasses
import hashlib
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Callable

from shapely import wkb
from shapely.geometry import mapping
from sqlalchemy.orm import Session

from .dates import today_in_heshan
from .errors import InvalidParameter, ServiceError
from .geolocate import load_gazetteer
from .ingest.bounds import default_limits, input_limits
from .ingest.cells import json_safe
from .ingest.checks import Options, Validation
from .ingest.crs import CrsError, CrsSpec, parse_crs
from .ingest.landreport import LandReportError
from .ingest.places import Reference
from .ingest.readers import read_file
from .ingest.safety import Limits, OverBudget, UnsafeFile
from .ingest.table import RawTable
from .ingest.validate import validate_table
from .records import SiteRecord
from .storage import areas as area_store
from .storage import site_writes
from .storage import uploads as upload_store
from .vocabulary import KINDS, STAGES

LOGGER = logging.getLogger(__name__)
PREVIEW_LIMIT = 5000
Progress = Callable[[str, int, int], None]


@dataclass
class UploadRequest:
    """What an editor sent: the file and how to read it."""

    data: bytes
    filename: str
    user: str | None
    kind: str | None = None
    crs: str | None = None
    stage: str | None = None
    dry_run: bool = False
    repair: bool = False
    limits: Limits = field(default_factory=Limits)
    input_limits: dict[str, int] = field(default_factory=default_limits)  # bounds.INPUT_LIMITS by name


def check_filename(filename: str) -> None:
    """Refuse a file name with a NUL, another control character or a lone surrogate (400)."""
    if any(ord(char) < 32 or 127 <= ord(char) <= 159 or 0xD800 <= ord(char) <= 0xDFFF for char in filename):
        raise InvalidParameter("file", "the file name holds a NUL, a control character or an invalid (surrogate) "
                                       "character; rename the file / 文件名含有空字符、控制字符或无效字符，请重命名")


def limits_from_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """Return an UploadRequest's limits set in a config: reading (rows, columns, vertices, budget) and values."""
    reading = Limits(max_features=int(config["MAX_UPLOAD_ROWS"]), max_columns=int(config["MAX_UPLOAD_COLUMNS"]),
                     max_vertices=int(config["MAX_FILE_VERTICES"]), budget_s=float(config["UPLOAD_BUDGET_S"]))
    return {"limits": reading, "input_limits": input_limits(config)}


def with_deadline(limits: Limits) -> Limits:
    """Return the limits with the wall-clock deadline of an upload starting now."""
    return dataclasses.replace(limits, deadline=time.monotonic() + limits.budget_s)


def check_budget(limits: Limits) -> None:
    """Raise a 413 ServiceError naming UPLOAD_BUDGET_S once the upload's budget is spent."""
    try:
        limits.check_budget()
    except OverBudget as error:
        raise ServiceError(error.message, code="upload_budget_exceeded") from None


@dataclass
class UploadOutcome:
    """Whether an upload was accepted (no row has an error) and its JSON report; the caller commits it."""

    accepted: bool
    report: dict[str, Any]


def parse_options(request: UploadRequest) -> Options:
    """Check the upload's kind and crs parameters."""
    if request.kind and request.kind not in KINDS:
        raise InvalidParameter("kind", f"unknown value '{request.kind}'; expected one of {', '.join(KINDS)}")
    try:
        crs = parse_crs(request.crs)
    except CrsError as error:
        raise InvalidParameter("crs", str(error)) from None
    if request.stage and request.stage not in STAGES:
        raise InvalidParameter("stage", f"unknown value '{request.stage}'; expected one of {', '.join(STAGES)}")
    return Options(kind=request.kind or None, crs=crs, repair=request.repair, default_stage=request.stage or None,
                   limits=request.input_limits)


def read_upload(request: UploadRequest, options: Options) -> tuple[RawTable, CrsSpec | None]:
    """Read the file into a table and its own CRS, taking its format's defaults; ServiceError when it cannot be."""
    try:
        read = read_file(request.data, request.filename, request.limits)
    except OverBudget as error:
        raise ServiceError(error.message, code="upload_budget_exceeded") from None
    except UnsafeFile as error:
        raise ServiceError(str(error), code="unsafe_file", reason=error.reason) from None
    except LandReportError as error:
        raise ServiceError("the land-report file has errors", code="invalid_file",
                           details=[{"row": line, "column": None, "message": message}
                                    for line, message in error.errors]) from None
    if read.crs_problem and options.crs is None:
        raise ServiceError(f"the file's coordinate system cannot be used ({read.crs_problem}); "
                           "give it with the crs parameter", code="invalid_crs")
    options.format_kind = read.defaults.kind  # rows that name no kind take it unless the upload gives one
    options.default_stage = options.default_stage or read.defaults.stage
    return read.table, read.crs


def raw_rows_of(table: RawTable) -> list[dict[str, Any]]:
    """Return the rows as the user sent them (geometries as WKT in the file's own CRS)."""
    rows = []
    for index, row in enumerate(table.rows):
        raw = {key: json_safe(value) for key, value in row.items()}
        geometry = table.geometries[index] if table.geometries else None
        if geometry is not None:
            raw["_geometry_wkt"] = geometry.wkt
        raw["_row"] = table.row_numbers[index]
        rows.append(raw)
    return rows


def preview_of(validation: Validation) -> dict[str, Any]:
    """Return the first rows that passed as a GeoJSON FeatureCollection for the preview map."""
    features = []
    for record in validation.records[:PREVIEW_LIMIT]:  # a site whose place is unknown has no geometry
        geometry = mapping(record.geometry) if record.geometry is not None else None
        features.append({"type": "Feature", "geometry": geometry, "properties": {
            "row": record.row, "name": record.name, "kind": record.kind, "stage": record.stage,
            "code": record.code, "town": record.town, "precision": record.precision}})
    return {"type": "FeatureCollection", "features": features,
            "truncated": len(validation.records) > PREVIEW_LIMIT}


def upsert_and_roll_back(session: Session, records: list[SiteRecord], user: str | None) -> site_writes.UpsertResult:
    """Return what writing the records would do, by writing them in a savepoint that is rolled back."""
    savepoint = session.begin_nested()
    try:
        return site_writes.upsert_sites(session, records, actor=user, default_stage_date=today_in_heshan())
    finally:
        savepoint.rollback()


def load_reference(session: Session) -> Reference:
    """Return what rows are checked against: the gazetteer and the county boundary stored in the database."""
    county = area_store.county_geometry_wkb(session)
    return Reference(load_gazetteer(session), wkb.loads(county) if county else None)


def report_of(request: UploadRequest, table: RawTable, validation: Validation) -> dict[str, Any]:
    """Return the report of a checked upload, before anything is written."""
    return {
        "created": 0, "updated": 0, "unchanged": 0, "errors": validation.errors, "notes": validation.notes,
        "upload_id": None, "dry_run": request.dry_run, "format": table.format, "encoding": table.encoding,
        "crs": validation.crs_used, "rows": len(table.rows), "valid_rows": len(validation.records),
        "unknown_columns": validation.unknown_columns, "warnings": table.warnings,
        "kind_assumed": validation.kind_assumed,
        "sha256": hashlib.sha256(request.data).hexdigest(),
    }


def write_upload(session: Session, request: UploadRequest, table: RawTable, validation: Validation,
                 report: dict[str, Any]) -> None:
    """Record the upload and write its sites in the session's transaction, filling in the report's counts."""
    upload_id = upload_store.insert_upload(
        session, user_name=request.user, filename=request.filename, sha256=report["sha256"],
        file_format=table.format, crs_given=request.crs, crs_used=validation.crs_used, kind_given=request.kind,
        encoding=table.encoding, raw_rows=raw_rows_of(table), content=request.data)
    result = site_writes.upsert_sites(session, validation.records, actor=request.user, upload_id=upload_id,
                                      default_stage_date=today_in_heshan(),
                                      default_source=f"上传 upload #{upload_id}: {request.filename}")
    report.update(created=result.created, updated=result.updated, unchanged=result.unchanged, upload_id=upload_id)
    report["sites"] = [{"row": row, "action": action, "id": site_id}
                       for row, (action, site_id) in sorted(result.actions.items())][:PREVIEW_LIMIT]
    upload_store.finish_upload(session, upload_id, result.created, result.updated, result.unchanged,
                               {key: value for key, value in report.items() if key != "sites"}, validation.crs_used)
    LOGGER.info("upload %s by %s: %s created, %s updated, %s unchanged", upload_id, request.user,
                result.created, result.updated, result.unchanged)


def process_upload(session: Session, request: UploadRequest, progress: Progress | None = None) -> UploadOutcome:
    """Validate an upload and, unless it has errors or is a dry run, write it in the session's transaction.

    The caller commits an accepted upload; a dry run writes only in a savepoint it rolls back.
    """
    tick = progress or (lambda step, done, total: None)
    check_filename(request.filename)
    request = dataclasses.replace(request, limits=with_deadline(request.limits))
    options = parse_options(request)
    tick("read", 0, 3)
    check_budget(request.limits)
    table, file_crs = read_upload(request, options)
    check_budget(request.limits)
    tick("validate", 1, 3)
    validation = validate_table(table, options, load_reference(session), file_crs)
    for row, message in site_writes.stage_regressions(session, validation.records).items():
        validation.error(row, "stage", message)  # a stage earlier than one the stored site reached
    check_budget(request.limits)
    report = report_of(request, table, validation)
    if validation.errors:
        report["preview"] = preview_of(validation) if request.dry_run else None
        return UploadOutcome(False, report)
    if request.dry_run:
        result = upsert_and_roll_back(session, validation.records, request.user)
        report.update(created=result.created, updated=result.updated, unchanged=result.unchanged)
        report["preview"] = preview_of(validation)
        return UploadOutcome(True, report)
    tick("write", 2, 3)
    check_budget(request.limits)
    write_upload(session, request, table, validation, report)
    tick("done", 3, 3)
    return UploadOutcome(True, report)
