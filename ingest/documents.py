"""What every parser produces: a title and sections of text, each with its heading path and page; and the
helpers parsers share (text decoding, heading-path building)."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path

from retrieval.errors import KuraError


class ParseError(KuraError):
    """A file could not be read; the message is shown to the user as the reason."""


@dataclass(frozen=True)
class Section:
    text: str
    heading: str = ""
    page: int | None = None
    ocr_confidence: float | None = None  # read from a scan by OCR: Tesseract's mean word confidence (0-100)


@dataclass(frozen=True)
class ParsedDocument:
    title: str
    sections: list[Section]


def decode_text(data: bytes, path: Path) -> str:
    """Bytes → text: BOMs first, then UTF-8, then charset detection; never silently mangles."""
    for bom, encoding in ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16")):
        if data.startswith(bom):
            return data.decode(encoding)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None:
        raise ParseError(f"cannot tell the text encoding of {path.name}; save it as UTF-8 and ingest again")
    return str(best)


# Terminal escape sequences (CSI, OSC, other ESC forms) and control characters other than tab and line breaks:
# a document must never be able to drive the terminal that prints a search result.
_ESCAPES = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-Z\\-_]?|\x9b[0-?]*[ -/]*[@-~]"
)
_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")


def without_controls(text: str) -> str:
    """Text with terminal escape sequences and control characters removed (form feeds become line breaks)."""
    return _CONTROLS.sub("", _ESCAPES.sub("", text.replace("\x0c", "\n")))


def cleaned(document: ParsedDocument) -> ParsedDocument:
    return ParsedDocument(
        without_controls(document.title),
        [replace(s, text=without_controls(s.text), heading=without_controls(s.heading)) for s in document.sections],
    )


def heading_path(parts: list[str]) -> str:
    return " > ".join(p for p in parts if p)


class SectionBuilder:
    """Collects paragraphs under the current heading path; a new heading closes the section before it. A heading
    lives in the section's heading path (shown with citations, embedded with each chunk), never in its text: glued
    to the first paragraph it would become part of a quote ("Payroll Salaries are paid…")."""

    def __init__(self) -> None:
        self.trail: list[str] = []
        self.sections: list[Section] = []
        self._buffer: list[str] = []

    def heading(self, level: int, text: str) -> None:
        self._flush()
        self.trail[:] = self.trail[: level - 1] + [""] * max(0, level - 1 - len(self.trail)) + [text]

    def text(self, text: str) -> None:
        self._buffer.append(text)

    def _flush(self) -> None:
        if self._buffer:
            self.sections.append(Section("\n".join(self._buffer), heading_path(self.trail)))
            self._buffer.clear()

    def done(self) -> list[Section]:
        self._flush()
        return self.sections


def table_rows(rows: list[list[str]]) -> list[str]:
    """A table as lines a passage can be cited from: with a header row, each row as "Column: value | …", so a
    quoted row keeps its column names; without one (a single row, or a first row repeating itself), cells as
    written."""
    header = rows[0] if len(rows) > 1 else []
    named = bool(header) and all(header) and len(set(header)) == len(header)
    if not named:
        return [" | ".join(cells) for cells in rows if any(cells)]
    lines = [" | ".join(header)]
    for cells in rows[1:]:
        pairs = [f"{name}: {value}" for name, value in zip(header, cells) if value]
        pairs += [value for value in cells[len(header) :] if value]
        if pairs:
            lines.append(" | ".join(pairs))
    return lines
