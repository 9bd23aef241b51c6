"""The seed dataset's invariants, checked on the written files (no database).

`check_sites` and `check_figures` return the list of problems found (empty when the files keep every
rule); the build script and tests/test_seed_data.py both run them.
"""
from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

from shapely.geometry import Point

ROOT = Path(__file__).resolve().parents[1]
PLACES_PATH = ROOT / "geodata" / "heshan_places.geojson"
TOWN_CELLS_PATH = ROOT / "geodata" / "towns_approx.geojson"

KINDS = ("park", "project", "land_plot", "green_site")
STAGES = ("planned", "signed", "started", "in_production")
STAGE_DATES = ("planned_on", "signed_on", "started_on", "in_production_on")
PRECISIONS = ("approximate", "town", "county")
TOWNS = {
    "沙坪街道": "Shaping Subdistrict", "龙口镇": "Longkou Town", "雅瑶镇": "Yayao Town", "古劳镇": "Gulao Town",
    "桃源镇": "Taoyuan Town", "鹤城镇": "Hecheng Town", "共和镇": "Gonghe Town", "址山镇": "Zhishan Town",
    "宅梧镇": "Zhaiwu Town", "双合镇": "Shuanghe Town",
}
PROPERTY_KEYS = (
    "code", "kind", "name", "name_en", "stage", "planned_on", "signed_on", "started_on", "in_production_on",
    "town", "park", "precision", "source", "investment_cny_100m", "industry", "area_ha", "description",
    "attributes",
)
# fields that, when filled, need a quote stating them (or a declaration that they come from outside)
EVIDENCED = ("stage",) + STAGE_DATES + ("town", "park", "investment_cny_100m", "industry", "area_ha")
EVIDENCE_FIELDS = EVIDENCED + ("name",)
CODE_RE = re.compile(r"^HS-(PARK|PROJ|LAND|GREEN)-\d{3}$")
CODE_PREFIX = {"park": "HS-PARK-", "project": "HS-PROJ-", "land_plot": "HS-LAND-", "green_site": "HS-GREEN-"}
DATE_RE = re.compile(r"^\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?)?$")
SOURCE_RE = re.compile(r"^seeds/([^:/]+\.txt): 「(.+)」$")
FIGURE_COLUMNS = ("year", "stage", "kind", "metric", "value", "unit", "source")
METRIC_RE = re.compile(r"^[a-z][a-z0-9_]*$")


def r6(coords):
    """Round nested coordinate sequences to 6 decimals."""
    if isinstance(coords, (int, float)):
        return round(float(coords), 6)
    return [r6(c) for c in coords]


def load_places() -> tuple[dict, dict]:
    """Return ({place name: feature}, {town: seat feature}) from heshan_places.geojson."""
    data = json.loads(PLACES_PATH.read_text(encoding="utf-8"))
    places = {f["properties"]["name"]: f for f in data["features"]}
    seats = {f["properties"]["town"]: f for f in data["features"] if f["properties"]["kind"] == "town_seat"}
    assert set(seats) == set(TOWNS), sorted(seats)
    return places, seats


class Quotes:
    """Verbatim lookup of quotes in the seed documents."""

    def __init__(self, seeds_dir: Path) -> None:
        self.seeds_dir = seeds_dir
        self.texts: dict[str, str] = {}

    def problem(self, line: str) -> tuple[str | None, str | None]:
        """Return (problem, quote) for one `seeds/<file>: 「quote」` line."""
        match = SOURCE_RE.match(line)
        if not match:
            return f"malformed source line {line!r}", None
        fname, quote = match.groups()
        if fname not in self.texts:
            path = self.seeds_dir / fname
            if not path.is_file():
                return f"no seed document {fname}", quote
            self.texts[fname] = path.read_text(encoding="utf-8")
        if quote not in self.texts[fname]:
            return f"quote not verbatim in {fname}: {quote}", quote
        return None, quote


def stage_problems(p: dict) -> list[str]:
    """Return what is wrong with a site's stage and stage dates."""
    if p["stage"] not in STAGES:
        return [f"unknown stage {p['stage']!r}"]
    problems = []
    reached = STAGES.index(p["stage"])
    dates = [p[f] for f in STAGE_DATES]
    for index, (field, value) in enumerate(zip(STAGE_DATES, dates)):
        if value is None:
            continue
        if not (isinstance(value, str) and DATE_RE.match(value)):
            problems.append(f"{field} {value!r} is not YYYY, YYYY-MM or YYYY-MM-DD")
        elif index > reached:
            problems.append(f"{field} given but the stage is only {p['stage']}")
    known = [d for d in dates if isinstance(d, str) and DATE_RE.match(d)]
    for earlier, later in zip(known, known[1:]):
        width = min(len(earlier), len(later))
        if earlier[:width] > later[:width]:
            problems.append(f"stage dates out of order: {earlier} after {later}")
    return problems


def evidence_problems(p: dict, quotes: set[str]) -> list[str]:
    """Return what is wrong with a site's evidence list."""
    attributes = p["attributes"] if isinstance(p["attributes"], dict) else {}
    evidence = attributes.get("evidence") or []
    outside = set(attributes.get("outside_documents") or [])
    problems = []
    stated = set()
    for entry in evidence:
        if entry.get("field") not in EVIDENCE_FIELDS:
            problems.append(f"evidence for unknown field {entry.get('field')!r}")
        if entry.get("quote") not in quotes:
            problems.append(f"evidence quote is not one of the source quotes: {entry.get('quote')}")
        stated.add(entry.get("field"))
    for field in EVIDENCED:
        if p[field] is not None and field not in stated and field not in outside:
            problems.append(f"{field} is filled but no quote states it")
    for field in outside:
        if p[field] is None:
            problems.append(f"{field} declared from outside the documents but empty")
    if outside and "非文件所载" not in p["description"]:
        problems.append("a field comes from outside the documents but the description does not say so")
    if "stage" not in stated:
        problems.append("no quote states the stage")
    return problems


def position_problems(p: dict, g: dict | None, places: dict, seats: dict, boundary) -> list[str]:
    """Return what is wrong with a site's precision, town, park and geometry."""
    precision = p["precision"]
    if precision not in PRECISIONS:
        return [f"unknown precision {precision!r}"]
    if p["town"] is not None and p["town"] not in TOWNS:
        return [f"unknown town {p['town']!r}"]
    if precision == "county":
        return [msg for bad, msg in ((g is not None, "county precision but a geometry"),
                                     (p["town"] is not None, "county precision but a town"),
                                     (p["park"] is not None, "county precision but a park")) if bad]
    if g is None or g.get("type") != "Point":
        return [f"{precision} precision needs a Point (no polygons or lines without a documented outline)"]
    coords = g["coordinates"]
    if precision == "town":
        if p["town"] is None:
            return ["town precision but no town"]
        problems = [] if coords == r6(seats[p["town"]]["geometry"]["coordinates"]) else [
            f"town precision but not at the {p['town']} seat"]
        return problems + (["town precision inside a park"] if p["park"] is not None else [])
    named = [f for f in places.values() if f["properties"]["kind"] != "town_seat"
             and r6(f["geometry"]["coordinates"]) == coords]
    if not named:
        return ["approximate precision but not at a named place of heshan_places.geojson"]
    if p["town"] is not None and all(f["properties"]["town"] != p["town"] for f in named):
        return [f"town {p['town']} is not the town of its place {named[0]['properties']['name']}"]
    return [] if boundary is None or boundary.contains(Point(coords)) else ["position outside the county"]


def town_cells() -> dict:
    """Return {town: shapely cell} of geodata/towns_approx.geojson."""
    from shapely.geometry import shape
    data = json.loads(TOWN_CELLS_PATH.read_text(encoding="utf-8"))
    return {f["properties"]["name"]: shape(f["geometry"]) for f in data["features"]}


def named_place_problems(p: dict, g: dict | None, places: dict, quotes: set) -> list[str]:
    """Return a problem when an approximate site sits at a place neither its quotes nor its park name."""
    if p["precision"] != "approximate" or not g:
        return []
    names = [f["properties"]["name"] for f in places.values() if f["properties"]["kind"] != "town_seat"
             and r6(f["geometry"]["coordinates"]) == g["coordinates"]]
    bases = {name.split(" / ")[0].split(" (")[0] for name in names}
    if any(base in (p["park"], p["name"]) or any(base in str(q) for q in quotes) for base in bases):
        return []
    return [f"approximate at {', '.join(sorted(bases))}, a place none of its quotes names"]


def check_sites(fc: dict, seeds_dir: Path, boundary=None) -> list[str]:
    """Return every broken invariant of the seed FeatureCollection."""
    places, seats = load_places()
    source_quotes = Quotes(seeds_dir)
    problems: list[str] = []
    if fc.get("type") != "FeatureCollection" or "crs" in fc:
        problems.append("not a plain RFC 7946 FeatureCollection")
    features = fc.get("features", [])
    codes = [f["properties"].get("code") for f in features]
    problems += [f"duplicate code {c}" for c in sorted({c for c in codes if codes.count(c) > 1})]
    parks = {f["properties"]["name"] for f in features if f["properties"].get("kind") == "park"}
    cells = town_cells()
    for feature in features:
        p, g = feature["properties"], feature.get("geometry")
        code = p.get("code")
        if tuple(p) != PROPERTY_KEYS:
            problems.append(f"{code}: properties {tuple(p)} are not {PROPERTY_KEYS}")
            continue
        mine: list[str] = []
        if p["kind"] not in KINDS or not CODE_RE.match(code) or not code.startswith(CODE_PREFIX[p["kind"]]):
            mine.append(f"bad kind {p['kind']!r} or code")
        mine += stage_problems(p)
        quotes = set()
        for line in str(p["source"]).split("\n"):
            problem, quote = source_quotes.problem(line)
            mine += [problem] if problem else []
            quotes.add(quote)
        mine += evidence_problems(p, quotes)
        mine += position_problems(p, g, places, seats, boundary)
        mine += named_place_problems(p, g, places, quotes)
        if p["town"] in cells and g and g.get("type") == "Point" and not cells[p["town"]].contains(
                Point(g["coordinates"])):
            mine.append(f"claims {p['town']} but its point is outside that town's cell in towns_approx.geojson")
        if p["park"] is not None and (p["park"] not in parks or p["park"] == p["name"]):
            mine.append(f"park {p['park']!r} is not another park of the dataset")
        for key in ("investment_cny_100m", "area_ha"):
            if p[key] is not None and not (isinstance(p[key], (int, float)) and p[key] > 0):
                mine.append(f"{key} must be a positive number")
        problems += [f"{code}: {m}" for m in mine]
    return problems


def check_figures(text: str, seeds_dir: Path) -> list[str]:
    """Return every broken rule of reported_figures.csv."""
    rows = list(csv.reader(io.StringIO(text)))
    if not rows or tuple(rows[0]) != FIGURE_COLUMNS:
        return [f"reported_figures.csv header is not {','.join(FIGURE_COLUMNS)}"]
    quotes = Quotes(seeds_dir)
    problems = []
    seen = set()
    for number, row in enumerate(rows[1:], start=2):
        record = dict(zip(FIGURE_COLUMNS, row))
        label = f"reported_figures.csv line {number}"
        if len(row) != len(FIGURE_COLUMNS):
            problems.append(f"{label}: {len(row)} columns")
            continue
        problem, quote = quotes.problem(record["source"])
        checks = [
            (problem is not None, problem),
            (not re.fullmatch(r"\d{4}", record["year"]), "year is not YYYY"),
            (record["stage"] not in ("",) + STAGES, f"unknown stage {record['stage']!r}"),
            (record["kind"] not in ("",) + KINDS, f"unknown kind {record['kind']!r}"),
            (not METRIC_RE.match(record["metric"]), "metric is not snake_case"),
            ((record["year"], record["metric"]) in seen, "duplicate year and metric"),
            (quote is not None and record["value"] not in quote, f"value {record['value']} not written in its quote"),
            (not record["unit"], "no unit"),
        ]
        problems += [f"{label}: {msg}" for bad, msg in checks if bad]
        seen.add((record["year"], record["metric"]))
    return problems
