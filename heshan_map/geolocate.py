"""Build the gazetteer that places sites without coordinates: the parks stored and the reference places file."""
from __future__ import annotations

import json
import logging
from pathlib import Path

from shapely.geometry import shape
from sqlalchemy.orm import Session

from .ingest.places import NamedPlaces, Place
from .storage import site_reads
from .vocabulary import TOWNS as TOWN_NAMES

LOGGER = logging.getLogger(__name__)
PLACES_FILE = Path(__file__).resolve().parent.parent / "geodata" / "heshan_places.geojson"


def load_gazetteer(session: Session) -> NamedPlaces:
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
    return NamedPlaces(parks, villages, towns)

