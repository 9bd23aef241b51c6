"""The reader registry: every format, the land report included, reads through one table of readers."""
from __future__ import annotations

import ast
import io
import logging
import zipfile
from pathlib import Path

import pytest

import heshan_map.ingest
from heshan_map.ingest.crs import CrsSpec
from heshan_map.ingest.landreport import LandReportError, plot_code
from heshan_map.ingest.readers import (LAND_REPORT_DEFAULTS, READERS, TABLE_READERS, FileDefaults, NotATable,
                                       read_file, read_table)
from heshan_map.ingest.safety import Limits, UnsafeFile
from heshan_map.ingest.sniff import FORMAT_BY_SUFFIX

LOGGER = logging.getLogger(__name__)
DATA = Path(__file__).parent / "data"
INGEST = Path(heshan_map.ingest.__file__).parent
PROJECT_COLUMNS = ["项目名称", "经度", "纬度", "状态", "项目代码", "投资额(亿元)", "签约日期"]
PLOT_COLUMNS = ["编号", "名称", "面积", "用途"]
LAND_PLOT_COLUMNS = ["地块号", "地块名称", "面积(公顷)", "用途", "地类编码", "图幅号"]
WGS84 = CrsSpec("epsg", 4326)
# Every sample upload of tests/data: its format, rows, first columns and the coordinate system it names.
SAMPLES = [
    ("projects_utf8.csv", "csv", 3, PROJECT_COLUMNS, None),
    ("projects_utf8_bom.csv", "csv", 3, PROJECT_COLUMNS, None),
    ("projects_gbk.csv", "csv", 3, PROJECT_COLUMNS, None),
    ("projects.xlsx", "xlsx", 2, PROJECT_COLUMNS, None),
    ("plots.geojson", "geojson", 3, PLOT_COLUMNS, WGS84),
    ("green_sites.kml", "kml", 2, ["Name", "Description", "状态", "面积公顷"], WGS84),
    ("plots_4547_shp.zip", "shapefile_zip", 3, PLOT_COLUMNS, CrsSpec("epsg", 4547)),
    ("plots_gbk_nocpg_shp.zip", "shapefile_zip", 3, PLOT_COLUMNS, WGS84),
    ("sites.gpkg", "gpkg", 2, ["名称", "类型", "企业数"], WGS84),
    ("land_report_gbk.txt", "land_report", 2, LAND_PLOT_COLUMNS, CrsSpec("epsg", 4526)),
    ("land_report_utf8_noprefix.txt", "land_report", 1, LAND_PLOT_COLUMNS, CrsSpec("epsg", 4547)),
]
FORBIDDEN_IMPORTS = ("heshan_map.storage", "heshan_map.db", "heshan_map.geolocate", "flask")
# Gauss-Kruger on a central meridian no EPSG code has (112.77°E): a .prj no EPSG code matches.
CUSTOM_PRJ = (b'PROJCS["Heshan_local_TM",GEOGCS["GCS_China_Geodetic_Coordinate_System_2000",DATUM["D_China_2000",'
              b'SPHEROID["CGCS2000",6378137.0,298.257222101]],PRIMEM["Greenwich",0.0],UNIT["Degree",'
              b'0.0174532925199433]],PROJECTION["Transverse_Mercator"],PARAMETER["False_Easting",500000.0],'
              b'PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",112.77],PARAMETER["Scale_Factor",1.0],'
              b'PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]')


def with_prj(name: str, prj: bytes) -> bytes:
    """Return a sample zipped Shapefile with its .prj replaced."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(DATA / name) as source, zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for member in source.namelist():
            target.writestr(member, prj if member.endswith(".prj") else source.read(member))
    return buffer.getvalue()


def test_the_registry_has_a_reader_for_every_format_sniffing_names() -> None:
    assert set(READERS) == set(FORMAT_BY_SUFFIX.values())
    assert set(READERS) - set(TABLE_READERS) == {"land_report"}


@pytest.mark.parametrize(("name", "fmt", "rows", "columns", "crs"), SAMPLES, ids=[sample[0] for sample in SAMPLES])
def test_every_sample_reads_through_the_registry(name: str, fmt: str, rows: int, columns: list[str],
                                                 crs: CrsSpec | None) -> None:
    read = read_file((DATA / name).read_bytes(), name, Limits())
    assert read.table.format == fmt
    assert len(read.table.rows) == rows == len(read.table.row_numbers)
    assert read.table.columns[:len(columns)] == columns
    assert read.crs == crs and read.crs_problem is None
    assert read.defaults == (LAND_REPORT_DEFAULTS if fmt == "land_report" else FileDefaults())


def test_a_land_report_reads_as_signed_land_plots_coded_by_file_and_number() -> None:
    read = read_file((DATA / "land_report_gbk.txt").read_bytes(), "项目A.txt")
    assert read.defaults == FileDefaults(kind="land_plot", stage="signed")
    assert [row["地块号"] for row in read.table.rows] == ["项目A.txt#1", "项目A.txt#2"]
    assert all(geometry.geom_type == "Polygon" for geometry in read.table.geometries)
    assert read.table.row_numbers[0] > 1  # the header line of the plot, for errors to name
    # Projected polygons in the report's own CRS (eastings of zone 38 carry the zone prefix).
    assert read.table.geometries[0].bounds[0] > 38_000_000


def test_a_land_report_is_not_a_table_of_its_own() -> None:
    with pytest.raises(NotATable):
        read_table((DATA / "land_report_gbk.txt").read_bytes(), "r.txt")


def test_a_broken_land_report_raises_its_line_numbered_errors() -> None:
    with pytest.raises(LandReportError) as caught:
        read_file((DATA / "land_report_bad.txt").read_bytes(), "land_report_bad.txt")
    assert caught.value.errors and all(line >= 1 for line, _ in caught.value.errors)


@pytest.mark.parametrize("name", ["traversal.zip", "xxe.kml", "not_really.xlsx"])
def test_hostile_samples_are_refused_before_any_reader(name: str) -> None:
    with pytest.raises(UnsafeFile):
        read_file((DATA / name).read_bytes(), name)


def test_a_crs_no_epsg_code_matches_is_reported_not_raised() -> None:
    read = read_file(with_prj("plots_4547_shp.zip", CUSTOM_PRJ), "plots.zip")
    assert read.crs is None and read.table.crs_wkt
    assert "no EPSG code matches" in read.crs_problem


def imported_modules(path: Path) -> set[str]:
    """Return the absolute names of the modules a module under heshan_map/ingest imports."""
    package = "heshan_map.ingest"
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package.rsplit(".", node.level - 1)[0] if node.level else ""
            module = ".".join(part for part in (base, node.module or "") if part)
            names.add(module)
            names.update(f"{module}.{alias.name}" for alias in node.names)
    return names


def test_the_scan_sees_relative_and_absolute_imports(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("import flask\nfrom ..storage import site_reads\nfrom .. import db\nfrom .crs import WGS84\n")
    assert {"flask", "heshan_map.storage.site_reads", "heshan_map.db", "heshan_map.ingest.crs"} <= imported_modules(module)


@pytest.mark.parametrize("path", sorted(INGEST.glob("*.py")), ids=lambda path: path.name)
def test_no_ingest_module_imports_storage_the_database_or_flask(path: Path) -> None:
    forbidden = {name for name in imported_modules(path)
                 if any(name == prefix or name.startswith(prefix + ".") for prefix in FORBIDDEN_IMPORTS)}
    assert not forbidden, f"{path.name} imports {sorted(forbidden)}"


def test_a_land_report_plot_keeps_a_plot_number_that_identifies_it() -> None:
    read = read_file((DATA / "land_report_utf8_noprefix.txt").read_bytes(), "报备/雅瑶.txt")
    assert [row["地块号"] for row in read.table.rows] == ["A-01"]  # its own code, no file name in front
    assert plot_code("4407842024001", "x.txt") == "4407842024001"  # a plot code of digits, too long to be a count
    assert [plot_code(number, "dir/项目B.txt") for number in ("1", "12", "0003")] == [
        "项目B.txt#1", "项目B.txt#12", "项目B.txt#0003"]
    assert plot_code("", "项目B.txt") is None
