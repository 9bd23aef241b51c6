"""The raw table one upload is read into, and the limits every reader checks while reading it."""
from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from .safety import Limits, UnsafeFile

LOGGER = logging.getLogger(__name__)


@dataclass
class RawTable:
    """Columns, rows and geometries read from one upload, before any mapping or validation."""

    format: str
    columns: list[str]
    rows: list[dict[str, object]]
    geometries: list[BaseGeometry | None]
    crs_wkt: str | None
    row_numbers: list[int]
    encoding: str | None
    warnings: list[str] = field(default_factory=list)


def refuse_too_many_rows(count: int, limits: Limits) -> None:
    """Raise UnsafeFile 413 when a file holds more rows or features than allowed."""
    if count > limits.max_features:
        raise UnsafeFile(
            f"The file has more than {limits.max_features:,} rows or features (MAX_UPLOAD_ROWS) "
            f"/ 文件行数（要素数）超过上限 {limits.max_features:,}（MAX_UPLOAD_ROWS）", "too_large")


def refuse_too_many_vertices(geometries: Sequence[BaseGeometry | None], limits: Limits) -> None:
    """Raise UnsafeFile 413 when the geometries hold more coordinates than allowed."""
    vertices = int(shapely.get_num_coordinates(np.asarray(geometries, dtype=object)).sum()) if geometries else 0
    if vertices > limits.max_vertices:
        raise UnsafeFile(
            f"The geometries have {vertices:,} vertices, more than the {limits.max_vertices:,} allowed "
            f"(MAX_FILE_VERTICES) / 图形节点数 {vertices:,} 超过上限 {limits.max_vertices:,}（MAX_FILE_VERTICES）", "too_large")


def refuse_too_many_columns(count: int, limits: Limits) -> None:
    """Raise UnsafeFile 413 when a file has more columns or fields than allowed (MAX_UPLOAD_COLUMNS)."""
    if count > limits.max_columns:
        raise UnsafeFile(
            f"The file has {count:,} columns, more than the {limits.max_columns:,} allowed (MAX_UPLOAD_COLUMNS) "
            f"/ 文件列数 {count:,} 超过上限 {limits.max_columns:,}（MAX_UPLOAD_COLUMNS）", "too_large")
