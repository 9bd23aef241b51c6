"""Reading uploads into raw tables, and refusing hostile ones (no database needed)."""
from __future__ import annotations

import codecs
import datetime as dt
import io
import logging
import stat
import tempfile
import zipfile
from pathlib import Path

import pytest
from pyproj import CRS

from heshan_map.views.errors import STATUS_BY_REASON
from heshan_map.ingest.gis import verified_info
from heshan_map.ingest.readers import NotATable, read_table
from heshan_map.ingest.table import RawTable
from heshan_map.ingest.safety import (Limits, UnsafeFile, check_zip, copy_member, extract_zip_safely,
                                      refuse_xml_doctype)
from heshan_map.ingest.sniff import sniff_format

LOGGER = logging.getLogger(__name__)

DATA = Path(__file__).parent / "data"
PROJECT_COLUMNS = ["项目名称", "经度", "纬度", "状态", "项目代码", "投资额(亿元)", "签约日期"]
PLOT_COLUMNS = ["编号", "名称", "面积", "用途"]
PLOT_NAMES = ["共和镇工业地块", "雅瑶镇物流用地", "龙口镇茶园地块"]


def read_sample(name: str, limits: Limits | None = None) -> RawTable:
    """Read one sample file from tests/data."""
    return read_table((DATA / name).read_bytes(), name, limits)


def zip_of(*members: tuple[zipfile.ZipInfo | str, bytes]) -> bytes:
    """Return zip bytes holding the given (name or ZipInfo, content) members."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for info, content in members:
            archive.writestr(info, content)
    return buffer.getvalue()


def assert_refused(data: bytes, filename: str, status: int, words: str, limits: Limits | None = None) -> None:
    """Assert that reading the bytes raises UnsafeFile with the status and a message containing words."""
    with pytest.raises(UnsafeFile) as caught:
        read_table(data, filename, limits)
    assert STATUS_BY_REASON[caught.value.reason] == status
    assert words in caught.value.message


# --- samples read right -----------------------------------------------------------------------

@pytest.mark.parametrize(("name", "encoding"), [
    ("projects_utf8.csv", "utf-8"), ("projects_utf8_bom.csv", "utf-8-sig"), ("projects_gbk.csv", "gb18030")])
def test_csv_samples_keep_chinese_strings_and_honest_row_numbers(name: str, encoding: str) -> None:
    table = read_sample(name)
    assert (table.format, table.encoding, table.columns) == ("csv", encoding, PROJECT_COLUMNS)
    assert table.row_numbers == [2, 4, 5]  # row 3 is blank in the file
    assert table.rows[0]["项目名称"] == "鹤山工业城扩园项目"
    assert table.rows[0]["经度"] == "112.96" and table.rows[0]["投资额(亿元)"] == "12.5"
    assert table.rows[2]["项目名称"] == "址山镇新材料项目，二期"
    assert table.geometries == [None, None, None] and table.crs_wkt is None


@pytest.mark.parametrize("delimiter", [";", "\t", ","])
def test_csv_delimiter_is_sniffed(delimiter: str) -> None:
    text = delimiter.join(["项目名称", "经度", "纬度"]) + "\n" + delimiter.join(["鹤山工业城", "112.96", "22.77"]) + "\n"
    table = read_table(text.encode("utf-8"), "x.csv")
    assert table.columns == ["项目名称", "经度", "纬度"]
    assert table.rows == [{"项目名称": "鹤山工业城", "经度": "112.96", "纬度": "22.77"}]


def test_csv_headers_are_stripped_blank_and_repeated_names_are_made_unique() -> None:
    table = read_table(" 名称 ,,名称\n甲,乙,丙\n".encode("utf-8"), "x.csv")
    assert table.columns == ["名称", "column_2", "名称_2"]
    assert table.rows == [{"名称": "甲", "column_2": "乙", "名称_2": "丙"}]
    assert len(table.warnings) == 2


def test_csv_quoted_newline_counts_as_one_spreadsheet_row() -> None:
    table = read_table('名称,备注\n甲,"两行\n备注"\n乙,无\n'.encode("utf-8"), "x.csv")
    assert table.row_numbers == [2, 3]
    assert table.rows[0]["备注"] == "两行\n备注"


def test_xlsx_keeps_types_skips_blank_rows_and_warns_about_other_sheets() -> None:
    table = read_sample("projects.xlsx")
    assert (table.format, table.columns) == ("xlsx", PROJECT_COLUMNS)
    assert table.row_numbers == [2, 4]
    first = table.rows[0]
    assert first["项目名称"] == "鹤山工业城扩园项目"
    assert first["经度"] == 112.96 and first["投资额(亿元)"] == 12.5
    assert first["签约日期"] == dt.datetime(2023, 5, 18)
    assert any("说明" in warning for warning in table.warnings)


def test_geojson_reads_polygons_in_wgs84() -> None:
    table = read_sample("plots.geojson")
    assert (table.format, table.columns, table.row_numbers) == ("geojson", PLOT_COLUMNS, [1, 2, 3])
    assert [row["名称"] for row in table.rows] == PLOT_NAMES
    assert table.rows[0]["面积"] == 6.8
    assert [geometry.geom_type for geometry in table.geometries] == ["Polygon"] * 3
    assert CRS.from_wkt(table.crs_wkt).to_epsg() == 4326


def test_kml_reads_every_folder_with_extended_data() -> None:
    table = read_sample("green_sites.kml")
    assert table.format == "kml" and table.row_numbers == [1, 2]
    assert table.columns == ["Name", "Description", "状态", "面积公顷"]
    assert [row["Name"] for row in table.rows] == ["古劳水乡绿美示范点", "大雁山林分优化"]
    assert [row["状态"] for row in table.rows] == ["建设中", "已完成"]
    assert table.rows[1]["面积公顷"] is None
    assert table.geometries[0].x == pytest.approx(112.96) and table.geometries[0].y == pytest.approx(22.77)
    assert table.geometries[1].geom_type == "Polygon"
    assert CRS.from_wkt(table.crs_wkt).to_epsg() == 4326


def test_kml_extended_data_of_indistinguishable_placemarks_is_left_empty() -> None:
    placemark = ("<Placemark><name>同名</name><ExtendedData><Data name='状态'><value>{}</value></Data>"
                 "</ExtendedData><Point><coordinates>112.96,22.77</coordinates></Point></Placemark>")
    kml = ('<kml xmlns="http://www.opengis.net/kml/2.2"><Document>' + placemark.format("在建")
           + placemark.format("已完成") + "</Document></kml>")
    table = read_table(kml.encode("utf-8"), "twins.kml")
    assert [row["状态"] for row in table.rows] == [None, None]
    assert any("ExtendedData" in warning for warning in table.warnings)


def test_shapefile_in_4547_keeps_its_own_coordinates_and_prj() -> None:
    table = read_sample("plots_4547_shp.zip")
    assert (table.format, table.columns, table.encoding) == ("shapefile_zip", PLOT_COLUMNS, "utf-8")
    assert [row["名称"] for row in table.rows] == PLOT_NAMES
    assert CRS.from_wkt(table.crs_wkt).to_epsg() == 4547
    x, y = table.geometries[0].centroid.coords[0]
    assert 300_000 < x < 500_000 and 2_400_000 < y < 2_600_000  # metres, not degrees
    assert table.warnings == []


def test_shapefile_without_cpg_falls_back_to_gbk() -> None:
    table = read_sample("plots_gbk_nocpg_shp.zip")
    assert table.columns == PLOT_COLUMNS and table.encoding == "gb18030"
    assert [row["用途"] for row in table.rows] == ["工业用地", "仓储用地", "农用地"]
    assert CRS.from_wkt(table.crs_wkt).to_epsg() == 4326
    assert any(".cpg" in warning for warning in table.warnings)


@pytest.mark.parametrize("cpg", [b"936", b"GBK", b"CP936", b"GB18030"])
def test_shapefile_cpg_naming_a_chinese_code_page_is_honoured(cpg: bytes) -> None:
    with zipfile.ZipFile(DATA / "plots_gbk_nocpg_shp.zip") as archive:
        members = [(info.filename, archive.read(info)) for info in archive.infolist()]
    table = read_table(zip_of(*members, ("plots.cpg", cpg)), "plots.zip")
    assert [row["名称"] for row in table.rows] == PLOT_NAMES
    assert table.warnings == []


def test_shapefile_cpg_that_lies_is_overruled_with_a_warning() -> None:
    with zipfile.ZipFile(DATA / "plots_gbk_nocpg_shp.zip") as archive:
        members = [(info.filename, archive.read(info)) for info in archive.infolist()]
    table = read_table(zip_of(*members, ("plots.cpg", b"UTF-8")), "plots.zip")
    assert [row["名称"] for row in table.rows] == PLOT_NAMES and table.encoding == "gb18030"
    assert any("as its .cpg says" in warning for warning in table.warnings)


def test_gpkg_reads_first_layer_and_names_the_others() -> None:
    table = read_sample("sites.gpkg")
    assert (table.format, table.columns, table.row_numbers) == ("gpkg", ["名称", "类型", "企业数"], [1, 2])
    assert table.rows[0] == {"名称": "鹤山工业城", "类型": "园区", "企业数": 120}
    assert table.geometries[1].x == pytest.approx(112.65)
    assert any("plots" in warning for warning in table.warnings)


def test_land_report_is_recognised_but_not_read_as_a_table() -> None:
    data = "宗地信息\n[地块坐标]\nJ1,2519001.9,392778.7\n".encode("gb18030")
    assert sniff_format(data, "报告.txt") == "land_report"
    with pytest.raises(NotATable):
        read_table(data, "报告.txt")


# --- hostile samples --------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "status", "words"), [
    ("zip_bomb.zip", 413, "expands to 300.0 MB, more than the 200 MB allowed"),
    ("traversal.zip", 400, "'../../evil.shp' contains '..'"),
    ("symlink.zip", 400, "is a symbolic link"),
    ("xxe.kml", 400, "DOCTYPE"),
    ("xxe.xlsx", 400, "xl/worksheets/sheet1.xml: XML with DOCTYPE"),
    ("vrt_as.geojson", 415, "it is an OGR VRT"),
    ("not_really.xlsx", 415, "named like an Excel .xlsx workbook but its content is not"),
])
def test_hostile_samples_are_refused(name: str, status: int, words: str) -> None:
    assert_refused((DATA / name).read_bytes(), name, status, words)


def test_traversal_writes_nothing_outside_the_temp_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    private = tmp_path / "private"
    private.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(private))
    data = (DATA / "traversal.zip").read_bytes()
    with pytest.raises(UnsafeFile):
        read_table(data, "traversal.zip")
    with pytest.raises(UnsafeFile):
        extract_zip_safely(data, tmp_path / "out")
    assert not list(tmp_path.parent.rglob("evil.shp"))
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


@pytest.mark.parametrize(("member", "words"), [
    ("/etc/cron.d/evil", "absolute path"),
    ("..\\..\\evil.shp", "contains '..'"),
    ("sub\\evil.shp", "backslash"),
    ("C:/evil.shp", "drive letter"),
    ("inner.zip", "nested archive"),
])
def test_dangerous_member_names_are_refused(member: str, words: str) -> None:
    with pytest.raises(UnsafeFile) as caught:
        check_zip(zip_of((zipfile.ZipInfo(member), b"x")))
    assert STATUS_BY_REASON[caught.value.reason] == 400 and words in caught.value.message


def test_nested_zip_under_another_name_is_refused_while_extracting(tmp_path: Path) -> None:
    inner = zip_of(("a.txt", b"x"))
    with pytest.raises(UnsafeFile, match="nested archive"):
        extract_zip_safely(zip_of(("plots.dbf", inner)), tmp_path)
    assert not (tmp_path / "plots.dbf").exists()


def test_encrypted_member_is_refused() -> None:
    data = bytearray(zip_of(("plots.shp", b"x")))
    for header in (b"PK\x03\x04", b"PK\x01\x02"):  # set bit 0 of the general-purpose flags
        at = data.find(header)
        flag_at = at + (6 if header == b"PK\x03\x04" else 8)
        data[flag_at] |= 0x01
    with pytest.raises(UnsafeFile, match="encrypted"):
        check_zip(bytes(data))


def test_too_many_entries_and_absurd_ratio_are_refused_before_extracting() -> None:
    many = zip_of(*[(f"f{i}.txt", b"x") for i in range(11)])
    with pytest.raises(UnsafeFile, match="11 entries") as caught:
        check_zip(many, Limits(max_zip_entries=10))
    assert STATUS_BY_REASON[caught.value.reason] == 413
    zeros = zip_of(("zeros.dbf", bytes(2 * 1024 * 1024)))
    with pytest.raises(UnsafeFile, match="compression ratio") as caught:
        check_zip(zeros)
    assert STATUS_BY_REASON[caught.value.reason] == 413


def test_extraction_counts_real_bytes_not_declared_sizes(tmp_path: Path) -> None:
    data = zip_of(("plots.dbf", b"a" * 10_000))
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        info = archive.infolist()[0]
        with pytest.raises(UnsafeFile) as caught:
            copy_member(archive, info, tmp_path / "plots.dbf", budget=4_000, limits=Limits())
    assert STATUS_BY_REASON[caught.value.reason] == 413


def test_zip_lying_about_its_size_is_refused_and_cleaned_up(tmp_path: Path) -> None:
    data = bytearray(zip_of(("plots.dbf", b"a" * 100_000)))
    small = (1000).to_bytes(4, "little")
    local = data.find(b"PK\x03\x04")
    central = data.find(b"PK\x01\x02")
    data[local + 22:local + 26] = small  # uncompressed size in the local header
    data[central + 24:central + 28] = small  # and in the central directory
    with pytest.raises(UnsafeFile) as caught:
        extract_zip_safely(bytes(data), tmp_path)
    assert STATUS_BY_REASON[caught.value.reason] == 422
    assert not (tmp_path / "plots.dbf").exists()


def test_safe_zip_extracts_inside_dest_only(tmp_path: Path) -> None:
    paths = extract_zip_safely(zip_of(("a/plots.shp", b"1"), ("plots.prj", b"2")), tmp_path / "out")
    assert sorted(path.relative_to(tmp_path / "out").as_posix() for path in paths) == ["a/plots.shp", "plots.prj"]


def test_symlink_member_is_refused_by_check_zip() -> None:
    link = zipfile.ZipInfo("link")
    link.create_system = 3
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    with pytest.raises(UnsafeFile, match="symbolic link"):
        check_zip(zip_of((link, "/etc/passwd")))


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_doctype_is_found_in_utf16_xml(encoding: str) -> None:
    text = '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE kml [<!ENTITY x "y">]><kml/>'
    with pytest.raises(UnsafeFile) as caught:
        refuse_xml_doctype(text.encode(encoding), "KML")
    assert STATUS_BY_REASON[caught.value.reason] == 400


def test_entity_declared_in_other_encoding_is_found() -> None:
    text = '<?xml version="1.0" encoding="GB18030"?><kml><!ENTITY x "鹤山"></kml>'
    with pytest.raises(UnsafeFile, match="ENTITY"):
        refuse_xml_doctype(text.encode("gb18030"), "KML")
    refuse_xml_doctype(codecs.BOM_UTF8 + "<kml><name>鹤山</name></kml>".encode("utf-8"), "KML")


@pytest.mark.parametrize(("content", "filename", "words"), [
    (b"<OGRVRTDataSource><OGRVRTLayer name='x'/></OGRVRTDataSource>", "sites.kml", "root element is OGRVRTDataSource"),
    (b"<OGRVRTDataSource><OGRVRTLayer name='x'/></OGRVRTDataSource>", "sites.csv", "OGR VRT"),
    (b'{"type": "Topology", "objects": {}}', "sites.geojson", "no GeoJSON type"),
    (b"not a database", "sites.gpkg", "GeoPackage"),
    (b"PK\x05\x06" + bytes(18), "plots.zip", "no .shp"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100), "projects.xlsx", "old .xls"),
    (b"hello", "notes.txt", "unsupported file type"),
    (b"MZ\x90\x00", "setup.exe", "supported are .csv"),
])
def test_content_that_is_not_what_the_name_claims_is_refused(content: bytes, filename: str, words: str) -> None:
    assert_refused(content, filename, 415, words)


def test_driver_is_verified_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "plots.geojson"
    path.write_bytes((DATA / "plots.geojson").read_bytes())
    assert verified_info(path, "GeoJSON")["features"] == 3
    with pytest.raises(UnsafeFile, match="opened as GeoJSON, not GPKG") as caught:
        verified_info(path, "GPKG")
    assert STATUS_BY_REASON[caught.value.reason] == 415


@pytest.mark.parametrize("name", ["plots.geojson", "projects_utf8.csv", "projects.xlsx", "plots_4547_shp.zip"])
def test_feature_limit_is_enforced(name: str) -> None:
    assert_refused((DATA / name).read_bytes(), name, 413, "more than 1 rows or features", Limits(max_features=1))


def test_vertex_limit_is_enforced() -> None:
    assert_refused((DATA / "plots.geojson").read_bytes(), "plots.geojson", 413, "vertices", Limits(max_vertices=10))


def test_title_row_above_the_header_is_skipped() -> None:
    import io as _io

    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["2025年三季度签约项目表"])
    sheet.append(["项目名称", "经度", "纬度", "状态"])
    sheet.append(["标题测试项目", 112.96, 22.77, "已签约"])
    buffer = _io.BytesIO()
    workbook.save(buffer)
    table = read_table(buffer.getvalue(), "titled.xlsx")
    assert table.columns == ["项目名称", "经度", "纬度", "状态"]
    assert table.row_numbers == [3]
    assert table.rows[0]["项目名称"] == "标题测试项目"
    assert any("title" in warning for warning in table.warnings)


def test_single_column_csv_still_reads() -> None:
    table = read_table("名称\n甲\n乙\n".encode("utf-8"), "names.csv")
    assert table.columns == ["名称"] and [row["名称"] for row in table.rows] == ["甲", "乙"]
    assert table.row_numbers == [2, 3]
