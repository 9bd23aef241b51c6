"""Guess the kind of an upload's rows the way a person would: from the file's format, else from its headers."""
from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from ..vocabulary import KIND_LABELS
from .columns import normalise_header

LOGGER = logging.getLogger(__name__)

# Header words that tell a person what a sheet lists, by kind; a header containing one names its kind.
KIND_HEADER_WORDS: dict[str, tuple[str, ...]] = {
    "project": ("项目代码", "项目名称", "项目编号", "投资额", "签约日期"),
    "land_plot": ("地块编号", "地块号", "地块名称", "地类", "用地面积"),
    "park": ("园区名称",),
    "green_site": ("示范点", "绿美"),
}
# What a format implies about its rows, as the report says it.
FORMAT_NAMES: dict[str, str] = {"land_report": "land report / 报备坐标 txt"}


@dataclass(frozen=True)
class KindGuess:
    """The kind a file's rows are taken to be and why, or (kind None) why none could be assumed."""

    kind: str | None
    because: str

    def report(self) -> dict[str, str]:
        """Return the guess as the upload report's kind_assumed."""
        return {"kind": self.kind or "", "because": self.because}

    def note(self) -> str:
        """Return the note the report gives for the guess."""
        if self.kind is None:
            return f"类型无法推断 / the kind cannot be assumed: {self.because}"
        label = KIND_LABELS["zh"][self.kind]
        return f"类型推断为{label} / kind assumed to be {self.kind} ({self.because})"


def header_kinds(headers: Iterable[str]) -> dict[str, list[str]]:
    """Return, by kind, the headers whose words name that kind, in the file's order."""
    found: dict[str, list[str]] = {}
    for header in headers:
        text = normalise_header(header)
        for kind, words in KIND_HEADER_WORDS.items():
            if any(word in text for word in words):
                found.setdefault(kind, []).append(str(header))
    return found


def guess_kind(headers: list[str], name_header: str | None, file_format: str,
               format_kind: str | None) -> KindGuess | None:
    """Return the kind the format, else the headers give; KindGuess(None, why) when ambiguous; None when empty.

    Headers naming several kinds (项目名称 and 用地面积) are settled by the name column when it names one kind.
    """
    if format_kind:
        return KindGuess(format_kind, f"format {FORMAT_NAMES.get(file_format, file_format)}")
    found = header_kinds(headers)
    if len(found) > 1 and name_header is not None:
        named_by_name = [kind for kind, named in found.items() if name_header in named]
        if len(named_by_name) == 1:
            return KindGuess(named_by_name[0], f"name column {name_header}")
    if len(found) == 1:
        [(kind, named)] = found.items()
        return KindGuess(kind, f"headers {', '.join(named)}")
    if found:
        because = "; ".join(f"{kind} ({', '.join(named)})" for kind, named in found.items())
        return KindGuess(None, f"the headers suggest more than one kind: {because}")
    return None
