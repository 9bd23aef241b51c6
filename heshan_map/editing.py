"""Create and update single sites from GeoJSON Features through the same checks as uploads."""
from __future__ import annotations

import json
import logging
from typing import Any

from shapely.errors import ShapelyError
from shapely.geometry import shape
from sqlalchemy.orm import Session

from .dates import today_in_heshan
from .errors import ServiceError
from .features import site_properties
from .ingest.bounds import GEOMETRY_TYPES, json_value_problems, shown
from .ingest.cells import KIND_ALIASES
from .ingest.checks import InputRecord, Options
from .ingest.crs import WGS84
from .ingest.rows import check_records
from .sitefields import EDITABLE, KEEPS_WHEN_EMPTY, READ_ONLY
from .storage import site_reads
from .storage import site_writes
from .uploads import load_reference

LOGGER = logging.getLogger(__name__)


def feature_errors(errors: list[dict[str, Any]]) -> ServiceError:
    """Return the 422 of a feature's errors, the first ones in its message and all in its details."""
    shown_errors = "; ".join(error["message"] if error["message"].startswith(f"{error['column']}:")
                             else f"{error['column'] or 'feature'}: {error['message']}" for error in errors[:3])
    more = f" (+{len(errors) - 3} more)" if len(errors) > 3 else ""
    return ServiceError(f"要素有错误 / the feature has errors: {shown_errors}{more}", code="invalid_feature",
                        details=errors)


def read_feature_body(body: Any) -> tuple[dict[str, Any], Any]:
    """Return the properties and the geometry of a (partial) GeoJSON Feature body."""
    if not isinstance(body, dict):
        raise ServiceError("the body must be a JSON object: a (partial) GeoJSON Feature", code="invalid_body")
    properties = body.get("properties") or {}
    if not isinstance(properties, dict):
        raise ServiceError("'properties' must be an object", code="invalid_body")
    unknown = sorted(set(properties) - set(EDITABLE) - set(READ_ONLY))
    if unknown:
        raise ServiceError(f"unknown properties: {', '.join(shown(name) for name in unknown[:20])}",
                           code="invalid_body")
    editable = {key: properties[key] for key in EDITABLE if key in properties}
    problems = json_value_problems(editable)
    if problems:
        raise feature_errors(problems)
    return editable, read_geometry(body.get("geometry"))


def read_geometry(value: Any) -> Any:
    """Return the shapely geometry of a GeoJSON geometry object, or None when there is none."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ServiceError("'geometry' must be a GeoJSON geometry object", code="invalid_body")
    kind = value.get("type")
    allowed = ", ".join(GEOMETRY_TYPES)
    if not isinstance(kind, str) or kind.lower() not in {name.lower() for name in GEOMETRY_TYPES}:
        message = f"几何类型不支持 / geometry type '{shown(str(kind))}' is not allowed; allowed: {allowed}"
        raise ServiceError(message, code="invalid_feature",
                           details=[{"row": None, "column": "geometry", "message": message}])
    try:
        geometry = shape(value)
    except (KeyError, TypeError, ValueError, AttributeError, IndexError, ShapelyError) as error:
        raise ServiceError(f"'geometry' is not a GeoJSON geometry ({shown(str(error))})",
                           code="invalid_body") from None
    if geometry.is_empty:
        raise ServiceError("'geometry' is empty", code="invalid_body")
    return geometry


def save_feature(session: Session, properties: dict[str, Any], geometry: Any, actor: str, limits: dict[str, int],
                 site_id: int | None, clear: tuple[str, ...] = (), expected_version: int | None = None) -> int:
    """Validate one site like an upload row and write it in the session's transaction; return its id.

    Errors are a ServiceError invalid_feature with details. The caller commits.
    """
    validation = check_records([InputRecord(row=1, values=properties, geometry=geometry)], Options(limits=limits),
                               load_reference(session), WGS84)
    if validation.errors:
        raise feature_errors(validation.errors)
    record = validation.records[0]
    record.site_id = site_id
    record.clear = clear
    record.expected_version = expected_version
    result = site_writes.upsert_sites(session, [record], actor=actor, default_stage_date=today_in_heshan(),
                                      default_source=f"API: {actor}")
    return result.actions[1][1]


def create_feature(session: Session, body: Any, actor: str, limits: dict[str, int]) -> int:
    """Create a site from a Feature; refuse a code that is already used."""
    site_writes.lock_site_writes(session)  # held to the commit: a twin request sees this site and gets 409
    properties, geometry = read_feature_body(body)
    code = properties.get("code")
    if code and site_reads.site_id_for_code(session, str(code)) is not None:
        raise ServiceError(f"a site with code '{code}' exists; PATCH it instead", code="conflict")
    if not code and site_reads.site_id_for_kind_and_name(session, str(properties.get("kind")),
                                                         str(properties.get("name", "")).strip()) is not None:
        raise ServiceError("a site of this kind and name exists; PATCH it instead, or give the new one a code",
                           code="conflict")
    return save_feature(session, properties, geometry, actor, limits, None)


def update_feature(session: Session, current: dict[str, Any], body: Any, actor: str, limits: dict[str, int]) -> int:
    """Apply a partial Feature to the site the editor read: absent fields stay, a field sent as null is emptied."""
    site_writes.lock_site_writes(session)  # held to the commit: a twin rename sees this one and gets 409
    patch, geometry = read_feature_body(body)
    code = patch.get("code")
    if code and code != current["code"]:
        other = site_reads.site_id_for_code(session, str(code))
        if other is not None and other != current["id"]:
            raise ServiceError(f"code '{code}' belongs to site {other}", code="conflict")
    clear = tuple(name for name, value in patch.items() if value is None and name in KEEPS_WHEN_EMPTY)
    merged = {key: value for key, value in site_properties(current).items() if key in EDITABLE}
    if geometry is not None:
        merged.pop("town", None)
        merged.pop("park", None)
        merged.pop("precision", None)
    else:
        geometry = shape(json.loads(current["geometry"])) if current["geometry"] is not None else None  # county
    merged.update(patch)
    kind, name = str(merged.get("kind") or "").strip(), str(merged.get("name") or "").strip()
    kind = KIND_ALIASES.get(kind) or KIND_ALIASES.get(kind.lower()) or kind
    renamed = (kind, name) != (current["kind"], (current["name"] or "").strip())
    if renamed and not (code or current["code"]):
        other = site_reads.site_id_for_kind_and_name(session, kind, name)
        if other is not None and other != current["id"]:
            raise ServiceError(f"a site of this kind and name exists (site {other}); give this one another name"
                               " or a code", code="conflict")
    return save_feature(session, merged, geometry, actor, limits, current["id"], clear, current["version"])
