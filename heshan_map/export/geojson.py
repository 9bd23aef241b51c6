"""Stream the selected sites as an RFC 7946 FeatureCollection built by PostGIS."""
from __future__ import annotations

from typing import Iterator

from sqlalchemy.orm import Session

from ..storage import site_reads
from .request import ExportRequest, check_deadline, labels_for


def stream_geojson(session: Session, request: ExportRequest) -> Iterator[bytes]:
    """Yield a FeatureCollection in chunks of features built by PostGIS; memory stays flat."""
    head = b'{"type":"FeatureCollection","features":['
    for joined in site_reads.stream_feature_json(session, request.selection, labels_for(request.lang)):
        check_deadline(request)
        yield head + joined.encode("utf-8")
        head = b","
    check_deadline(request)
    yield (b"" if head == b"," else head) + b"]}\n"
