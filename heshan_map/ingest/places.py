"""Where a row without coordinates goes: the gazetteer the row checks ask, and the reference they check against."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry


@dataclass(frozen=True)
class Place:
    """A named position and how precisely it places a site inside it."""

    name: str
    point: Point
    precision: str  # "approximate" for parks and villages, "town" for a town seat
    town: str | None


class Gazetteer(Protocol):
    """Finds the place a row's park, village or town names (the service builds one from its database)."""

    def find(self, park: str | None, village: str | None, town: str | None) -> Place | None:
        """Return the most precise place the names give: park, then village, then town."""


@dataclass(frozen=True)
class Reference:
    """What rows are checked against: the gazetteer placing rows by name and the county every site lies in."""

    gazetteer: Gazetteer
    county: BaseGeometry | None  # None: not loaded (an empty database); positions are then not checked


@dataclass
class NamedPlaces:
    """A gazetteer of parks, villages and town seats by name."""

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
