"""Place sites from names (a gazetteer of parks, villages and town seats) when they have no coordinates."""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

from shapely.geometry import Point, shape
from sqlalchemy.orm import Session

from .storage import site_reads
from .vocabulary import TOWNS as TOWN_NAMES

LOGGER = logging.getLogger(__name__)
PLACES_FILE = Path(__file__).resolve().parent.parent / "geodata" / "heshan_places.geojson"


@dataclass(frozen=True)
class Place:
    """A named position and how precisely it places a site inside it."""

    name: str
    point: Point
    precision: str  # "approximate" for parks and villages, "town" for a town seat
    town: str | None


@dataclass
class Gazetteer:
    """Parks, villages and town seats by name."""

    parks: dict[str, Place]
    villages: dict[str, Place]
    towns: dict[str, Place]

    def find(self, park: str | None, village: str | None, town: str | None) -> Place | None:
        """Return the most precise place the names give: park, then village, then town."""
        for name, table in ((park, self.parks), (village, self.villages), (town, self.towns)):
            if name:
                place = lookup(table, name)
                if place:
                    return place
        return None


def lookup(table: dict[str, Place], name: str) -> Place | None:
    """Return the place of a name, exactly or by a unique containment match (鹤城 → 鹤城镇)."""
    key = name.strip()
    if key in table:
        return table[key]
    candidates = [place for known, place in table.items() if key in known or known in key]
    return candidates[0] if len(candidates) == 1 else None


def load_gazetteer(session: Session) -> Gazetteer:
    """Build the gazetteer from the park sites in the database and the reference places file."""
    # A park known only to its town places the sites in it no better than that.
    park_rows = site_reads.select_park_points(session)
    town_only = {row["name"] for row in park_rows if row["precision"] == "town"}
    parks = {row["name"]: Place(row["name"], row["point"], "town" if row["name"] in town_only else "approximate",
                                row["town"])
             for row in park_rows}
    villages: dict[str, Place] = {}
    towns: dict[str, Place] = {}
    with PLACES_FILE.open(encoding="utf-8") as handle:
        for feature in json.load(handle)["features"]:
            props = feature["properties"]
            point = shape(feature["geometry"])
            if props["kind"] == "town_seat":
                towns[props["name"]] = Place(props["name"], point, "town", props["name"])
            elif props["kind"] in ("village", "scenic_area", "park"):
                town = props.get("town") if props.get("town") in TOWN_NAMES else None
                villages[props["name"]] = Place(props["name"], point, "approximate", town)
            elif props["kind"] in ("industrial_park", "logistics_hub"):
                parks.setdefault(props["name"], Place(props["name"], point, "approximate", None))
    return Gazetteer(parks, villages, towns)

