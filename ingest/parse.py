"""Files → ParsedDocument: a title and sections of text, each with its heading path and (for PDFs) page.

Markdown goes through LlamaIndex's MarkdownNodeParser. PDF, DOCX and HTML are read with pypdf, python-docx
and BeautifulSoup directly, because LlamaIndex's readers for them drop what citations need: PDFReader hides
encryption behind blind retries, DocxReader (docx2txt) loses headings, HTML readers lose the heading path.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path


class ParseError(Exception):
    """A file could not be read; the message is shown to the user as the reason."""


@dataclass(frozen=True)
class Section:
    text: str
    heading: str = ""
    page: int | None = None


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


def _heading_path(parts: list[str]) -> str:
    return " > ".join(p for p in parts if p)


class _SectionBuilder:
    """Collects paragraphs under the current heading path; a new heading closes the section before it."""

    def __init__(self) -> None:
        self.trail: list[str] = []
        self.sections: list[Section] = []
        self._buffer: list[str] = []

    def heading(self, level: int, text: str) -> None:
        self._flush()
        self.trail[:] = self.trail[: level - 1] + [""] * max(0, level - 1 - len(self.trail)) + [text]
        self._buffer.append(text)

    def text(self, text: str) -> None:
        self._buffer.append(text)

    def _flush(self) -> None:
        if self._buffer:
            self.sections.append(Section("\n".join(self._buffer), _heading_path(self.trail)))
            self._buffer.clear()

    def done(self) -> list[Section]:
        self._flush()
        return self.sections


def parse_markdown(path: Path) -> ParsedDocument:
    from llama_index.core import Document
    from llama_index.core.node_parser import MarkdownNodeParser

    text = decode_text(path.read_bytes(), path)
    title_match = re.search(r"^#\s+(.+)$", text, flags=re.MULTILINE)
    sections = []
    for node in MarkdownNodeParser().get_nodes_from_documents([Document(text=text)]):
        parents = [p for p in node.metadata.get("header_path", "").split("/") if p]
        own = re.match(r"#{1,6}\s+(.+)", node.text)
        sections.append(Section(node.text, _heading_path(parents + ([own.group(1).strip()] if own else []))))
    return ParsedDocument(title_match.group(1).strip() if title_match else path.stem, sections)


def parse_text(path: Path) -> ParsedDocument:
    return ParsedDocument(path.stem, [Section(decode_text(path.read_bytes(), path))])


_HTML_BLOCKS = ["h1", "h2", "h3", "h4", "h5", "h6", "p", "li", "pre", "td", "th", "dt", "dd", "blockquote", "caption"]


def parse_html(path: Path) -> ParsedDocument:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(decode_text(path.read_bytes(), path), "html.parser")
    for tag in soup(["script", "style", "noscript", "nav", "header", "footer", "aside", "form", "template"]):
        tag.decompose()
    title = (soup.title.get_text(" ", strip=True) if soup.title else "") or path.stem
    builder = _SectionBuilder()
    for element in (soup.body or soup).find_all(_HTML_BLOCKS):
        if element.find_parent(_HTML_BLOCKS):
            continue  # nested block: its text is part of the outer one
        text = element.get_text(" ", strip=True)
        if text and element.name[0] == "h" and element.name[1:].isdigit():
            builder.heading(int(element.name[1:]), text)
        elif text:
            builder.text(text)
    return ParsedDocument(title, builder.done())


def parse_pdf(path: Path) -> ParsedDocument:
    import pypdf
    from pypdf.errors import PdfReadError

    try:
        reader = pypdf.PdfReader(str(path))
        if reader.is_encrypted and not reader.decrypt(""):
            raise ParseError("the PDF is encrypted with a password; save an unencrypted copy and ingest that")
        pages = [Section(page.extract_text() or "", page=number) for number, page in enumerate(reader.pages, 1)]
        title = str((reader.metadata or {}).get("/Title") or "").strip() or path.stem
    except ParseError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError) as exc:
        raise ParseError(f"not a readable PDF ({exc})") from exc
    if pages and not any(p.text.strip() for p in pages):
        raise ParseError("the PDF has no text layer (scanned pages?); OCR is not enabled")
    return ParsedDocument(title, [p for p in pages if p.text.strip()])


def parse_docx(path: Path) -> ParsedDocument:
    import zipfile

    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(str(path))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise ParseError(f"not a valid DOCX file ({exc}); open and re-save it in Word or LibreOffice") from exc
    title = (document.core_properties.title or "").strip()
    builder = _SectionBuilder()
    for block in document.element.body.iterchildren():
        tag = block.tag.rsplit("}", 1)[-1]
        if tag == "p":
            paragraph = docx.text.paragraph.Paragraph(block, document)
            text = paragraph.text.strip()
            style = paragraph.style.name if paragraph.style is not None else ""
            if not text:
                continue
            if style == "Title":
                title = title or text
            if style.startswith("Heading") and style[8:].strip().isdigit():
                builder.heading(int(style[8:]), text)
            else:
                builder.text(text)
        elif tag == "tbl":
            table = docx.table.Table(block, document)
            for row in table.rows:
                builder.text(" | ".join(cell.text.strip() for cell in row.cells))
    return ParsedDocument(title or path.stem, builder.done())


PARSERS: dict[str, Callable[[Path], ParsedDocument]] = {
    ".md": parse_markdown,
    ".markdown": parse_markdown,
    ".txt": parse_text,
    ".text": parse_text,
    ".html": parse_html,
    ".htm": parse_html,
    ".pdf": parse_pdf,
    ".docx": parse_docx,
}


def parse(path: Path) -> ParsedDocument:
    """Parse one file by its extension; ParseError with a readable reason when it cannot be read."""
    parser = PARSERS.get(path.suffix.lower())
    if parser is None:
        supported = ", ".join(sorted(PARSERS))
        raise ParseError(f"unsupported file type '{path.suffix or path.name}' (supported: {supported})")
    return parser(path)
