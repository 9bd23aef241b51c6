"""The alert rules: how many months a site may stay in a stage before it is flagged yellow, then red."""
from __future__ import annotations

import copy
import json
import logging
import math
import os
from functools import lru_cache
from typing import Any

from .vocabulary import KINDS, STAGES

LOGGER = logging.getLogger(__name__)
LEVELS = ("yellow", "red")
RULE_STAGES = tuple(stage for stage in STAGES if stage != "in_production")  # production is the end of the road

Rules = dict[str, dict[str, dict[str, float]]]

# How long a site may stay in a stage before it is flagged (issue 11): months per kind and stage, yellow then red;
# a stage without red has only a yellow flag, a site in production none. ALERT_RULES (JSON of the same shape)
# overrides single entries: {"project": {"signed": {"yellow": 3, "red": 9}}}.
ALERT_RULE_DEFAULTS: Rules = {
    "project": {"planned": {"yellow": 12}, "signed": {"yellow": 6, "red": 12}, "started": {"yellow": 24, "red": 36}},
    "park": {"planned": {"yellow": 24}, "signed": {"yellow": 12, "red": 24}, "started": {"yellow": 36, "red": 60}},
    "land_plot": {"planned": {"yellow": 12}, "signed": {"yellow": 6, "red": 12},
                  "started": {"yellow": 12, "red": 24}},
    "green_site": {"planned": {"yellow": 6}, "signed": {"yellow": 3, "red": 6}, "started": {"yellow": 6, "red": 12}},
}


class AlertRulesError(ValueError):
    """Alert rules that cannot be used: the message is one sentence naming the bad entry."""


def _checked_months(where: str, value: Any) -> float:
    """Return a rule's months, refusing anything but a positive finite number."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise AlertRulesError(f"ALERT_RULES {where} must be a positive number of months, not {value!r}.")
    return float(value)


def _merge_stage(rules: Rules, kind: str, stage: str, levels: Any) -> None:
    """Merge one kind and stage's override into the rules, checking its levels and their order."""
    if stage not in RULE_STAGES:
        raise AlertRulesError(f"ALERT_RULES {kind}: unknown stage {stage!r}; expected one of {', '.join(RULE_STAGES)}.")
    if not isinstance(levels, dict):
        raise AlertRulesError(f"ALERT_RULES {kind}.{stage} must be an object such as {{\"yellow\": 6, \"red\": 12}}.")
    target = rules[kind].setdefault(stage, {})
    for level, months in levels.items():
        if level not in LEVELS:
            raise AlertRulesError(f"ALERT_RULES {kind}.{stage}: unknown level {level!r}; expected yellow or red.")
        target[level] = _checked_months(f"{kind}.{stage}.{level}", months)
    if "yellow" not in target:
        raise AlertRulesError(f"ALERT_RULES {kind}.{stage} needs a yellow threshold.")
    if target.get("red", math.inf) < target["yellow"]:
        raise AlertRulesError(f"ALERT_RULES {kind}.{stage}: red ({target['red']:g}) comes before yellow "
                              f"({target['yellow']:g}).")


def parse_rules(raw: str | None) -> Rules:
    """Return the default rules with the JSON override merged in; raise AlertRulesError (one sentence) when bad."""
    rules: Rules = copy.deepcopy(ALERT_RULE_DEFAULTS)
    if not raw or not raw.strip():
        return rules
    try:
        override = json.loads(raw)
    except ValueError:
        raise AlertRulesError("ALERT_RULES is not valid JSON.") from None
    if not isinstance(override, dict):
        raise AlertRulesError("ALERT_RULES must be a JSON object of kinds.")
    for kind, stages in override.items():
        if kind not in KINDS:
            raise AlertRulesError(f"ALERT_RULES: unknown kind {kind!r}; expected one of {', '.join(KINDS)}.")
        if not isinstance(stages, dict):
            raise AlertRulesError(f"ALERT_RULES {kind} must be an object of stages.")
        for stage, levels in stages.items():
            _merge_stage(rules, kind, stage, levels)
    return rules


@lru_cache(maxsize=8)
def _rules_of(raw: str | None) -> str:
    """Return the rules of an ALERT_RULES text as JSON text (cached)."""
    return json.dumps(parse_rules(raw))


def active_rules() -> Rules:
    """Return the rules in force: the defaults with ALERT_RULES from the environment merged in."""
    return json.loads(_rules_of(os.environ.get("ALERT_RULES")))


def active_rules_json() -> str:
    """Return the rules in force as JSON text, as the SQL binds them."""
    return _rules_of(os.environ.get("ALERT_RULES"))
