"""The Ministry land-report coordinate text (报备坐标 txt): encodings, zones, plots, holes and errors."""
from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from .data import make_land_reports
from pyproj import Geod

from heshan_map.ingest.crs import CrsSpec
from heshan_map.ingest.landreport import LandReportError, read_land_report

LOGGER = logging.getLogger(__name__)

DATA = Path(__file__).parent / "data"
GEOD = Geod(ellps="WGS84")


# The sample-file generator: its TRUE_PLOTS are the files' true positions.
GENERATOR = make_land_reports


def sample(name: str) -> bytes:
    """Return the bytes of a sample file."""
    return (DATA / name).read_bytes()


def report_bytes(*plot_lines: str, attributes: tuple[str, ...] = GENERATOR.ATTRIBUTES_ZONE_38) -> bytes:
    """Return a UTF-8 report made of the standard attributes and the given [地块坐标] lines."""
    return "\n".join(["[属性描述]", *attributes, "[地块坐标]", *plot_lines, ""]).encode("utf-8")


def errors_of(data: bytes) -> list[tuple[int, str]]:
    """Return the (line, message) errors reading a report raises."""
    with pytest.raises(LandReportError) as caught:
        read_land_report(data)
    return caught.value.errors


def max_vertex_error_m(polygon, true_rings: list[list[tuple[float, float]]]) -> float:
    """Return the largest distance in metres between a polygon's vertices and the true open rings."""
    rings = [polygon.exterior, *polygon.interiors]
    assert len(rings) == len(true_rings)
    worst = 0.0
    for ring, truth in zip(rings, true_rings):
        read = np.asarray(ring.coords)[:-1]
        expected = np.asarray(truth)
        assert read.shape == expected.shape
        distances = GEOD.inv(read[:, 0], read[:, 1], expected[:, 0], expected[:, 1])[2]
        worst = max(worst, float(np.max(distances)))
    return worst


# --- good files ------------------------------------------------------------------------------

def test_gbk_file_reads_two_plots_with_a_hole():
    report = read_land_report(sample("land_report_gbk.txt"))
    assert report.crs == CrsSpec("epsg", 4526)
    assert report.attributes["坐标系"] == "2000国家大地坐标系"
    assert report.attributes["带号"] == "38"
    assert [plot.plot_id for plot in report.plots] == ["1", "2"]
    assert [plot.hole_count for plot in report.plots] == [1, 0]
    first = report.plots[0]
    assert (first.line, first.number_of_points, first.name, first.geometry_type, first.sheet, first.use,
            first.land_class) == (13, 11, "沙坪街道工业地块", "面", "F49G037062", "工业用地", "0601")
    assert report.plots[1].line == 26


def test_gbk_file_areas_are_kept_in_hectares():
    for plot in read_land_report(sample("land_report_gbk.txt")).plots:
        assert plot.area == plot.area_ha
        assert plot.area_ha == pytest.approx(plot.drawn_area_ha, abs=0.0001)
    assert read_land_report(sample("land_report_gbk.txt")).plots[0].area == 9.5842


def test_gbk_file_vertices_are_within_a_metre_of_the_true_positions():
    report = read_land_report(sample("land_report_gbk.txt"))
    for plot, key in zip(report.plots, ["gbk-1", "gbk-2"]):
        error = max_vertex_error_m(plot.polygon_wgs84, GENERATOR.TRUE_PLOTS[key]["rings"])
        LOGGER.info("%s max vertex error %.3f m", key, error)
        assert error < 1.0


def test_projected_polygon_keeps_easting_northing_with_prefix():
    plot = read_land_report(sample("land_report_gbk.txt")).plots[0]
    easting, northing = plot.polygon_projected.exterior.coords[0]
    assert (easting, northing) == (38393037.64, 2519310.20)


def test_utf8_file_without_zone_prefix():
    report = read_land_report(sample("land_report_utf8_noprefix.txt"))
    assert report.crs == CrsSpec("epsg", 4547)
    assert len(report.plots) == 1 and report.plots[0].hole_count == 0
    assert report.plots[0].sheet == ""
    assert max_vertex_error_m(report.plots[0].polygon_wgs84, GENERATOR.TRUE_PLOTS["utf8-1"]["rings"]) < 1.0


def test_utf8_with_bom_and_crlf_reads_the_same():
    data = sample("land_report_utf8_noprefix.txt")
    variant = b"\xef\xbb\xbf" + data.replace(b"\n", b"\r\n")
    plain, with_bom = read_land_report(data), read_land_report(variant)
    assert with_bom.plots[0].polygon_wgs84.equals(plain.plots[0].polygon_wgs84)


def test_gbk_bytes_are_decoded():
    data = sample("land_report_gbk.txt")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    assert read_land_report(data).plots[1].name == "共和镇留用地"


def test_swapped_columns_are_detected():
    lines = GENERATOR.plot_lines("gbk-2", 4526)
    swapped = [lines[0]] + [",".join([*line.split(",")[:2], line.split(",")[3], line.split(",")[2]])
                            for line in lines[1:]]
    report = read_land_report(report_bytes(*swapped))
    assert max_vertex_error_m(report.plots[0].polygon_wgs84, GENERATOR.TRUE_PLOTS["gbk-2"]["rings"]) < 1.0


def test_zone_is_found_from_the_prefix_when_带号_is_missing():
    attributes = tuple(line for line in GENERATOR.ATTRIBUTES_ZONE_38 if not line.startswith("带号"))
    report = read_land_report(report_bytes(*GENERATOR.plot_lines("gbk-2", 4526), attributes=attributes))
    assert report.crs == CrsSpec("epsg", 4526)


def test_six_degree_zone_19():
    attributes = tuple(line.replace("几度分带=3", "几度分带=6").replace("带号=38", "带号=19")
                       for line in GENERATOR.ATTRIBUTES_ZONE_38)
    report = read_land_report(report_bytes(*GENERATOR.plot_lines("gbk-2", 4497), attributes=attributes))
    assert report.crs == CrsSpec("epsg", 4497)
    assert max_vertex_error_m(report.plots[0].polygon_wgs84, GENERATOR.TRUE_PLOTS["gbk-2"]["rings"]) < 1.0


def test_area_in_square_metres_is_recognised():
    lines = GENERATOR.plot_lines("gbk-2", 4526)
    fields = lines[0].split(",")
    fields[1] = f"{float(fields[1]) * 10_000:.1f}"
    plot = read_land_report(report_bytes(",".join(fields), *lines[1:])).plots[0]
    assert plot.area == pytest.approx(72366, abs=1)
    assert plot.area_ha == pytest.approx(7.2366, abs=0.0001)


def test_invalid_polygon_is_kept_as_read():
    lines = GENERATOR.plot_lines("gbk-2", 4526)
    bow_tie = [lines[0], lines[1], lines[3], lines[2], *lines[4:]]  # J2 and J3 swapped: self-crossing
    plot = read_land_report(report_bytes(*bow_tie)).plots[0]
    assert not plot.polygon_projected.is_valid
    assert len(plot.polygon_projected.exterior.coords) == 6


# --- errors ----------------------------------------------------------------------------------

def test_bad_file_reports_both_faults_with_their_lines():
    errors = errors_of(sample("land_report_bad.txt"))
    assert [line for line, _ in errors] == [GENERATOR.BAD_MALFORMED_POINT_LINE,
                                            GENERATOR.BAD_UNCLOSED_RING_LINE] == [16, 30]
    assert "does not parse" in errors[0][1] and "3839x193.5" in errors[0][1]
    assert "not closed" in errors[1][1]


def test_error_carries_first_line_and_is_a_value_error():
    with pytest.raises(ValueError) as caught:
        read_land_report(sample("land_report_bad.txt"))
    assert isinstance(caught.value, LandReportError)
    assert caught.value.line == 16
    assert "line 16" in str(caught.value) and "line 30" in str(caught.value)


def test_missing_plot_section():
    errors = errors_of("[属性描述]\n坐标系=2000国家大地坐标系\n".encode("utf-8"))
    assert errors == [(1, "the file has no [地块坐标] section")]


def test_header_count_not_matching_points():
    lines = GENERATOR.plot_lines("gbk-2", 4526)
    wrong = lines[0].replace("6,", "7,", 1)
    errors = errors_of(report_bytes(wrong, *lines[1:]))
    assert errors == [(13, "plot '2' header says 7 points but 6 point lines follow")]


def test_ring_number_jump():
    lines = GENERATOR.plot_lines("gbk-1", 4526)
    jumped = [line.replace(",2,", ",3,", 1) if index >= 7 else line for index, line in enumerate(lines)]
    errors = errors_of(report_bytes(*jumped))
    assert errors[0][0] == 13 + 7 and "jumps from 1 to 3" in errors[0][1]


def test_ring_with_fewer_than_four_points():
    header = "3,0.1,9,小地块,面,,,,@"
    point_lines = ["J1,1,2505058.02,38376539.03", "J2,1,2505034.05,38376765.03",
                   "J1,1,2505058.02,38376539.03"]
    errors = errors_of(report_bytes(header, *point_lines))
    assert errors == [(14, "ring 1 has 3 points; a closed ring needs at least 4 (the first repeated at the end)")]


def test_point_before_any_header():
    lines = GENERATOR.plot_lines("gbk-2", 4526)
    errors = errors_of(report_bytes(lines[1], *lines))
    assert errors[0][0] == 13 and "before any plot header" in errors[0][1]


@pytest.mark.parametrize("datum, name", [("80西安坐标系", "Xian 1980"), ("1954北京坐标系", "Beijing 1954")])
def test_old_datums_are_refused_clearly(datum, name):
    attributes = tuple(line.replace("2000国家大地坐标系", datum) for line in GENERATOR.ATTRIBUTES_ZONE_38)
    errors = errors_of(report_bytes(*GENERATOR.plot_lines("gbk-2", 4526), attributes=attributes))
    assert len(errors) == 1 and errors[0][0] == 5
    assert name in errors[0][1] and "only CGCS2000" in errors[0][1]


def test_prefix_of_another_zone_than_带号_is_refused():
    lines = GENERATOR.plot_lines("gbk-2", 4526)
    other_zone = [lines[0], *(line.replace(",38", ",37") for line in lines[1:])]
    errors = errors_of(report_bytes(*other_zone))
    assert errors[0][0] == 14 and "do not fall inside Heshan" in errors[0][1]


def test_non_polygon_plot_is_refused():
    lines = GENERATOR.plot_lines("gbk-2", 4526)
    errors = errors_of(report_bytes(lines[0].replace(",面,", ",线,"), *lines[1:]))
    assert errors == [(13, "plot '2' has geometry type '线'; only 面 (polygon) plots are supported")]


def test_all_errors_are_collected_across_plots():
    first = GENERATOR.plot_lines("gbk-1", 4526)
    second = GENERATOR.plot_lines("gbk-2", 4526)
    broken = [first[0].replace("11,", "12,", 1), *first[1:], second[0], *second[1:-1]]
    errors = errors_of(report_bytes(*broken))
    assert [line for line, _ in errors] == [13, 25, 30]
