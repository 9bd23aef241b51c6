"""The shared vocabulary: kinds, stages and their labels, precisions and towns."""
from __future__ import annotations

KINDS: tuple[str, ...] = ("park", "project", "land_plot", "green_site")
STAGES: tuple[str, ...] = ("planned", "signed", "started", "in_production")  # 谋划、签约、开工、投产
PRECISIONS: tuple[str, ...] = ("surveyed", "point", "approximate", "town", "county")
TOWNS: tuple[str, ...] = (
    "沙坪街道", "龙口镇", "雅瑶镇", "古劳镇", "桃源镇", "鹤城镇", "共和镇", "址山镇", "宅梧镇", "双合镇",
)
EXPORT_FORMATS: tuple[str, ...] = ("geojson", "csv", "xlsx", "gpkg", "kml", "shp.zip")
STAGE_DATE_FIELDS: dict[str, str] = {
    "planned": "planned_on", "signed": "signed_on", "started": "started_on", "in_production": "in_production_on",
}

KIND_LABELS: dict[str, dict[str, str]] = {
    "zh": {"park": "产业园区/平台", "project": "重点项目", "land_plot": "土地整治地块", "green_site": "绿美示范点"},
    "en": {"park": "Industrial park", "project": "Key project", "land_plot": "Land consolidation plot",
           "green_site": "Green-beauty site"},
}

STAGE_LABELS: dict[str, dict[str, dict[str, str]]] = {
    "zh": {
        "project": {"planned": "谋划中", "signed": "已签约", "started": "已动工", "in_production": "已投产"},
        "land_plot": {"planned": "谋划中", "signed": "已立项", "started": "施工中", "in_production": "已完成"},
        "green_site": {"planned": "谋划中", "signed": "已立项", "started": "建设中", "in_production": "已建成"},
        "park": {"planned": "谋划中", "signed": "已获批", "started": "建设中", "in_production": "已运营"},
    },
    "en": {
        "project": {"planned": "Planned", "signed": "Signed", "started": "Started", "in_production": "In production"},
        "land_plot": {"planned": "Planned", "signed": "Approved", "started": "Under works",
                      "in_production": "Completed"},
        "green_site": {"planned": "Planned", "signed": "Approved", "started": "Under construction",
                       "in_production": "Built"},
        "park": {"planned": "Planned", "signed": "Approved", "started": "Under construction",
                 "in_production": "Operating"},
    },
}

PRECISION_LABELS: dict[str, dict[str, str]] = {
    "zh": {"surveyed": "实测", "point": "坐标点", "approximate": "估计位置", "town": "仅知镇街", "county": "位置待定"},
    "en": {"surveyed": "Surveyed", "point": "Picked point", "approximate": "Approximate", "town": "Town only",
           "county": "Place unknown"},
}

STAGE_COLOURS: dict[str, str] = {"planned": "#9467bd", "signed": "#1f77b4", "started": "#ff7f0e", "in_production": "#2ca02c"}


def stage_label(kind: str, stage: str, lang: str = "zh") -> str:
    """Return the label of a stage as it reads for that kind."""
    return STAGE_LABELS.get(lang, STAGE_LABELS["zh"])[kind][stage]


# Words Heshan's sheets use for the stages besides the labels above.
STAGE_SYNONYMS: dict[str, str] = {
    "谋划": "planned", "谋划中": "planned", "储备": "planned", "拟建": "planned", "计划": "planned",
    "规划中": "planned", "已规划": "planned", "前期": "planned", "筹建": "planned", "plan": "planned",
    "签约": "signed", "已签约": "signed", "签约落地": "signed", "立项": "signed", "获批": "signed",
    "动工": "started", "开工": "started", "已开工": "started", "在建": "started", "建设中": "started",
    "施工": "started", "续建": "started", "新开工": "started",
    "投产": "in_production", "已投产": "in_production", "竣工": "in_production", "已竣工": "in_production",
    "建成": "in_production", "完成": "in_production", "运营": "in_production", "竣工投产": "in_production",
    "in production": "in_production", "production": "in_production", "operating": "in_production",
    "completed": "in_production", "built": "in_production", "approved": "signed",
    "under construction": "started", "under works": "started",
}


# Heshan's extent and centre (WGS84 lon/lat; geodata/heshan_boundary.geojson rounded outward), the one definition.
HESHAN_BOUNDS = (112.47, 22.47, 113.05, 22.86)  # west, south, east, north
HESHAN_CENTRE = (112.78, 22.68)  # lon, lat
# Around the county, wide enough for points just over the boundary: where a coordinate reading is plausible.
HESHAN_SEARCH_BOUNDS = (112.40, 22.40, 113.10, 22.95)

def stage_from_label(text: str) -> str | None:
    """Return the stage a label or code names, in any kind's words, or None."""
    value = text.strip()
    if value in STAGES:
        return value
    if value in STAGE_SYNONYMS or value.lower() in STAGE_SYNONYMS:
        return STAGE_SYNONYMS.get(value) or STAGE_SYNONYMS[value.lower()]
    lowered = value.lower().replace(" ", "_").replace("-", "_")
    if lowered in STAGES:
        return lowered
    for lang_labels in STAGE_LABELS.values():
        for labels in lang_labels.values():
            for stage, label in labels.items():
                if value == label or lowered == label.lower().replace(" ", "_"):
                    return stage
    return None
