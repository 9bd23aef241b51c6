"""Say a filter in words, Chinese or English, for the headings of the dashboard and the printed map."""
from __future__ import annotations

import logging

from .vocabulary import KIND_LABELS, PRECISION_LABELS, STAGE_LABELS

LOGGER = logging.getLogger(__name__)
PARAMETER_NAMES = {
    "zh": {"kind": "类型", "stage": "阶段", "town": "镇街", "park": "园区", "q": "名称含", "year": "年份",
           "bbox": "范围", "precision": "位置精度", "datetime": "时间", "as_of": "截至", "reached": "达到阶段",
           "alert": "预警"},
    "en": {"kind": "kind", "stage": "stage", "town": "town", "park": "park", "q": "name has", "year": "year",
           "bbox": "box", "precision": "precision", "datetime": "time", "as_of": "as of", "reached": "reached",
           "alert": "alert"},
}
ALERT_NAMES = {"zh": {"yellow": "黄色", "red": "红色"}, "en": {"yellow": "yellow", "red": "red"}}


def value_text(key: str, value: str, lang: str) -> str:
    """Return one parameter's value in words (stages, kinds, precisions and alerts by their labels)."""
    stages = STAGE_LABELS[lang]["project"]
    words = {"kind": KIND_LABELS[lang], "stage": stages, "precision": PRECISION_LABELS[lang],
             "alert": ALERT_NAMES[lang]}.get(key)
    parts = value.split(",")
    separator = "、" if lang == "zh" else ", "
    if words is not None:
        return separator.join(words.get(part, part) for part in parts)
    if key == "reached":
        pairs = [part.split(":", 1) for part in parts]
        return separator.join(f"{stages.get(stage, stage)} {years}" for stage, years in pairs if years)
    return value


def filter_text(items: list[tuple[str, str]], lang: str, skip: tuple[str, ...] = ()) -> str:
    """Return a filter's parameters as one line of words ('' when it selects everything)."""
    names = PARAMETER_NAMES[lang]
    colon = "：" if lang == "zh" else ": "
    return " · ".join(f"{names.get(key, key)}{colon}{value_text(key, value, lang)}" for key, value in items
                      if key not in skip and key != "lang")
