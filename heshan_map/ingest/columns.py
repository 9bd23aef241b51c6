"""Match upload column headers, Chinese or English, to site fields; read units from brackets."""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass

LOGGER = logging.getLogger(__name__)

# Field -> the header names that mean it (compared after normalise_header).
FIELD_ALIASES: dict[str, tuple[str, ...]] = {
    "name": ("name", "名称", "项目名称", "地块名称", "站点名称", "示范点名称", "园区名称"),
    "name_en": ("name_en", "英文名称", "english_name"),
    "lon": ("lon", "lng", "long", "longitude", "经度", "x_lon"),
    "lat": ("lat", "latitude", "纬度", "y_lat"),
    "x": ("x", "x坐标", "横坐标"),
    "y": ("y", "y坐标", "纵坐标"),
    "stage": ("stage", "状态", "阶段", "项目状态", "进度", "建设状态"),
    "code": ("code", "代码", "项目代码", "编号", "项目编号", "地块编号", "地块号"),
    "town": ("town", "镇街", "镇", "所在镇街", "镇（街）", "所属镇街"),
    "park": ("park", "园区", "所在园区", "所属园区"),
    "village": ("village", "村", "村名", "所在村", "村（社区）"),
    "kind": ("kind", "类型", "类别"),
    "investment_cny_100m": ("investment_cny_100m", "investment", "投资额", "总投资", "计划总投资", "投资"),
    "industry": ("industry", "产业", "行业", "产业类别", "所属行业"),
    "area_ha": ("area_ha", "area", "面积", "用地面积", "占地面积"),
    "signed_on": ("signed_on", "签约日期", "签约时间", "立项日期", "规划日期", "获批日期"),
    "started_on": ("started_on", "动工日期", "开工日期", "动工时间", "开工时间"),
    "in_production_on": ("in_production_on", "投产日期", "投产时间", "竣工日期", "建成日期", "完成日期"),
    "description": ("description", "描述", "备注", "说明", "简介", "建设内容"),
    "source": ("source", "来源", "数据来源"),
    "precision": ("precision", "位置精度", "精度"),
    "wkt": ("wkt", "geometry_wkt", "几何", "图形wkt"),
}
# Columns this service's own CSV/XLSX export adds that are read-only: an export can be edited and
# uploaded again, and these are neither fields nor attributes.
EXPORT_ONLY_HEADERS = frozenset({
    "id", "要素id", "kind_label", "stage_label", "precision_label", "类型代码", "阶段代码", "位置精度代码",
    "updated_at", "更新时间", "created_at", "version",
})

# Units written in brackets after a header, as multipliers to the field's unit (亿元, hectares).
UNIT_FACTORS: dict[str, dict[str, float]] = {
    "investment_cny_100m": {"亿元": 1.0, "亿": 1.0, "万元": 1e-4, "万": 1e-4, "元": 1e-8,
                            "100m_cny": 1.0, "cny_100m": 1.0},
    "area_ha": {"公顷": 1.0, "ha": 1.0, "hm2": 1.0, "hm²": 1.0, "亩": 1 / 15, "mu": 1 / 15,
                "平方米": 1e-4, "m2": 1e-4, "m²": 1e-4, "平方公里": 100.0, "km2": 100.0, "km²": 100.0},
}

_BRACKETS = re.compile(r"^(?P<name>.*?)\s*[(\[（【](?P<unit>[^)\]）】]*)[)\]）】]\s*$")
_ALIAS_INDEX = {alias.lower(): field for field, aliases in FIELD_ALIASES.items() for alias in aliases}


@dataclass(frozen=True)
class ColumnMatch:
    """A header matched to a field, with the factor its unit needs (1 when none)."""

    header: str
    field: str
    factor: float = 1.0


def normalise_header(header: object) -> str:
    """Return a header lower-cased, trimmed, with full-width spaces and BOMs removed."""
    return str(header or "").replace("\ufeff", "").replace("\u3000", " ").strip().lower()


def match_header(header: object) -> ColumnMatch | None:
    """Return the field a header means, with its unit factor, or None for an unknown column."""
    text = normalise_header(header)
    if not text:
        return None
    if text in _ALIAS_INDEX:
        return ColumnMatch(str(header), _ALIAS_INDEX[text])
    bracketed = _BRACKETS.match(text)
    if bracketed:
        field = _ALIAS_INDEX.get(bracketed.group("name").strip())
        if field:
            unit = bracketed.group("unit").strip().replace(" ", "")
            factors = UNIT_FACTORS.get(field)
            if factors is None or unit in factors:
                return ColumnMatch(str(header), field, factors[unit] if factors else 1.0)
            LOGGER.info("header %r: unknown unit %r", header, unit)
            return None
    return None


def match_columns(headers: list[str]) -> tuple[dict[str, ColumnMatch], list[str], list[str]]:
    """Return the matched fields, the unknown headers (kept as attributes) and duplicate-field headers.

    The read-only columns of the service's own exports are skipped.
    """
    matched: dict[str, ColumnMatch] = {}
    unknown: list[str] = []
    duplicates: list[str] = []
    for header in headers:
        if normalise_header(header) in EXPORT_ONLY_HEADERS:
            continue
        match = match_header(header)
        if match is None:
            unknown.append(header)
        elif match.field in matched:
            duplicates.append(header)
        else:
            matched[match.field] = match
    return matched, unknown, duplicates
