"""The site schema, declared once: every field a site carries and everything each layer needs to know of it.

SQL, upload column matching, the upsert's diff, the REST editable set, export columns, OpenAPI schemas, the
map popups and the site page all read this table. Adding a field is a row here plus an Alembic migration.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .vocabulary import KINDS, PRECISIONS, STAGES

ALL_KINDS = KINDS
ALERT_LEVELS: tuple[str, ...] = ("yellow", "red")  # an alert's levels, the later the more overdue

# How a field is stored, and so how it is selected and written:
#   "column"  a column of sites (written by uploads and edits)
#   "stage"   the date a stage was reached, from the newest stage event (view site_stage_dates)
#   "meta"    a column of sites the service keeps itself (id, timestamps, version)
#   "label"   a label of a vocabulary code, in the reader's language
#   "input"   an upload column that is not stored as such (coordinates, a village to place from)
STORAGES = ("column", "stage", "meta", "label", "input")
# A field's value type: text, number (a numeric column, shown without trailing zeros), date (a partial
# date: year, month or day), timestamp (UTC, ISO 8601), integer, json, geometry (an upload's WKT), boolean.
TYPES = ("text", "number", "date", "timestamp", "integer", "json", "geometry", "boolean")


@dataclass(frozen=True)
class SiteField:
    """One field of a site: its storage, type, labels, upload aliases, export names and who may change it."""

    name: str
    type: str
    storage: str
    label_zh: str
    label_en: str
    kinds: tuple[str, ...] = ALL_KINDS
    sql_type: str | None = None  # the column type in sites, as information_schema spells it
    nullable: bool = True
    aliases: tuple[str, ...] = ()  # upload header names besides the field's own name
    units: tuple[tuple[str, float], ...] = ()  # a header's unit in brackets -> factor to the field's unit
    header_zh: str | None = None  # CSV/XLSX header with headers=zh; None: not exported
    shapefile: str | None = None  # DBF field name (at most 10 characters) when not the field's own name
    editable: bool = False  # editors may set it through the REST API (and uploads)
    compared: bool = False  # an upload compares it to tell updated from unchanged, and records its change
    keeps_when_empty: bool = False  # an upload or edit that leaves it empty keeps the stored value
    exported: bool = True  # a column of CSV, XLSX, GeoPackage, Shapefile and KML
    shown: str = ""  # "both": a row of the map popup and the site page; "page": of the site page only
    json_enum: tuple[str, ...] | None = None  # the OpenAPI enum of a vocabulary code
    cap: str | None = None  # the input limit capping its text (config.LIMIT_DEFAULTS)
    low: float | None = None  # the accepted range of a number
    high: float | None = None
    unit_label: tuple[str, str] = ("", "")  # Chinese, English, as a range message names the unit
    stage: str | None = None  # the stage whose date a "stage" field holds
    label_of: str | None = None  # the code a "label" field labels
    computed: bool = False  # a "label" field worked out from the stage dates and the alert rules, not a code's label

    @property
    def export_header(self) -> str:
        """Return the English export header (the field's name)."""
        return self.name

    @property
    def shapefile_name(self) -> str:
        """Return the Shapefile (DBF) field name, at most 10 characters."""
        return self.shapefile or self.name

    def json_schema(self) -> dict[str, Any]:
        """Return the OpenAPI 3.0 schema of the field's value in a Feature's properties."""
        schema: dict[str, Any] = {"type": JSON_TYPES[self.type]}
        if self.type == "timestamp":
            schema["format"] = "date-time"
        if self.json_enum:
            schema["enum"] = list(self.json_enum)
        if self.nullable:
            schema["nullable"] = True
        schema["description"] = f"{self.label_zh} / {self.label_en}"
        return schema


JSON_TYPES = {"text": "string", "number": "number", "date": "string", "timestamp": "string",
              "integer": "integer", "json": "object", "geometry": "string", "boolean": "boolean"}
NAME_CAP, CODE_CAP, TEXT_CAP = "MAX_NAME_CHARS", "MAX_CODE_CHARS", "MAX_TEXT_CHARS"

# Every field of a site, in the order properties and export columns appear.
FIELDS: tuple[SiteField, ...] = (
    SiteField("id", "integer", "meta", "要素ID", "Feature id", nullable=False, sql_type="bigint",
              header_zh="要素ID"),
    SiteField("code", "text", "column", "代码", "Code", sql_type="text", cap=CODE_CAP, editable=True,
              aliases=("代码", "项目代码", "编号", "项目编号", "地块编号", "地块号"), header_zh="代码", shown="page"),
    SiteField("kind", "text", "column", "类型", "Kind", nullable=False, sql_type="character varying",
              aliases=("类型", "类别"), header_zh="类型代码", editable=True, compared=True, json_enum=KINDS,
              cap=NAME_CAP),
    SiteField("kind_label", "text", "label", "类型", "Kind", nullable=False, header_zh="类型", label_of="kind",
              shown="both"),
    SiteField("name", "text", "column", "名称", "Name", nullable=False, sql_type="text", cap=NAME_CAP,
              aliases=("名称", "项目名称", "地块名称", "站点名称", "示范点名称", "园区名称"), header_zh="名称",
              editable=True, compared=True),
    SiteField("name_en", "text", "column", "英文名称", "English name", sql_type="text", cap=NAME_CAP,
              aliases=("英文名称", "english_name"), header_zh="英文名称", editable=True, compared=True,
              keeps_when_empty=True),
    SiteField("stage", "text", "column", "阶段", "Stage", nullable=False, sql_type="character varying",
              aliases=("状态", "阶段", "项目状态", "进度", "建设状态"), header_zh="阶段代码", editable=True,
              compared=True, json_enum=STAGES, cap=NAME_CAP),
    SiteField("stage_label", "text", "label", "阶段", "Stage", nullable=False, header_zh="阶段", label_of="stage",
              shown="both", shapefile="stage_lbl"),
    SiteField("planned_on", "date", "stage", "谋划日期", "Planned", stage="planned", cap=CODE_CAP,
              aliases=("谋划日期", "谋划时间", "储备日期", "计划日期", "入库日期", "规划日期"), header_zh="谋划日期",
              editable=True, shown="both"),
    SiteField("signed_on", "date", "stage", "签约/立项日期", "Signed / approved", stage="signed", cap=CODE_CAP,
              aliases=("签约日期", "签约时间", "立项日期", "获批日期"), header_zh="签约日期",
              editable=True, shown="both"),
    SiteField("started_on", "date", "stage", "动工日期", "Started", stage="started", cap=CODE_CAP,
              aliases=("动工日期", "开工日期", "动工时间", "开工时间"), header_zh="动工日期", editable=True,
              shown="both"),
    SiteField("in_production_on", "date", "stage", "投产/完成日期", "In production / completed",
              stage="in_production", cap=CODE_CAP, shapefile="prod_on",
              aliases=("投产日期", "投产时间", "竣工日期", "建成日期", "完成日期"), header_zh="投产日期",
              editable=True, shown="both"),
    SiteField("town", "text", "column", "镇街", "Town", sql_type="text", cap=NAME_CAP,
              aliases=("镇街", "镇", "所在镇街", "镇（街）", "所属镇街"), header_zh="镇街", editable=True,
              compared=True, keeps_when_empty=True, shown="both"),
    SiteField("park", "text", "column", "园区", "Park", sql_type="text", cap=NAME_CAP,
              aliases=("园区", "所在园区", "所属园区"), header_zh="园区", editable=True, compared=True,
              keeps_when_empty=True, shown="both"),
    SiteField("investment_cny_100m", "number", "column", "投资额（亿元）", "Investment (100M CNY)",
              sql_type="numeric", aliases=("investment", "投资额", "总投资", "计划总投资", "投资"),
              units=(("亿元", 1.0), ("亿", 1.0), ("万元", 1e-4), ("万", 1e-4), ("元", 1e-8),
                     ("100m_cny", 1.0), ("cny_100m", 1.0)),
              header_zh="投资额(亿元)", shapefile="invest_cny", editable=True, compared=True,
              keeps_when_empty=True, shown="both", cap=CODE_CAP, low=0, high=100_000,
              unit_label=("亿元", "100m CNY")),
    SiteField("industry", "text", "column", "产业", "Industry", sql_type="text", cap=TEXT_CAP,
              aliases=("产业", "行业", "产业类别", "所属行业"), header_zh="产业", editable=True, compared=True,
              keeps_when_empty=True, shown="both"),
    SiteField("area_ha", "number", "column", "面积（公顷）", "Area (ha)", sql_type="numeric",
              aliases=("area", "面积", "用地面积", "占地面积"),
              units=(("公顷", 1.0), ("ha", 1.0), ("hm2", 1.0), ("hm²", 1.0), ("亩", 1 / 15), ("mu", 1 / 15),
                     ("平方米", 1e-4), ("m2", 1e-4), ("m²", 1e-4), ("平方公里", 100.0), ("km2", 100.0),
                     ("km²", 100.0)),
              header_zh="面积(公顷)", editable=True, compared=True, keeps_when_empty=True, shown="both",
              cap=CODE_CAP, low=0, high=200_000, unit_label=("公顷", "ha")),
    SiteField("precision", "text", "column", "位置精度", "Position precision", nullable=False,
              sql_type="character varying", aliases=("位置精度", "精度"), header_zh="位置精度代码",
              editable=True, compared=True, cap=NAME_CAP, json_enum=PRECISIONS),
    SiteField("precision_label", "text", "label", "位置精度", "Position precision", nullable=False,
              header_zh="位置精度", label_of="precision", shown="both", shapefile="prec_label"),
    SiteField("source", "text", "column", "来源", "Source", sql_type="text", cap=TEXT_CAP,
              aliases=("来源", "数据来源"), header_zh="来源", editable=True, compared=True, keeps_when_empty=True,
              shown="both"),
    SiteField("description", "text", "column", "描述", "Description", sql_type="text", cap=TEXT_CAP,
              aliases=("描述", "备注", "说明", "简介", "建设内容"), header_zh="描述", shapefile="descr",
              editable=True, compared=True, keeps_when_empty=True),
    SiteField("attributes", "json", "column", "其他属性", "Other attributes", nullable=False, sql_type="jsonb",
              compared=True, exported=False),
    SiteField("created_at", "timestamp", "meta", "创建时间", "Created", nullable=False,
              sql_type="timestamp with time zone", exported=False),
    SiteField("updated_at", "timestamp", "meta", "更新时间", "Updated", nullable=False,
              sql_type="timestamp with time zone", header_zh="更新时间", shapefile="updated"),
    SiteField("version", "integer", "meta", "版本", "Version", nullable=False, sql_type="integer",
              exported=False),
    # Whether the town and park were derived from the position (true) or given by the owner (false): a derived
    # one is derived again when the towns or parks change; a given one is never overwritten.
    SiteField("town_derived", "boolean", "meta", "镇街由位置推得", "Town derived from the position", nullable=False,
              sql_type="boolean", exported=False),
    SiteField("park_derived", "boolean", "meta", "园区由位置推得", "Park derived from the position", nullable=False,
              sql_type="boolean", exported=False),
    # Read-only, worked out like a label from the stage dates at the day read (as_of, else today) and the alert
    # rules (heshan_map/alerts.py): how long the site has been in its stage and whether that is overdue.
    SiteField("alert", "text", "label", "预警", "Alert", header_zh="预警", json_enum=ALERT_LEVELS, computed=True,
              shown="both"),
    SiteField("days_in_stage", "integer", "label", "本阶段天数", "Days in stage", header_zh="本阶段天数",
              shapefile="days_stage", computed=True, shown="both"),
)

# Upload columns that are not stored as they are: a position, a place to put the site at, a WKT geometry.
INPUT_FIELDS: tuple[SiteField, ...] = (
    SiteField("lon", "number", "input", "经度", "Longitude", aliases=("lng", "long", "longitude", "经度", "x_lon"),
              cap=CODE_CAP),
    SiteField("lat", "number", "input", "纬度", "Latitude", aliases=("latitude", "纬度", "y_lat"), cap=CODE_CAP),
    SiteField("x", "number", "input", "X 坐标", "X", aliases=("x坐标", "横坐标"), cap=CODE_CAP),
    SiteField("y", "number", "input", "Y 坐标", "Y", aliases=("y坐标", "纵坐标"), cap=CODE_CAP),
    SiteField("village", "text", "input", "村", "Village", aliases=("村", "村名", "所在村", "村（社区）"), cap=NAME_CAP),
    SiteField("wkt", "geometry", "input", "几何（WKT）", "Geometry (WKT)", aliases=("geometry_wkt", "几何", "图形wkt")),
)

BY_NAME: dict[str, SiteField] = {field.name: field for field in FIELDS + INPUT_FIELDS}


def fields_where(**conditions: Any) -> tuple[SiteField, ...]:
    """Return the site fields whose attributes equal every condition, in declaration order."""
    return tuple(field for field in FIELDS if all(getattr(field, key) == value for key, value in conditions.items()))


def names(fields: tuple[SiteField, ...]) -> tuple[str, ...]:
    """Return the names of fields."""
    return tuple(field.name for field in fields)


# The sets every layer asks for.
COLUMN_FIELDS = fields_where(storage="column")  # the columns of sites an upload or edit writes
STAGE_FIELDS = fields_where(storage="stage")  # a stage's date, from stage events
STORED_FIELDS = tuple(field for field in FIELDS if field.storage in ("column", "meta"))  # the declared columns of sites
COMPARED = names(fields_where(compared=True))  # what an upload compares and an edit records
KEEPS_WHEN_EMPTY = names(fields_where(keeps_when_empty=True))  # empty in a row: keep the stored value
EDITABLE = names(fields_where(editable=True))  # what the REST API accepts in properties
READ_ONLY = names(tuple(field for field in FIELDS if not field.editable))  # sent back, never written
EXPORTED = tuple(field for field in FIELDS if field.exported)  # export columns, in order
SHOWN = tuple(field for field in FIELDS if field.shown)  # site-page rows
POPUP = tuple(field for field in FIELDS if field.shown == "both")  # popup rows
# What a vector tile carries of each site: what drawing, styling by stage or alert and a hover label need; the
# popup reads the whole feature from /api/features/<id> (the tile's feature id).
TILED = tuple(BY_NAME[name] for name in ("kind", "name", "stage", "precision", "town", "alert"))
STAGE_DATE_FIELD = {field.stage: field.name for field in STAGE_FIELDS}  # stage -> its date field
COMPUTED_FIELDS = fields_where(computed=True)  # alert, days_in_stage: read-only, from stage dates and alert rules
NUMBER_FIELDS = names(tuple(field for field in FIELDS + INPUT_FIELDS if field.type == "number"))
TOTALLED_FIELDS = tuple(field for field in COLUMN_FIELDS if field.type == "number")  # summed by the dashboard


def row_labels(lang: str, fields: tuple[SiteField, ...] = POPUP) -> list[dict[str, str]]:
    """Return the popup (or site-page) rows, each a field name, its label and the stage it dates, in a language."""
    return [{"field": field.name, "label": field.label_zh if lang == "zh" else field.label_en,
             "stage": field.stage or ""} for field in fields]


# Properties a Feature leaves out when empty: a site's other attributes appear only when it has some.
OMITTED_WHEN_EMPTY = ("attributes",)
# The properties every Feature carries (the OpenAPI SiteProperties' required list).
REQUIRED = names(tuple(field for field in FIELDS if not field.nullable and field.name not in OMITTED_WHEN_EMPTY))


def _header_stem(header: str) -> str:
    """Return a header lower-cased without a unit in brackets (投资额(亿元) -> 投资额)."""
    return header.lower().split("(")[0].split("（")[0].strip()


def export_only_headers() -> frozenset[str]:
    """Return the lower-cased export headers, English and Chinese, that name no editable field: an upload skips them.

    They are the headers of the exported fields and the fields the service keeps itself that are neither an
    editable field's name nor one of its aliases (id, kind_label, 类型代码, 更新时间, ...). A label column's Chinese
    header (类型) is an alias of its code field and is read; the code column's (类型代码) is skipped.
    """
    readable = {alias.lower() for field in FIELDS if field.editable for alias in (field.name, *field.aliases)}
    candidates = {field.name for field in EXPORTED + fields_where(storage="meta")}
    candidates |= {field.header_zh for field in EXPORTED if field.header_zh}
    return frozenset(header.lower() for header in candidates if _header_stem(header) not in readable)
# Site-page rows left out when a site has no value; every other shown row then reads "—".
PAGE_ROWS_ONLY_WHEN_SET = ("investment_cny_100m", "area_ha", "industry")
