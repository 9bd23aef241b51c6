"""SQL built from the site declaration: the selected columns and a site's Feature properties."""
from __future__ import annotations

import datetime as dt
import json
from typing import Any

from ..alerts import active_rules_json
from ..sitefields import FIELDS, STORED_FIELDS, SiteField, fields_where
from ..vocabulary import STAGES
from ..vocabulary import KIND_LABELS, PRECISION_LABELS, STAGE_LABELS

# Read with each row, unformatted, for the callers that act on stored values (ETag, edits, page budget).
SITE_COLUMNS = ", ".join(f"s.{field.name}" for field in STORED_FIELDS)
LANGS = tuple(KIND_LABELS)  # the languages site properties are built in

# A geometry as it is shown: polygons with counter-clockwise exteriors. ST_ForcePolygonCCW only on polygonal
# geometries, since PostGIS 3.3.2 reverses the vertex order of LineStrings it is given. {0} is the column.
ORIENTED_GEOMETRY = "CASE WHEN ST_Dimension({0}) = 2 THEN ST_ForcePolygonCCW({0}) ELSE {0} END"
SITE_GEOJSON = f"ST_AsGeoJSON({ORIENTED_GEOMETRY.format('s.geom')}, 7)"
UTC_TIMESTAMP = "to_char({0} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"
# How a label field finds its label in the labels parameter: stage labels depend on the kind.
LABEL_LOOKUPS = {"stage": "-> s.kind ->> s.stage"}


# The day alerts are worked out at: the as_of day (:alert_day), else today in China Standard Time.
ALERT_DAY = "COALESCE(CAST(:alert_day AS date), CAST((now() AT TIME ZONE 'Asia/Shanghai') AS date))"
# A stage date counts from the last day of what is known of it: a year from 31 December, a month from its last day.
LAST_DAY = ("CASE {1} WHEN 'year' THEN CAST(date_trunc('year', {0}) + interval '1 year - 1 day' AS date)"
            " WHEN 'month' THEN CAST(date_trunc('month', {0}) + interval '1 month - 1 day' AS date) ELSE {0} END")
# The day a site entered its current stage, from its stage dates `d`.
ENTERED_STAGE = ("CASE s.stage " + " ".join(
    f"WHEN '{stage}' THEN {LAST_DAY.format(f'd.{stage}_on', f'd.{stage}_precision')}" for stage in STAGES) + " END")
DAYS_IN_STAGE = f"GREATEST(0, {ALERT_DAY} - ({ENTERED_STAGE}))"
# A rule's months for the site's kind and stage (NULL when it has none), from the bound :alert_rules.
RULE_MONTHS = "CAST(CAST(:alert_rules AS jsonb) -> s.kind -> s.stage ->> '{0}' AS float8)"
# The day the stage turns a level: its entry day plus the rule's months (NULL without a rule).
LEVEL_DAY = f"CAST(({ENTERED_STAGE}) + {RULE_MONTHS} * interval '1 month' AS date)"
ALERT = (f"CASE WHEN {LEVEL_DAY.format('red')} <= {ALERT_DAY} THEN 'red'"
         f" WHEN {LEVEL_DAY.format('yellow')} <= {ALERT_DAY} THEN 'yellow' END")
DAYS_OVERDUE = f"({ALERT_DAY} - {LEVEL_DAY.format('yellow')})"
COMPUTED_SQL = {"alert": ALERT, "days_in_stage": DAYS_IN_STAGE}


def alert_params(day: dt.date | None) -> dict[str, Any]:
    """Return the bound parameters alerts are worked out with: the rules in force and the day (None: today)."""
    return {"alert_rules": active_rules_json(), "alert_day": day}


def property_labels(lang: str) -> dict[str, Any]:
    """Return one language's labels: kind_labels, stage_labels ({kind: {stage: label}}), precision_labels."""
    return {"kind_labels": KIND_LABELS[lang], "stage_labels": STAGE_LABELS[lang],
            "precision_labels": PRECISION_LABELS[lang]}


def labels_params() -> dict[str, str]:
    """Return the bound labels parameter of every language, as JSON text (labels_zh, labels_en)."""
    return {f"labels_{lang}": json.dumps(property_labels(lang), ensure_ascii=False) for lang in LANGS}


def partial_date_sql(column: str, precision: str) -> str:
    """Return SQL formatting a stored date to the precision it is known to (2024, 2024-05 or 2024-05-01)."""
    return (f"CASE {precision} WHEN 'year' THEN to_char({column}, 'YYYY')"
            f" WHEN 'month' THEN to_char({column}, 'YYYY-MM') ELSE to_char({column}, 'YYYY-MM-DD') END")


def property_sql(field: SiteField, labels: str) -> str:
    """Return the SQL of one property's value; `labels` names the bound labels parameter."""
    if field.computed:
        return COMPUTED_SQL[field.name]
    if field.storage == "label":
        lookup = LABEL_LOOKUPS.get(field.label_of or "", f"->> s.{field.label_of}")
        return f"CAST(:{labels} AS jsonb) -> '{field.label_of}_labels' {lookup}"
    if field.storage == "stage":
        return partial_date_sql(f"d.{field.stage}_on", f"d.{field.stage}_precision")
    column = f"s.{field.name}"
    if field.type == "number":
        return f"{column}::float8"
    if field.type == "timestamp":
        return UTC_TIMESTAMP.format(column)
    return column


# Properties always present, and the json fields that appear only when they hold something (attributes).
ALWAYS_SHOWN = tuple(field for field in FIELDS if field.type != "json")
SHOWN_WHEN_FILLED = fields_where(type="json")


def site_properties_sql(labels: str) -> str:
    """Return SQL building a site's Feature properties over `sites s` and its stage dates `d` (filter_sql).

    Numbers are float8 (no trailing zeros), stage dates formatted to their precision, timestamps UTC ISO 8601
    with microseconds; a json field (attributes) is left out while it is empty.
    """
    pairs = [f"'{field.name}', {property_sql(field, labels)}" for field in ALWAYS_SHOWN]
    if not SHOWN_WHEN_FILLED:
        return f"json_build_object({', '.join(pairs)})"
    empty = " AND ".join(f"(s.{field.name} IS NULL OR s.{field.name} = '{{}}'::jsonb)" for field in SHOWN_WHEN_FILLED)
    filled = pairs + [f"'{field.name}', s.{field.name}" for field in SHOWN_WHEN_FILLED]
    return (f"CASE WHEN {empty} THEN json_build_object({', '.join(pairs)})"
            f" ELSE json_build_object({', '.join(filled)}) END")


def site_row_sql() -> str:
    """Return the select list of a site row: stored columns, GeoJSON geometry, properties per language."""
    properties = ", ".join(f"{site_properties_sql(f'labels_{lang}')} AS properties_{lang}" for lang in LANGS)
    return f"{SITE_COLUMNS}, {SITE_GEOJSON} AS geometry, {properties}"


def feature_text_sql(labels: str) -> str:
    """Return SQL building a site's whole RFC 7946 Feature as JSON text; `labels` names the bound labels parameter."""
    return (f"json_build_object('type', 'Feature', 'id', s.id, 'geometry', {SITE_GEOJSON}::json,"
            f" 'properties', {site_properties_sql(labels)})::text")
