"""The seed dataset: counts, idempotence, refusal of bad records, provenance."""
from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import pytest
from sqlalchemy import text

from heshan_map.seed import SEED_FILE, SeedError, read_geojson, seed_database
from heshan_map.vocabulary import KINDS, STAGES

ROOT = Path(__file__).resolve().parent.parent


def site_count(session) -> int:
    return session.execute(text("SELECT count(*) FROM sites")).scalar_one()


def test_seeding_twice_changes_nothing(session) -> None:
    before = site_count(session)
    events = session.execute(text("SELECT count(*) FROM stage_events")).scalar_one()
    result = seed_database(session)
    assert (result.created, result.updated) == (0, 0)
    assert result.unchanged == before >= 50
    assert site_count(session) == before
    assert session.execute(text("SELECT count(*) FROM stage_events")).scalar_one() == events


ZHAIWU_POINT = {"type": "Point", "coordinates": [112.6000, 22.6388]}  # inside 宅梧镇 of towns_approx.geojson


def write_variant(tmp_path: Path, change) -> Path:
    """Write the seed file with one feature changed by `change`; return its path."""
    collection = copy.deepcopy(read_geojson(SEED_FILE))
    change(collection["features"][3])
    path = tmp_path / "seed.geojson"
    path.write_text(json.dumps(collection, ensure_ascii=False), encoding="utf-8")
    return path


@pytest.mark.parametrize("change, expected", [
    (lambda f: f["properties"].update(stage="finished"), "unknown stage"),
    (lambda f: f.update(geometry={"type": "Polygon", "coordinates": [[[112.8, 22.6], [112.9, 22.7], [112.9, 22.6],
                                                                      [112.8, 22.7], [112.8, 22.6]]]}),
     "invalid geometry"),
    (lambda f: f.update(geometry={"type": "Point", "coordinates": [113.3, 23.1]}), "outside Heshan"),
    (lambda f: (f["properties"].update(precision="town", town=None), f.update(geometry=ZHAIWU_POINT)),
     "precision town without a town"),
    (lambda f: (f["properties"].update(precision="approximate", town="沙坪街道"), f.update(geometry=ZHAIWU_POINT)),
     "claims town 沙坪街道 but its position lies in 宅梧镇"),
    (lambda f: (f["properties"].update(precision="county"), f.update(geometry=ZHAIWU_POINT)),
     'precision county (place unknown) takes "geometry": null'),
    (lambda f: (f["properties"].update(precision="approximate"), f.update(geometry=None)), "no geometry"),
])
def test_bad_record_refuses_everything(session, tmp_path: Path, change, expected: str) -> None:
    session.execute(text("DELETE FROM sites"))
    session.commit()
    path = write_variant(tmp_path, change)
    code = read_geojson(path)["features"][3]["properties"]["code"]
    with pytest.raises(SeedError) as caught:
        seed_database(session, path)
    assert expected in caught.value.message
    assert code in caught.value.message
    assert site_count(session) == 0


def test_a_county_record_is_loaded_without_geometry_and_keeps_its_town(session, tmp_path: Path) -> None:
    path = write_variant(tmp_path, lambda f: (f["properties"].update(precision="county", town="宅梧镇", park=None),
                                              f.update(geometry=None)))
    code = read_geojson(path)["features"][3]["properties"]["code"]
    seed_database(session, path)
    row = session.execute(text("SELECT geom, town, town_derived, park FROM sites WHERE code = :code"),
                          {"code": code}).one()
    assert tuple(row) == (None, "宅梧镇", False, None)


SOURCE_LINE = re.compile(r"^seeds/(\S+\.txt): 「(.+)」$")


def test_every_source_quotes_a_seed_document() -> None:
    # A site may rest on several statements: one line per quote, each verbatim in its document.
    for feature in read_geojson(SEED_FILE)["features"]:
        source = feature["properties"]["source"]
        for line in source.splitlines():
            match = SOURCE_LINE.match(line)
            assert match, source
            document = (ROOT / "seeds" / match.group(1)).read_text(encoding="utf-8")
            assert match.group(2) in document, line


def test_no_seed_position_claims_survey_precision() -> None:
    features = read_geojson(SEED_FILE)["features"]
    assert {f["properties"]["precision"] for f in features} <= {"approximate", "town", "county"}
    assert all(f["geometry"] is None for f in features if f["properties"]["precision"] == "county")


def test_readme_counts_match_the_api(client) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme.split("<!-- seed-counts -->")[1]
    header = re.search(r"^\| kind \|(.+)\|$", table, flags=re.M).group(1)
    columns = [name.strip() for name in header.split("|")]
    assert columns == [*STAGES, "total", "unplaced"], columns
    rows = re.findall(r"^\| `(\w+)` \|(.+)\|$", table, flags=re.M)
    assert [kind for kind, _ in rows] == list(KINDS)
    for kind, cells in rows:
        counts = dict(zip(columns, (int(cell) for cell in cells.split("|"))))
        for stage in STAGES:
            body = client.get(f"/api/features?kind={kind}&stage={stage}&limit=1").get_json()
            assert body["numberMatched"] == counts[stage], (kind, stage)
        assert client.get(f"/api/features?kind={kind}&limit=1").get_json()["numberMatched"] == counts["total"]
        unplaced = client.get(f"/api/features?kind={kind}&precision=county&limit=1").get_json()["numberMatched"]
        assert unplaced == counts["unplaced"], kind
