"""Refuse hostile uploads (zip bombs, path traversal, XML entities); the limits every reader checks."""
from __future__ import annotations

import codecs
import io
import logging
import re
import stat
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from ..config import LIMIT_DEFAULTS

LOGGER = logging.getLogger(__name__)

MB = 1024 * 1024
COPY_CHUNK_BYTES = 64 * 1024
ZIP_MAGIC = b"PK\x03\x04"
EMPTY_ZIP_MAGIC = b"PK\x05\x06"
NESTED_ARCHIVE_SUFFIXES = (".zip", ".kmz", ".jar", ".7z", ".rar", ".gz", ".tgz", ".tar", ".bz2", ".xz")
XML_MEMBER_SUFFIXES = (".xml", ".rels", ".vml")
XML_DECLARED_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._:-]+)["']""")
DRIVE_LETTER = re.compile(r"^[A-Za-z]:")
FORBIDDEN_XML_MARKUP = ("<!doctype", "<!entity")


class UnsafeFile(ValueError):
    """An upload refused for safety or because it is not what it claims to be, and why (errors.UPLOAD_REFUSALS)."""

    def __init__(self, message: str, reason: str = "refused") -> None:
        super().__init__(message)
        self.message = message
        self.reason = reason


@dataclass(frozen=True)
class Limits:
    """Ceilings on what one upload may expand to."""

    max_uncompressed_bytes: int = 200 * MB
    max_zip_entries: int = 1000
    max_compression_ratio: float = 200
    # The configurable ones default to config.LIMIT_DEFAULTS; uploads.limits_from_config reads the app's values.
    max_features: int = LIMIT_DEFAULTS["MAX_UPLOAD_ROWS"]
    max_vertices: int = LIMIT_DEFAULTS["MAX_FILE_VERTICES"]
    max_columns: int = LIMIT_DEFAULTS["MAX_UPLOAD_COLUMNS"]
    ratio_check_min_bytes: int = 1 * MB  # tiny archives of blank text compress absurdly yet harmlessly
    budget_s: float = LIMIT_DEFAULTS["UPLOAD_BUDGET_S"]
    deadline: float | None = None  # time.monotonic() after which reading stops (None: no budget)

    def check_budget(self) -> None:
        """Raise OverBudget once the upload's wall-clock budget is spent."""
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise OverBudget(
                f"The upload took longer than its budget of UPLOAD_BUDGET_S = {self.budget_s:g} s and nothing was "
                f"written; sending it again will take as long, so split the file or import it with "
                f"`UPLOAD_BUDGET_S=<seconds> heshan-map import` / 上传处理超过时间上限 UPLOAD_BUDGET_S = "
                f"{self.budget_s:g} 秒，未写入任何数据；重试同样会超时，请拆分文件，或设置更大的 UPLOAD_BUDGET_S 后用 "
                f"heshan-map import 命令导入", "too_large")


class OverBudget(UnsafeFile):
    """An upload stopped because it ran past its wall-clock budget."""


def human_size(size: int) -> str:
    """Render a byte count as B, KB, MB or GB with one decimal."""
    value = float(size)
    for unit in ("B", "KB", "MB"):
        if value < 1024:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GB"


def limit_size(size: int) -> str:
    """Render a configured limit without a needless decimal (200 MB, not 200.0 MB)."""
    return human_size(size).replace(".0 ", " ")


# --- zip archives -----------------------------------------------------------------------------

def open_zip(data: bytes) -> zipfile.ZipFile:
    """Open bytes as a zip archive or refuse them as unreadable."""
    try:
        return zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError) as error:
        raise UnsafeFile(f"Not a readable zip archive ({error}) / 无法读取的压缩包", "invalid") from error


def member_path_problem(name: str) -> str | None:
    """Tell why a member name could escape the extraction folder, or None when it cannot."""
    if "\x00" in name:
        return "contains a NUL character"
    if name.startswith(("/", "\\")):
        return "is an absolute path"
    if DRIVE_LETTER.match(name):
        return "starts with a drive letter"
    parts = re.split(r"[\\/]", name)
    if ".." in parts:
        return "contains '..'"
    if "\\" in name:
        return "contains a backslash"
    return None


def member_type_problem(info: zipfile.ZipInfo) -> str | None:
    """Tell why a member is not a plain file or folder (symlink, device, encrypted, archive), or None."""
    mode = info.external_attr >> 16
    if mode and stat.S_IFMT(mode) and not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
        return "is a symbolic link" if stat.S_ISLNK(mode) else "is not a regular file"
    if info.flag_bits & 0x1:
        return "is encrypted"
    if not info.is_dir() and info.filename.lower().endswith(NESTED_ARCHIVE_SUFFIXES):
        return "is a nested archive"
    return None


def refuse_member(info: zipfile.ZipInfo) -> None:
    """Raise UnsafeFile when one zip member is dangerous to extract."""
    problem = member_path_problem(info.filename) or member_type_problem(info)
    if problem:
        raise UnsafeFile(f"Zip entry '{info.filename}' {problem}; refused / 压缩包含有不安全的条目", "refused")


def refuse_duplicate_members(infos: list[zipfile.ZipInfo]) -> None:
    """Raise UnsafeFile when two members would land on the same path."""
    seen: set[str] = set()
    for info in infos:
        key = info.filename.rstrip("/").lower()
        if key in seen:
            raise UnsafeFile(f"Zip entry '{info.filename}' appears twice; refused / 压缩包含有重复条目", "refused")
        seen.add(key)


def refuse_oversized_archive(infos: list[zipfile.ZipInfo], limits: Limits) -> None:
    """Raise UnsafeFile 413 when declared sizes or the compression ratio exceed the limits."""
    declared = sum(info.file_size for info in infos)
    if declared > limits.max_uncompressed_bytes:
        raise UnsafeFile(
            f"Zip archive expands to {human_size(declared)}, more than the "
            f"{limit_size(limits.max_uncompressed_bytes)} allowed / 压缩包解压后过大", "too_large")
    compressed = sum(info.compress_size for info in infos)
    if declared >= limits.ratio_check_min_bytes and declared > limits.max_compression_ratio * max(compressed, 1):
        ratio = declared / max(compressed, 1)
        raise UnsafeFile(
            f"Zip archive compression ratio is {ratio:.0f}:1, more than the "
            f"{limits.max_compression_ratio:.0f}:1 allowed / 压缩包压缩比异常，疑似压缩炸弹", "too_large")


def check_zip(data: bytes, limits: Limits | None = None) -> list[zipfile.ZipInfo]:
    """Return the members of a zip archive after refusing anything dangerous, without extracting."""
    limits = limits or Limits()
    with open_zip(data) as archive:
        infos = archive.infolist()
    if len(infos) > limits.max_zip_entries:
        raise UnsafeFile(
            f"Zip archive has {len(infos)} entries, more than the {limits.max_zip_entries} allowed "
            f"/ 压缩包文件数过多", "too_large")
    for info in infos:
        refuse_member(info)
    refuse_duplicate_members(infos)
    refuse_oversized_archive(infos, limits)
    return infos


def target_inside(dest: Path, name: str) -> Path:
    """Return where a member lands under dest, refusing any path that resolves outside it."""
    target = dest.joinpath(*PurePosixPath(name).parts).resolve()
    if not target.is_relative_to(dest):
        raise UnsafeFile(f"Zip entry '{name}' would be written outside the folder; refused / 压缩包条目路径越界", "refused")
    return target


def copy_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path, budget: int,
                limits: Limits) -> int:
    """Stream one member to target, counting real bytes against budget; return the bytes written."""
    written = 0
    target.parent.mkdir(parents=True, exist_ok=True)
    with archive.open(info) as source, open(target, "xb") as sink:
        while chunk := source.read(COPY_CHUNK_BYTES):
            if written == 0 and chunk.startswith(ZIP_MAGIC):
                raise UnsafeFile(f"Zip entry '{info.filename}' is a nested archive; refused / 压缩包内不允许嵌套压缩包", "refused")
            written += len(chunk)
            if written > budget:
                raise UnsafeFile(
                    f"Zip archive expands to more than the {limit_size(limits.max_uncompressed_bytes)} allowed "
                    f"/ 压缩包解压后过大", "too_large")
            sink.write(chunk)
    return written


def remove_quietly(paths: list[Path]) -> None:
    """Delete files written by a failed extraction."""
    for path in paths:
        path.unlink(missing_ok=True)


def extract_zip_safely(data: bytes, dest_dir: str | Path, limits: Limits | None = None) -> list[Path]:
    """Extract a checked zip archive into dest_dir, counting bytes as they come; return the files written."""
    limits = limits or Limits()
    infos = check_zip(data, limits)
    dest = Path(dest_dir).resolve()
    dest.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    total = 0
    with open_zip(data) as archive:
        try:
            for info in infos:
                target = target_inside(dest, info.filename)
                if info.is_dir():
                    target.mkdir(parents=True, exist_ok=True)
                    continue
                written.append(target)
                total += copy_member(archive, info, target, limits.max_uncompressed_bytes - total, limits)
        except UnsafeFile:
            remove_quietly(written)
            raise
        except (zipfile.BadZipFile, NotImplementedError, RuntimeError, OSError, EOFError) as error:
            remove_quietly(written)
            raise UnsafeFile(f"Zip archive is damaged or unsupported ({error}) / 压缩包已损坏或格式不受支持", "invalid") from error
    LOGGER.debug("extracted %d files, %d bytes, into %s", len(written), total, dest)
    return written


# --- XML --------------------------------------------------------------------------------------

def xml_encoding(data: bytes) -> str:
    """Return the encoding of XML bytes from its byte order mark, byte pattern or declaration."""
    for bom, name in ((codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"),
                      (codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16-le"),
                      (codecs.BOM_UTF16_BE, "utf-16-be")):
        if data.startswith(bom):
            return name
    if data.startswith(b"<\x00"):
        return "utf-16-le"
    if data.startswith(b"\x00<"):
        return "utf-16-be"
    declared = XML_DECLARED_ENCODING.match(data[:200])
    return declared.group(1).decode("ascii") if declared else "utf-8"


def decoded_xml_texts(data: bytes, what: str) -> list[str]:
    """Return the XML text as declared, plus UTF-16 readings when it holds NUL bytes."""
    encoding = xml_encoding(data)
    try:
        codecs.lookup(encoding)
    except LookupError as error:
        raise UnsafeFile(f"{what}: unknown XML encoding '{encoding}' / XML 编码无法识别", "unsupported") from error
    texts = [data.decode(encoding, errors="replace"), data.decode("latin-1")]
    if b"\x00" in data:
        texts += [data.decode("utf-16-le", errors="replace"), data.decode("utf-16-be", errors="replace")]
    return texts


def refuse_xml_doctype(data: bytes, what: str) -> None:
    """Raise UnsafeFile when XML declares a DOCTYPE or an ENTITY, in whatever encoding it is written."""
    for text in decoded_xml_texts(data, what):
        folded = text.lower()
        for markup in FORBIDDEN_XML_MARKUP:
            if markup in folded:
                raise UnsafeFile(
                    f"{what}: XML with {markup[2:].upper()} declarations is not accepted "
                    f"/ 不接受含 DOCTYPE 或 ENTITY 声明的 XML", "refused")


def refuse_xlsx_xml_doctypes(data: bytes, limits: Limits | None = None) -> None:
    """Check every XML part of an XLSX for DOCTYPE and ENTITY declarations."""
    infos = check_zip(data, limits)
    with open_zip(data) as archive:
        for info in infos:
            if info.filename.lower().endswith(XML_MEMBER_SUFFIXES):
                refuse_xml_doctype(read_member(archive, info), f"Workbook part {info.filename}")


def read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    """Read one already-checked member, refusing a damaged one."""
    try:
        with archive.open(info) as member:
            return member.read(info.file_size + 1)
    except (zipfile.BadZipFile, NotImplementedError, RuntimeError, OSError, EOFError) as error:
        raise UnsafeFile(f"Zip archive is damaged or unsupported ({error}) / 压缩包已损坏或格式不受支持", "invalid") from error
