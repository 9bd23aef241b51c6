"""The committed seed files keep the dataset's rules (checked on the files; no database)."""
from __future__ import annotations

import copy
import csv
import json
import re
import sys
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

import build_seed_sites  # noqa: E402
from seed_checks import KINDS, PRECISIONS, STAGES, check_figures, check_sites, load_places  # noqa: E402

SEEDS = ROOT / "seeds"
SITES = json.loads((ROOT / "geodata" / "seed_sites.geojson").read_text(encoding="utf-8"))
FIGURES_TEXT = (ROOT / "geodata" / "reported_figures.csv").read_text(encoding="utf-8")
README = (ROOT / "geodata" / "README.md").read_text(encoding="utf-8")


def by_code(collection: dict, code: str) -> dict:
    return next(f for f in collection["features"] if f["properties"]["code"] == code)


def test_committed_sites_keep_every_invariant() -> None:
    assert check_sites(SITES, SEEDS, build_seed_sites.load_boundary()) == []


def test_committed_file_is_what_the_script_builds() -> None:
    places, seats = load_places()
    built = [build_seed_sites.site_feature(item, places, seats) for item in build_seed_sites.ITEMS]
    assert json.loads(json.dumps(built, ensure_ascii=False)) == SITES["features"]
    assert build_seed_sites.figures_csv() == FIGURES_TEXT


def test_reported_figures_are_quoted_figures() -> None:
    assert check_figures(FIGURES_TEXT, SEEDS) == []
    rows = list(csv.DictReader(FIGURES_TEXT.splitlines()))
    assert len(rows) >= 40
    by_metric = {(r["year"], r["metric"]): r for r in rows}
    assert by_metric[("2024", "projects_over_100m_cny")]["value"] == "107"
    assert by_metric[("2024", "projects_in_production")]["stage"] == "in_production"


MUTATIONS = [
    ("HS-PROJ-004", lambda f: f["properties"].update(source="seeds/000_49ee4d7df686cbb1.txt: 「福建友谊项目108个」"),
     "quote not verbatim"),
    ("HS-PROJ-004", lambda f: f.update(geometry={"type": "Point", "coordinates": [112.9, 22.7]}),
     "county precision but a geometry"),
    ("HS-PROJ-048", lambda f: f.update(geometry={"type": "Point", "coordinates": [112.9, 22.7]}),
     "not at the 龙口镇 seat"),
    ("HS-PROJ-048", lambda f: f["properties"].update(town=None), "town precision but no town"),
    ("HS-PROJ-048", lambda f: f["properties"].update(town="古劳镇"), "outside that town's cell"),
    ("HS-PARK-002", lambda f: f.update(geometry={"type": "Polygon", "coordinates": [[[112.8, 22.6], [112.9, 22.6],
                                                                                     [112.9, 22.7], [112.8, 22.6]]]}),
     "needs a Point"),
    ("HS-GREEN-001", lambda f: f.update(geometry={"type": "Point", "coordinates": [112.91, 22.62]}),
     "not at a named place"),
    ("HS-GREEN-001", lambda f: f.update(geometry={"type": "Point", "coordinates": [113.0, 22.72]}),
     "a place none of its quotes names"),
    ("HS-PROJ-004", lambda f: f["properties"].update(started_on="2024"), "started_on given but the stage is only signed"),
    ("HS-PROJ-002", lambda f: f["properties"].update(signed_on="2025"), "out of order"),
    ("HS-PROJ-004", lambda f: f["properties"].update(investment_cny_100m=3.0), "no quote states it"),
    ("HS-PARK-001", lambda f: f["properties"]["attributes"].pop("outside_documents"), "town is filled but no quote"),
]


@pytest.mark.parametrize("code, change, expected", MUTATIONS)
def test_the_check_refuses_a_broken_site(code: str, change, expected: str) -> None:
    collection = copy.deepcopy(SITES)
    change(by_code(collection, code))
    problems = check_sites(collection, SEEDS)
    assert any(p.startswith(code) and expected in p for p in problems), problems


def test_placed_only_with_evidence_and_town_sites_have_a_town() -> None:
    for feature in SITES["features"]:
        p = feature["properties"]
        if p["precision"] == "town":
            assert p["town"] and feature["geometry"]["type"] == "Point", p["code"]
        if p["precision"] == "county":
            assert feature["geometry"] is None, p["code"]
        if feature["geometry"] is not None:
            assert p["source"].count("「") >= 1 and p["attributes"]["evidence"], p["code"]
    assert not any(f["geometry"] and f["geometry"]["type"] != "Point" for f in SITES["features"])


def test_sites_spread_over_at_least_8_towns_as_the_readme_says() -> None:
    towns = Counter(f["properties"]["town"] for f in SITES["features"] if f["properties"]["town"])
    assert len(towns) >= 8
    assert f"Sites per town ({len(towns)} of 10 towns" in README
    for town, count in towns.items():
        assert f"| {town} | {count} |" in README


def readme_rows(title: str) -> dict[str, list[int]]:
    """Return {row label: numbers} of the README table that follows `title`."""
    table = README.split(title, 1)[1].split("\n\n", 2)[1]
    rows = {}
    for line in table.splitlines()[2:]:
        cells = [c.strip() for c in line.strip("|").split("|")]
        label = re.sub(r"[`*]", "", cells[0]).split(" ")[0]
        rows[label] = [int(c) for c in cells[1:]]
    return rows


def test_readme_tables_match_the_file() -> None:
    props = [f["properties"] for f in SITES["features"]]
    for title, column, values in (("Counts per kind × stage", "stage", STAGES),
                                  ("Counts per kind × precision", "precision", PRECISIONS)):
        rows = readme_rows(title)
        assert set(rows) == set(KINDS) | {"total"}
        for kind in KINDS + ("total",):
            expected = [sum(1 for p in props if p[column] == v and kind in ("total", p["kind"])) for v in values]
            assert rows[kind] == expected + [sum(expected)], (title, kind)
    assert f"{len(props)} sites curated" in README
