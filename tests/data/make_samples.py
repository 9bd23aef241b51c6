"""Write the sample uploads (and hostile ones) that tests/test_ingest_readers.py reads."""
from __future__ import annotations

import csv
import datetime as dt
import io
import logging
import stat
import tempfile
import zipfile
from pathlib import Path

import geopandas as gpd
import pyogrio
from openpyxl import Workbook
from shapely.geometry import Point, Polygon

LOGGER = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
FIXED_TIME = (2024, 1, 1, 0, 0, 0)
CSV_HEADER = ["项目名称", "经度", "纬度", "状态", "项目代码", "投资额(亿元)", "签约日期"]
CSV_ROWS = [
    ["鹤山工业城扩园项目", "112.96", "22.77", "在建", "2303-440784-04-01-100001", "12.5", "2023-05-18"],
    ["沙坪街道智能制造产业园", "112.80", "22.64", "签约", "2304-440784-04-01-100002", "8", "2023-11-02"],
    ["址山镇新材料项目，二期", "112.65", "22.60", "谋划", "", "3.2", ""],
]
BOMB_BYTES = 300 * 1024 * 1024


def square(lon: float, lat: float, half: float = 0.004) -> Polygon:
    """Return a small square plot centred on lon/lat."""
    return Polygon([(lon - half, lat - half), (lon + half, lat - half), (lon + half, lat + half),
                    (lon - half, lat + half)])


def plots_frame() -> gpd.GeoDataFrame:
    """Return three land plots in Heshan, in WGS84 (field names short enough for a DBF in UTF-8)."""
    return gpd.GeoDataFrame(
        {"编号": ["HS2024-01", "HS2024-02", "HS2024-03"],
         "名称": ["共和镇工业地块", "雅瑶镇物流用地", "龙口镇茶园地块"],
         "面积": [6.8, 3.25, 12.0],
         "用途": ["工业用地", "仓储用地", "农用地"]},
        geometry=[square(112.96, 22.77), square(112.80, 22.64), square(112.85, 22.70)], crs="EPSG:4326")


def csv_bytes(delimiter: str = ",", line_ending: str = "\n") -> str:
    """Return the project CSV text, with one blank line between the data rows to test row numbers."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator=line_ending)
    writer.writerow(CSV_HEADER)
    writer.writerow(CSV_ROWS[0])
    writer.writerow([])
    writer.writerows(CSV_ROWS[1:])
    return buffer.getvalue()


def write_csvs() -> None:
    """Write the CSV samples in UTF-8, UTF-8 with BOM and GB18030 (as Chinese Excel saves)."""
    (HERE / "projects_utf8.csv").write_bytes(csv_bytes().encode("utf-8"))
    (HERE / "projects_utf8_bom.csv").write_bytes(csv_bytes().encode("utf-8-sig"))
    (HERE / "projects_gbk.csv").write_bytes(csv_bytes(line_ending="\r\n").encode("gb18030"))


def write_xlsx() -> None:
    """Write projects.xlsx: typed cells, a blank row, and a second sheet."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "项目"
    sheet.append(CSV_HEADER)
    sheet.append(["鹤山工业城扩园项目", 112.96, 22.77, "在建", "2303-440784-04-01-100001", 12.5,
                  dt.datetime(2023, 5, 18)])
    sheet.append([])
    sheet.append(["沙坪街道智能制造产业园", 112.80, 22.64, "签约", "2304-440784-04-01-100002", 8,
                  dt.datetime(2023, 11, 2)])
    workbook.create_sheet("说明").append(["本表由招商部门填写"])
    workbook.save(HERE / "projects.xlsx")


GREEN_SITES_KML = """<?xml version="1.0" encoding="UTF-8"?>
<kml xmlns="http://www.opengis.net/kml/2.2">
<Document>
  <name>绿美鹤山示范点</name>
  <Folder>
    <name>森林公园</name>
    <Placemark>
      <name>古劳水乡绿美示范点</name>
      <description>绿美广东生态建设示范点</description>
      <ExtendedData>
        <Data name="状态"><value>建设中</value></Data>
        <Data name="面积公顷"><value>35.2</value></Data>
      </ExtendedData>
      <Point><coordinates>112.96,22.77,0</coordinates></Point>
    </Placemark>
  </Folder>
  <Folder>
    <name>林分改造</name>
    <Placemark>
      <name>大雁山林分优化</name>
      <ExtendedData>
        <Data name="状态"><value>已完成</value></Data>
      </ExtendedData>
      <Polygon><outerBoundaryIs><LinearRing><coordinates>
        112.80,22.64,0 112.81,22.64,0 112.81,22.65,0 112.80,22.65,0 112.80,22.64,0
      </coordinates></LinearRing></outerBoundaryIs></Polygon>
    </Placemark>
  </Folder>
</Document>
</kml>
"""

XXE_KML = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE kml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<kml xmlns="http://www.opengis.net/kml/2.2"><Document><Placemark>
<name>&xxe;</name><Point><coordinates>112.96,22.77</coordinates></Point>
</Placemark></Document></kml>
"""

XXE_PROLOGUE = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                b'<!DOCTYPE worksheet [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n')

VRT_AS_GEOJSON = """<OGRVRTDataSource>
  <OGRVRTLayer name="passwd">
    <SrcDataSource>CSV:/etc/passwd</SrcDataSource>
  </OGRVRTLayer>
</OGRVRTDataSource>
"""


def write_kml_and_geojson() -> None:
    """Write green_sites.kml (by hand: folders and ExtendedData) and plots.geojson (GeoJSON driver)."""
    (HERE / "green_sites.kml").write_text(GREEN_SITES_KML, encoding="utf-8")
    target = HERE / "plots.geojson"
    target.unlink(missing_ok=True)
    pyogrio.write_dataframe(plots_frame(), target, driver="GeoJSON")


def zip_folder(folder: Path, target: Path) -> None:
    """Zip the files of a folder (flat, sorted, fixed timestamps) into target."""
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.iterdir()):
            archive.writestr(zipfile.ZipInfo(path.name, FIXED_TIME), path.read_bytes(),
                             compress_type=zipfile.ZIP_DEFLATED)


def write_shapefiles() -> None:
    """Write a UTF-8 Shapefile in EPSG:4547 and a GBK Shapefile without .cpg, each zipped."""
    with tempfile.TemporaryDirectory() as folder:
        utf8 = Path(folder) / "utf8"
        utf8.mkdir()
        pyogrio.write_dataframe(plots_frame().to_crs("EPSG:4547"), utf8 / "plots.shp",
                                driver="ESRI Shapefile", encoding="UTF-8")
        zip_folder(utf8, HERE / "plots_4547_shp.zip")
        gbk = Path(folder) / "gbk"
        gbk.mkdir()
        pyogrio.write_dataframe(plots_frame(), gbk / "plots.shp", driver="ESRI Shapefile", encoding="GBK")
        (gbk / "plots.cpg").unlink()
        zip_folder(gbk, HERE / "plots_gbk_nocpg_shp.zip")


def write_gpkg() -> None:
    """Write sites.gpkg with a point layer of sites and a second layer the reader should skip."""
    target = HERE / "sites.gpkg"
    target.unlink(missing_ok=True)
    sites = gpd.GeoDataFrame(
        {"名称": ["鹤山工业城", "鹤山市址山镇产业园"], "类型": ["园区", "园区"], "企业数": [120, 35]},
        geometry=[Point(112.96, 22.77), Point(112.65, 22.60)], crs="EPSG:4326")
    pyogrio.write_dataframe(sites, target, driver="GPKG", layer="sites", SPATIAL_INDEX="NO")
    pyogrio.write_dataframe(plots_frame(), target, driver="GPKG", layer="plots", SPATIAL_INDEX="NO")


def write_zip_bomb() -> None:
    """Write zip_bomb.zip: one entry of 300 MB of zeros, streamed so memory stays small."""
    info = zipfile.ZipInfo("zeros.dbf", FIXED_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    with zipfile.ZipFile(HERE / "zip_bomb.zip", "w", compresslevel=9) as archive:
        archive.writestr(zipfile.ZipInfo("bomb.shp", FIXED_TIME), b"\x00\x00\x27\x0a")
        with archive.open(info, "w", force_zip64=True) as entry:
            chunk = bytes(1024 * 1024)
            for _ in range(BOMB_BYTES // len(chunk)):
                entry.write(chunk)


def write_hostile_zips() -> None:
    """Write traversal.zip (../../evil.shp) and symlink.zip (an entry linking to /etc/passwd)."""
    with zipfile.ZipFile(HERE / "traversal.zip", "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(zipfile.ZipInfo("plots.shp", FIXED_TIME), b"\x00\x00\x27\x0a")
        archive.writestr(zipfile.ZipInfo("../../evil.shp", FIXED_TIME), b"\x00\x00\x27\x0a evil")
    link = zipfile.ZipInfo("plots.dbf", FIXED_TIME)
    link.create_system = 3
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    with zipfile.ZipFile(HERE / "symlink.zip", "w") as archive:
        archive.writestr(zipfile.ZipInfo("plots.shp", FIXED_TIME), b"\x00\x00\x27\x0a")
        archive.writestr(link, "/etc/passwd")


def write_hostile_xml() -> None:
    """Write xxe.kml, xxe.xlsx (sheet XML with a DOCTYPE), vrt_as.geojson and not_really.xlsx."""
    (HERE / "xxe.kml").write_text(XXE_KML, encoding="utf-8")
    (HERE / "vrt_as.geojson").write_text(VRT_AS_GEOJSON, encoding="utf-8")
    (HERE / "not_really.xlsx").write_text("项目名称,经度,纬度\n鹤山工业城,112.96,22.77\n", encoding="utf-8")
    buffer = io.BytesIO()
    workbook = Workbook()
    workbook.active.append(["项目名称"])
    workbook.save(buffer)
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as source, \
            zipfile.ZipFile(HERE / "xxe.xlsx", "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = XXE_PROLOGUE + data.split(b"?>", 1)[-1]
            target.writestr(info, data)


def main() -> None:
    """Write every sample into tests/data."""
    write_csvs()
    write_xlsx()
    write_kml_and_geojson()
    write_shapefiles()
    write_gpkg()
    write_zip_bomb()
    write_hostile_zips()
    write_hostile_xml()
    for leftover in HERE.glob("*.gpkg-*"):
        leftover.unlink()
    LOGGER.info("samples written to %s", HERE)
    print("\n".join(f"{path.stat().st_size:>9}  {path.name}" for path in sorted(HERE.iterdir()) if path.is_file()))


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    main()
