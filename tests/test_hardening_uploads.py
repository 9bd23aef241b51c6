"""Hostile uploads: no request leaves the server and odd file names are 4xx (test_hardening_upload_limits: CPU)."""
from __future__ import annotations

import io
import json
import shutil
import socket
import sqlite3
import threading
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pyogrio
import pytest

from heshan_map import create_app
from heshan_map.errors import ServiceError
from heshan_map.views.errors import status_of
from heshan_map.uploads import UploadRequest, process_upload

from .conftest import TEST_URL
from .test_uploads import PROJECT_HEADER, counts, csv_bytes, post_upload

DATA = Path(__file__).parent / "data"
PLACEMARK = "<Placemark><name>鹤山测试点</name><Point><coordinates>112.96,22.77</coordinates></Point></Placemark>"
KML_NS = 'xmlns="http://www.opengis.net/kml/2.2"'
NAME_ROW = ["鹤山名称项目", "112.9612", "22.7703", "已签约", "T-NAME-1", "1.5", "2024-03"]


class Listener:
    """A socket server on 127.0.0.1 in a thread that counts the connections made to it."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.requests: list[bytes] = []
        self.running = True
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def url(self, suffix: str = "") -> str:
        """Return a fresh URL on the listener (fresh so GDAL's /vsicurl/ cache never answers for it)."""
        return f"http://127.0.0.1:{self.port}/{uuid.uuid4().hex}{suffix}"

    def serve(self) -> None:
        """Accept connections, note the first bytes of each and answer 404."""
        while self.running:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(1)
                try:
                    self.requests.append(conn.recv(4096))
                    conn.sendall(b"HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\n\r\n")
                except OSError:
                    self.requests.append(b"")

    def close(self) -> int:
        """Stop, drain connections still queued, and return how many were made."""
        if not self.running:
            return len(self.requests)
        self.running = False
        self.thread.join()
        self.sock.setblocking(False)
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                break
            conn.close()
            self.requests.append(b"(queued)")
        self.sock.close()
        return len(self.requests)


@pytest.fixture()
def listener() -> Iterator[Listener]:
    """Return a listener; a short GDAL HTTP timeout keeps a leaking read from hanging the test."""
    pyogrio.set_gdal_config_options({"GDAL_HTTP_TIMEOUT": "2", "GDAL_HTTP_MAX_RETRY": "0"})
    server = Listener()
    yield server
    server.close()
    pyogrio.set_gdal_config_options({"GDAL_HTTP_TIMEOUT": None, "GDAL_HTTP_MAX_RETRY": None})


@pytest.fixture()
def editor(session) -> str:
    """Return the API token of a new editor."""
    from heshan_map.auth import create_user
    return create_user(session, "hardening-editor", "editor")


def app_with(connection, **config: object):
    """Return a test client of an app with the given config overrides."""
    return create_app({"TESTING": True, "DATABASE_URL": TEST_URL, "DB_CONNECTION": connection,
                       "SECRET_KEY": "test", **config}).test_client()


# --- hostile files ----------------------------------------------------------------------------

def geojson_with(**members: object) -> bytes:
    """Return a one-point GeoJSON FeatureCollection with extra top-level members."""
    point = {"type": "Feature", "properties": {"项目名称": "鹤山测试点", "状态": "已签约"},
             "geometry": {"type": "Point", "coordinates": [112.96, 22.77]}}
    return json.dumps({"type": "FeatureCollection", **members, "features": [point]}, ensure_ascii=False).encode()


def vrt(source: str) -> str:
    """Return an OGR VRT whose layer reads source."""
    return (f"<OGRVRTDataSource><OGRVRTLayer name='p'><SrcDataSource>{source}</SrcDataSource>"
            f"</OGRVRTLayer></OGRVRTDataSource>")


def shapefile_zip_with_prj(prj: bytes) -> bytes:
    """Return the sample zipped Shapefile with its .prj replaced."""
    out = io.BytesIO()
    with zipfile.ZipFile(DATA / "plots_4547_shp.zip") as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            target.writestr(info.filename, prj if info.filename.lower().endswith(".prj") else source.read(info))
    return out.getvalue()


def gpkg_after(tmp_path: Path, sql: str) -> bytes:
    """Return the sample GeoPackage after running SQL on a copy of it."""
    path = tmp_path / f"{uuid.uuid4().hex}.gpkg"
    shutil.copy(DATA / "sites.gpkg", path)
    connection = sqlite3.connect(path)
    connection.executescript(sql)
    connection.commit()
    connection.close()
    return path.read_bytes()


HOSTILE = {
    "geojson_crs_link": lambda l, tmp: (geojson_with(crs={"type": "link", "properties": {"href": l.url()}}),
                                        "a.geojson"),
    "geojson_crs_link_vsicurl": lambda l, tmp: (geojson_with(
        crs={"type": "link", "properties": {"href": "/vsicurl/" + l.url()}}), "a.geojson"),
    "geojson_crs_name_vsicurl": lambda l, tmp: (geojson_with(
        crs={"type": "name", "properties": {"name": "/vsicurl/" + l.url()}}), "a.geojson"),
    "geojson_is_a_vrt": lambda l, tmp: (json.dumps({"a": vrt("/vsicurl/" + l.url(".csv")),
                                                    "type": "FeatureCollection", "features": []}).encode(),
                                        "a.geojson"),
    "kml_network_link": lambda l, tmp: (f"<kml {KML_NS}><Document><NetworkLink><Link><href>{l.url('.kml')}"
                                        f"</href></Link></NetworkLink>{PLACEMARK}</Document></kml>".encode(),
                                        "a.kml"),
    "kml_vsicurl_href": lambda l, tmp: (f"<kml {KML_NS}><Document><Style><IconStyle><Icon><href>/vsicurl/"
                                        f"{l.url('.png')}</href></Icon></IconStyle></Style>{PLACEMARK}"
                                        f"</Document></kml>".encode(), "a.kml"),
    "kml_then_a_vrt": lambda l, tmp: (f"<kml {KML_NS}/>{vrt('/vsicurl/' + l.url('.csv'))}".encode(), "a.kml"),
    "shapefile_prj_vsicurl": lambda l, tmp: (shapefile_zip_with_prj(f"/vsicurl/{l.url()}".encode()), "a.zip"),
    "gpkg_srs_vsicurl": lambda l, tmp: (gpkg_after(tmp, f"UPDATE gpkg_spatial_ref_sys SET definition = "
                                                        f"'/vsicurl/{l.url()}' WHERE srs_id = 4326;"), "a.gpkg"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_upload_makes_no_request_and_is_refused(client, connection, editor, listener, tmp_path,
                                                        case: str) -> None:
    data, filename = HOSTILE[case](listener, tmp_path)
    before = counts(connection)
    response = post_upload(client, data, filename, editor, kind="project", stage="signed", dry_run="true")
    assert listener.close() == 0, listener.requests
    assert 400 <= response.status_code < 500, response.get_json()
    assert counts(connection) == before


LOCAL_READS = {
    "geojson_is_a_vrt_of_a_local_csv": lambda path: (json.dumps(
        {"a": vrt(f"CSV:{path}"), "type": "FeatureCollection", "features": []}).encode(), "a.geojson"),
    "kml_then_a_vrt_of_a_local_csv": lambda path: (f"<kml {KML_NS}/>{vrt(str(path))}".encode(), "a.kml"),
    "geojson_crs_name_is_a_local_file": lambda path: (geojson_with(
        crs={"type": "name", "properties": {"name": str(path)}}), "a.geojson"),
}


@pytest.mark.parametrize("case", sorted(LOCAL_READS))
def test_hostile_upload_reads_no_local_file(client, connection, editor, tmp_path, case: str) -> None:
    secret = tmp_path / "outside" / "secret.csv"
    secret.parent.mkdir()
    secret.write_text("项目名称,经度,纬度,状态\nSECRET-7f3a,112.96,22.77,已签约\n", encoding="utf-8")
    before_access = secret.stat().st_atime_ns
    data, filename = LOCAL_READS[case](secret)
    before = counts(connection)
    response = post_upload(client, data, filename, editor, kind="project", stage="signed", dry_run="true")
    assert "SECRET-7f3a" not in response.get_data(as_text=True)
    assert 400 <= response.status_code < 500, response.get_json()
    assert counts(connection) == before
    assert secret.stat().st_atime_ns == before_access


def test_xml_schema_reference_in_a_kml_is_not_fetched(client, editor, listener) -> None:
    schema = (f'xmlns:gml="http://www.opengis.net/gml" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
              f'xsi:schemaLocation="http://www.opengis.net/gml {listener.url(".xsd")}"')
    data = f'<?xml version="1.0"?><kml {KML_NS} {schema}><Document>{PLACEMARK}</Document></kml>'.encode()
    response = post_upload(client, data, "a.kml", editor, kind="project", stage="signed", dry_run="true")
    assert listener.close() == 0, listener.requests
    assert response.status_code in (200, 422), response.get_json()


def test_legitimate_gis_samples_still_read(client, editor, listener) -> None:
    for name in ("plots.geojson", "green_sites.kml", "plots_4547_shp.zip", "sites.gpkg"):
        response = post_upload(client, (DATA / name).read_bytes(), name, editor, dry_run="true", stage="signed")
        assert response.status_code in (200, 422), (name, response.get_json())
        assert response.get_json().get("rows"), (name, response.get_json())
    assert listener.close() == 0


# --- file names -------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["p\x00.csv", "p\x1b[2J.csv", "p\x85.csv"])
def test_file_name_with_nul_or_control_is_4xx(client, connection, editor, name: str) -> None:
    before = counts(connection)
    response = post_upload(client, csv_bytes(PROJECT_HEADER, [NAME_ROW]), name, editor, kind="project")
    assert 400 <= response.status_code < 500, response.status_code
    assert "file name" in response.get_json()["error"]["message"]
    assert counts(connection) == before


def test_file_name_with_an_encoded_newline_is_4xx(client, connection, editor) -> None:
    # A raw newline cannot stand in a multipart header; RFC 2231's filename* carries it percent-encoded.
    before = counts(connection)
    body = ("--b\r\nContent-Disposition: form-data; name=\"file\"; filename*=UTF-8''p%0AFORGED.csv\r\n"
            "Content-Type: text/csv\r\n\r\n项目名称,经度,纬度,状态\r\n日志项目,112.9612,22.7703,已签约\r\n--b--\r\n")
    response = client.post("/api/uploads?kind=project", data=body.encode(),
                           headers={"Authorization": f"Bearer {editor}",
                                    "Content-Type": "multipart/form-data; boundary=b"})
    assert response.status_code == 400, response.get_json()
    assert "file name" in response.get_json()["error"]["message"]
    assert counts(connection) == before


def test_file_name_with_lone_surrogate_is_4xx(session, connection) -> None:
    # Multipart cannot carry one (werkzeug answers 400), but the CLI passes Path.name, which holds
    # lone surrogates for file names that are not UTF-8.
    before = counts(connection)
    request = UploadRequest(data=csv_bytes(PROJECT_HEADER, [NAME_ROW]), filename="p\udcff.csv", user=None,
                            kind="project")
    with pytest.raises(ServiceError) as caught:
        process_upload(session, request)
    assert 400 <= status_of(caught.value) < 500 and "file name" in caught.value.message
    assert counts(connection) == before
