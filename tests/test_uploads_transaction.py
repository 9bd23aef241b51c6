"""The caller owns the transaction: uploads and REST edits write in the caller's session and never commit it."""
from __future__ import annotations

import logging

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from heshan_map import editing
from heshan_map.ingest.bounds import default_limits
from heshan_map.storage import site_reads
from heshan_map.uploads import UploadRequest, process_upload

from .test_uploads import PROJECT_HEADER, csv_bytes

LOGGER = logging.getLogger(__name__)


def committed_with_code(engine: Engine, code: str) -> int:
    """Return how many committed sites have a code, as another connection sees them."""
    with engine.connect() as connection:
        return connection.execute(text("SELECT count(*) FROM sites WHERE code = :code"), {"code": code}).scalar_one()


def project_csv(code: str) -> bytes:
    """Return a CSV of one valid project with a code."""
    return csv_bytes(PROJECT_HEADER, [[f"事务项目 {code}", "112.9612", "22.7703", "已签约", code, "1.5", "2024-03"]])


def test_an_accepted_upload_is_written_but_left_for_its_caller_to_commit(engine: Engine) -> None:
    with Session(engine) as session:
        outcome = process_upload(session, UploadRequest(data=project_csv("TX-UP-1"), filename="tx.csv", user="tx",
                                                        kind="project"))
        assert outcome.accepted and outcome.report["created"] == 1 and outcome.report["upload_id"]
        assert site_reads.site_id_for_code(session, "TX-UP-1") is not None  # written in the session
        assert session.in_transaction()
        assert committed_with_code(engine, "TX-UP-1") == 0  # not committed
        session.rollback()
    assert committed_with_code(engine, "TX-UP-1") == 0


def test_a_refused_upload_is_not_accepted_and_writes_nothing(engine: Engine) -> None:
    bad = csv_bytes(PROJECT_HEADER, [["", "112.9612", "22.7703", "已签约", "TX-BAD-1", "1.5", "2024-03"]])
    with Session(engine) as session:
        outcome = process_upload(session, UploadRequest(data=bad, filename="bad.csv", user="tx", kind="project"))
        assert not outcome.accepted and outcome.report["errors"] and outcome.report["upload_id"] is None
        assert site_reads.site_id_for_code(session, "TX-BAD-1") is None


def test_a_dry_run_writes_nothing_even_when_its_caller_commits(engine: Engine) -> None:
    with Session(engine) as session:
        outcome = process_upload(session, UploadRequest(data=project_csv("TX-DRY-1"), filename="dry.csv",
                                                        user="tx", kind="project", dry_run=True))
        assert outcome.accepted and outcome.report["created"] == 1 and outcome.report["upload_id"] is None
        session.commit()
    assert committed_with_code(engine, "TX-DRY-1") == 0


def test_a_rest_edit_is_written_but_left_for_its_caller_to_commit(engine: Engine) -> None:
    body = {"type": "Feature", "geometry": {"type": "Point", "coordinates": [112.9612, 22.7703]},
            "properties": {"code": "TX-API-1", "kind": "project", "name": "事务接口项目", "stage": "signed"}}
    with Session(engine) as session:
        site_id = editing.create_feature(session, body, "tx", default_limits())
        assert site_reads.get_site(session, site_id)["code"] == "TX-API-1"
        assert session.in_transaction()
        assert committed_with_code(engine, "TX-API-1") == 0
        session.rollback()
    assert committed_with_code(engine, "TX-API-1") == 0
