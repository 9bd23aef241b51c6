"""Write the sample land-report files (报备坐标 txt) from known WGS84 positions inside Heshan.

Run `python tests/data/make_land_reports.py` to regenerate them; tests import TRUE_PLOTS to check
that reading a file gives back these positions.
"""
from __future__ import annotations

import logging
from pathlib import Path

from pyproj import Transformer
from shapely.geometry import Polygon

LOGGER = logging.getLogger(__name__)

HERE = Path(__file__).parent

# True WGS84 (lon, lat) rings, exterior first then holes, open (the closing point is added when written).
TRUE_PLOTS: dict[str, dict] = {
    # 沙坪街道, an industrial plot about 330 m × 270 m with a 60 m × 50 m retained pond as a hole.
    "gbk-1": {
        "header": ("1", "沙坪街道工业地块", "F49G037062", "工业用地", "0601"),
        "rings": [
            [(112.9585, 22.7688), (112.9617, 22.7686), (112.9619, 22.7712), (112.9600, 22.7716),
             (112.9586, 22.7711)],
            [(112.9598, 22.7697), (112.9604, 22.7697), (112.9604, 22.7702), (112.9598, 22.7702)],
        ],
    },
    # 址山镇 / 共和镇 side, south-west of 沙坪 (112.80°E 22.64°N), a plain pentagon.
    "gbk-2": {
        "header": ("2", "共和镇留用地", "F49G038060", "商服用地", "05H1"),
        "rings": [
            [(112.7990, 22.6390), (112.8012, 22.6388), (112.8018, 22.6406), (112.8003, 22.6417),
             (112.7987, 22.6408)],
        ],
    },
    # 雅瑶镇 side (112.93°E 22.70°N), written without the zone prefix.
    "utf8-1": {
        "header": ("A-01", "雅瑶镇产业园地块", "", "工业用地", "0601"),
        "rings": [
            [(112.9290, 22.6995), (112.9315, 22.6994), (112.9316, 22.7013), (112.9291, 22.7014)],
        ],
    },
}

ATTRIBUTES_ZONE_38 = (
    "格式版本号=1.0",
    "数据产生单位=鹤山市自然资源局",
    "数据产生日期=2024-05-20",
    "坐标系=2000国家大地坐标系",
    "几度分带=3",
    "投影类型=高斯克吕格",
    "计量单位=米",
    "带号=38",
    "精度=0.01",
    "转换参数=,,,,,,",
)

# Line numbers (1-based) of the two faults written into land_report_bad.txt.
BAD_MALFORMED_POINT_LINE = 16
BAD_UNCLOSED_RING_LINE = 30


def project_ring(ring: list[tuple[float, float]], epsg: int) -> list[tuple[float, float]]:
    """Return a WGS84 ring as (easting, northing) in an EPSG Gauss-Krüger system, rounded to 1 cm."""
    transformer = Transformer.from_crs(4326, epsg, always_xy=True)
    return [tuple(round(value, 2) for value in transformer.transform(lon, lat)) for lon, lat in ring]


def plot_lines(key: str, epsg: int, close_rings: bool = True, trailing_comma: bool = False) -> list[str]:
    """Return the header and point lines of one plot (X northing, Y easting)."""
    plot = TRUE_PLOTS[key]
    rings = [project_ring(ring, epsg) for ring in plot["rings"]]
    area_ha = Polygon(rings[0], rings[1:]).area / 10_000
    points: list[str] = []
    number = 0
    for ring_number, ring in enumerate(rings, start=1):
        names = []
        for easting, northing in ring:
            number += 1
            names.append(f"J{number}")
            points.append(f"{names[-1]},{ring_number},{northing:.2f},{easting:.2f}")
        if close_rings:
            easting, northing = ring[0]
            points.append(f"{names[0]},{ring_number},{northing:.2f},{easting:.2f}")
    if trailing_comma:
        points = [line + "," for line in points]
    plot_id, name, sheet, use, land_class = plot["header"]
    header = f"{len(points)},{area_ha:.4f},{plot_id},{name},面,{sheet},{use},{land_class},@"
    return [header, *points]


def gbk_report() -> bytes:
    """Return the GB18030, CRLF report with two plots (one with a hole), zone prefix 38."""
    lines = ["[属性描述]", *ATTRIBUTES_ZONE_38, "[地块坐标]",
             *plot_lines("gbk-1", 4526, trailing_comma=True), "", *plot_lines("gbk-2", 4526), ""]
    return "\r\n".join(lines).encode("gb18030")


def utf8_noprefix_report() -> bytes:
    """Return the UTF-8, LF report with one plot whose eastings have no zone prefix."""
    attributes = [line for line in ATTRIBUTES_ZONE_38 if not line.startswith("带号")]
    lines = ["[属性描述]", *attributes, "[地块坐标]", *plot_lines("utf8-1", 4547), ""]
    return "\n".join(lines).encode("utf-8")


def bad_report() -> bytes:
    """Return a UTF-8 (BOM), CRLF report with one malformed point line and one unclosed ring."""
    first = plot_lines("gbk-1", 4526)
    first[3] = first[3].rsplit(",", 1)[0] + ",3839x193.5"  # file line 16: Y is not a number
    second = plot_lines("gbk-2", 4526, close_rings=False)  # file line 30: J5, the ring stays open
    lines = ["[属性描述]", *ATTRIBUTES_ZONE_38, "[地块坐标]", *first, *second, ""]
    text = "\r\n".join(lines)
    assert text.split("\r\n")[BAD_MALFORMED_POINT_LINE - 1] == first[3]
    assert text.split("\r\n")[BAD_UNCLOSED_RING_LINE - 1] == second[-1]
    return b"\xef\xbb\xbf" + text.encode("utf-8")


def write_all() -> None:
    """Write the three sample files beside this script."""
    files = {"land_report_gbk.txt": gbk_report(), "land_report_utf8_noprefix.txt": utf8_noprefix_report(),
             "land_report_bad.txt": bad_report()}
    for name, data in files.items():
        (HERE / name).write_bytes(data)
        LOGGER.info("wrote %s (%d bytes)", name, len(data))


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    write_all()
