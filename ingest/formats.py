"""The one table of file formats kura reads. Everything else derives from it: which suffixes ingest and uploads
accept, which are zip containers (their unpacked size is capped), which are read in this process rather than a
worker, which libraries to load before parse threads start, and which old formats get a "save it as" hint.

Parsers (parse.py, office.py, mail.py) never import this table; mail is handed the attachment reader."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from ingest import mail, ocr, office, readers
from ingest.documents import ParsedDocument, ParseError, cleaned

TEXT_LIBRARIES = ("charset_normalizer",)  # decode_text: every plain-text format


@dataclass(frozen=True)
class Format:
    parser: Callable[[Path], ParsedDocument]
    libraries: tuple[str, ...] = ()  # imported before parse threads exist (see worker.load_parsers)
    zipped: bool = False  # a zip archive inside (Office, EPUB): uploads cap its unpacked size
    in_process: bool = False  # small files are read here: only kura's own decoding touches them


def read_attachment(name: str, data: bytes) -> ParsedDocument:
    """An e-mail attachment, parsed by its own format like any file."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"attachment{Path(name).suffix.lower()}"
        path.write_bytes(data)
        return parse(path)


_PLAIN = Format(readers.parse_text, TEXT_LIBRARIES, in_process=True)
_MARKDOWN = Format(readers.parse_markdown, ("llama_index.core.node_parser", *TEXT_LIBRARIES), in_process=True)
_HTML = Format(readers.parse_html, ("bs4", *TEXT_LIBRARIES))
_SHEET_TEXT = Format(office.parse_delimited, TEXT_LIBRARIES)

FORMATS: dict[str, Format] = {
    ".md": _MARKDOWN, ".markdown": _MARKDOWN,
    ".txt": _PLAIN, ".text": _PLAIN, ".rst": _PLAIN, ".org": _PLAIN, ".log": _PLAIN,
    ".html": _HTML, ".htm": _HTML, ".xhtml": _HTML,
    ".xml": Format(readers.parse_xml, ("bs4", "lxml.etree", *TEXT_LIBRARIES)),
    ".pdf": Format(readers.parse_pdf, ("pypdf", "PIL.Image", "pytesseract")),
    **dict.fromkeys(ocr.IMAGE_SUFFIXES, Format(readers.parse_image, ("PIL.Image", "pytesseract"))),
    ".docx": Format(readers.parse_docx, ("docx",), zipped=True),
    ".pptx": Format(office.parse_pptx, ("pptx",), zipped=True),
    ".xlsx": Format(office.parse_xlsx, ("openpyxl",), zipped=True),
    ".xls": Format(office.parse_xls, ("xlrd",)),
    ".csv": _SHEET_TEXT, ".tsv": _SHEET_TEXT,
    ".odt": Format(office.parse_odt, ("lxml.etree",), zipped=True),
    ".epub": Format(office.parse_epub, ("lxml.etree", "bs4"), zipped=True),
    ".rtf": Format(office.parse_rtf, ("striprtf.striprtf", *TEXT_LIBRARIES)),
    ".eml": Format(partial(mail.parse_eml, read_attachment=read_attachment), ("bs4", *TEXT_LIBRARIES)),
    ".msg": Format(partial(mail.parse_msg, read_attachment=read_attachment), ("olefile",)),
}  # fmt: skip
# Formats kura cannot read, and what to save them as instead.
LEGACY = {".doc": ".docx", ".ppt": ".pptx", ".xlsb": ".xlsx", ".pages": ".docx", ".key": ".pptx"}


def supported() -> list[str]:
    return sorted(FORMATS)


def zipped() -> set[str]:
    return {suffix for suffix, known in FORMATS.items() if known.zipped}


def in_process() -> set[str]:
    return {suffix for suffix, known in FORMATS.items() if known.in_process}


def libraries() -> tuple[str, ...]:
    return tuple(dict.fromkeys(name for known in FORMATS.values() for name in known.libraries))


def parse(path: Path, ocr_languages: str | None = None) -> ParsedDocument:
    """Parse one file by its extension (scans read by OCR in `ocr_languages`, default: as set around this parse);
    ParseError with a readable reason when it cannot be read."""
    suffix = path.suffix.lower()
    if suffix in LEGACY:
        raise ParseError(
            f"the {suffix} format is not supported: open it in Office or LibreOffice, save it as "
            f"{LEGACY[suffix]}, and ingest that"
        )
    known = FORMATS.get(suffix)
    if known is None:
        raise ParseError(f"unsupported file type '{path.suffix or path.name}' (supported: {', '.join(supported())})")
    with ocr.reading(ocr_languages):
        return cleaned(known.parser(path))
