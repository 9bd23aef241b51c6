"""The shared filter parameters: parsing and refusals."""
from __future__ import annotations

import pytest
from werkzeug.datastructures import MultiDict

from heshan_map.errors import InvalidParameter
from heshan_map.filters import parse_filter, parse_paging


def test_lists_accept_commas_and_repeats() -> None:
    selection = parse_filter(MultiDict([("kind", "park,project"), ("kind", "green_site"), ("stage", "started")]))
    assert selection.kinds == ("park", "project", "green_site")
    assert selection.stages == ("started",)


@pytest.mark.parametrize("args, parameter", [
    ({"stage": "finished"}, "stage"),
    ({"kind": "road"}, "kind"),
    ({"town": "广州"}, "town"),
    ({"bbox": "1,2,3"}, "bbox"),
    ({"bbox": "113,22,112,23"}, "bbox"),
    ({"bbox": "a,b,c,d"}, "bbox"),
    ({"bbox": "nan,22,113,23"}, "bbox"),
    ({"year": "20x4"}, "year"),
    ({"year": "2025..2022"}, "year"),
    ({"precision": "exact"}, "precision"),
    ({"as_of": "2023-02-30"}, "as_of"),
    ({"as_of": "1989-12-31"}, "as_of"),
    ({"reached": "signed:19"}, "reached"),
    ({"reached": "opened:2024"}, "reached"),
    ({"alert": "green"}, "alert"),
])
def test_bad_values_name_the_parameter(args: dict, parameter: str) -> None:
    with pytest.raises(InvalidParameter) as caught:
        parse_filter(MultiDict(args))
    assert caught.value.parameter == parameter
    assert parameter in caught.value.message


def test_year_ranges() -> None:
    assert parse_filter({"year": "2024"}).year_from == 2024
    assert parse_filter({"year": "2024"}).year_to == 2024
    selection = parse_filter({"year": "2023.."})
    assert (selection.year_from, selection.year_to) == (2023, None)
    selection = parse_filter({"year": "..2023"})
    assert (selection.year_from, selection.year_to) == (None, 2023)


def test_filter_round_trips_through_query_items() -> None:
    args = MultiDict([("kind", "project"), ("stage", "signed,started"), ("town", "共和镇"), ("q", "隆基"),
                      ("year", "2022..2024"), ("bbox", "112.5,22.5,113,22.8")])
    selection = parse_filter(args)
    assert parse_filter(MultiDict(selection.query_items())) == selection


@pytest.mark.parametrize("args", [{"limit": "0"}, {"limit": "10001"}, {"limit": "-1"}, {"offset": "x"},
                                  {"limit": "²"}])
def test_paging_refuses_out_of_range(args: dict) -> None:
    with pytest.raises(InvalidParameter):
        parse_paging(args, 1000, 10_000)


def test_time_filters_round_trip_through_query_items() -> None:
    args = MultiDict([("as_of", "2023-06-30"), ("reached", "signed:2024,started:2022..2024"), ("alert", "yellow,red")])
    selection = parse_filter(args)
    assert selection.reached == (("signed", 2024, 2024), ("started", 2022, 2024))
    assert selection.alerts == ("yellow", "red")
    assert parse_filter(MultiDict(selection.query_items())) == selection
