"""Write the selected sites as a table: CSV in UTF-8 for Excel, or an XLSX workbook; both upload again as they are."""
from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any, Iterator

from openpyxl import Workbook
from shapely.geometry import shape
from sqlalchemy.orm import Session

from ..ingest.bounds import FORMULA_START
from .columns import FIELD_NAMES, export_rows, header_row, xml_text
from .request import ExportRequest, check_deadline

CSV_CHUNK_ROWS = 1000  # rows per streamed CSV chunk


def neutralise_formula(value: Any) -> Any:
    """Return text that a spreadsheet would run as a formula with a leading apostrophe; other values as they are."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def table_cells(props: dict[str, Any], geometry_text: str | None) -> list[Any]:
    """Return one row of cells: the properties, a representative lon/lat and the WKT, formulas neutralised.

    A site whose place is unknown (precision county, no geometry) has empty position cells.
    """
    cells = [neutralise_formula(props.get(name)) for name in FIELD_NAMES]
    if geometry_text is None:
        return cells + [None, None, None]
    geometry = shape(json.loads(geometry_text))
    point = geometry.representative_point()
    return cells + [round(point.x, 7), round(point.y, 7), geometry.wkt]


def stream_csv(session: Session, request: ExportRequest) -> Iterator[bytes]:
    """Yield CSV in UTF-8 with a BOM, so Excel shows Chinese, in chunks."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write("\ufeff")
    writer.writerow(header_row(request.chinese_headers))
    for count, (props, geometry) in enumerate(export_rows(session, request), start=1):
        writer.writerow(table_cells(props, geometry))
        if count % CSV_CHUNK_ROWS == 0:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    check_deadline(request)
    yield buffer.getvalue().encode("utf-8")


def write_xlsx(session: Session, request: ExportRequest, target: Path) -> None:
    """Write an XLSX workbook of the selected sites."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("sites" if not request.chinese_headers else "项目")
    sheet.append(header_row(request.chinese_headers))
    try:
        for props, geometry in export_rows(session, request):
            sheet.append([xml_text(cell) for cell in table_cells(props, geometry)])
    except BaseException:
        # Finish and remove openpyxl's own temporary sheet file rather than leave it to the garbage collector.
        sheet.close()
        Path(getattr(sheet._writer, "out", "")).unlink(missing_ok=True)
        raise
    workbook.save(target)
