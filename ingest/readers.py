"""Text, markup, PDF, Word files and scanned images → ParsedDocument: a title and sections of text, each with its
heading path and (for PDFs and multi-page scans) page; pages without a text layer are read by OCR (ingest/ocr.py). Which parser reads which suffix is ingest/formats.py's table; this module knows no other format.

Markdown goes through LlamaIndex's MarkdownNodeParser. PDF, DOCX and HTML are read with pypdf, python-docx
and BeautifulSoup directly, because LlamaIndex's readers for them drop what citations need: PDFReader hides
encryption behind blind retries, DocxReader (docx2txt) loses headings, HTML readers lose the heading path.
"""

from __future__ import annotations

import re
from pathlib import Path

from ingest import ocr
from ingest.documents import (
    ParsedDocument,
    ParseError,
    Section,
    SectionBuilder,
    decode_text,
    heading_path,
    table_rows,
)
from ingest.html import html_document


def parse_markdown(path: Path) -> ParsedDocument:
    from llama_index.core import Document
    from llama_index.core.node_parser import MarkdownNodeParser

    text = decode_text(path.read_bytes(), path)
    title_match = re.search(r"^#\s+(.+)$", text, flags=re.MULTILINE)
    sections = []
    for node in MarkdownNodeParser().get_nodes_from_documents([Document(text=text)]):
        parents = [p for p in node.metadata.get("header_path", "").split("/") if p]
        own = re.match(r"#{1,6}\s+(.+)", node.text)
        sections.append(Section(node.text, heading_path(parents + ([own.group(1).strip()] if own else []))))
    return ParsedDocument(title_match.group(1).strip() if title_match else path.stem, sections)


def parse_text(path: Path) -> ParsedDocument:
    return ParsedDocument(path.stem, [Section(decode_text(path.read_bytes(), path))])


def parse_html(path: Path) -> ParsedDocument:
    return html_document(decode_text(path.read_bytes(), path), path.stem)


def parse_pdf(path: Path) -> ParsedDocument:
    import pypdf
    from pypdf.errors import PdfReadError

    try:
        reader = pypdf.PdfReader(str(path))
        if reader.is_encrypted and not reader.decrypt(""):
            raise ParseError("the PDF is encrypted with a password; save an unencrypted copy and ingest that")
        pages = [_pdf_page(page, number) for number, page in enumerate(reader.pages, 1)]
        title = str((reader.metadata or {}).get("/Title") or "").strip() or path.stem
    except ParseError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError) as exc:
        raise ParseError(f"not a readable PDF ({exc})") from exc
    if pages and not any(p.text.strip() for p in pages):
        raise ParseError("the PDF has no text: no text layer, and no scanned image on its pages to read")
    return ParsedDocument(title, [p for p in pages if p.text.strip()])


def _pdf_page(page, number: int) -> Section:
    """A page's text layer; a page without one (a scan) is read from its images by OCR."""
    text = page.extract_text() or ""
    if text.strip():
        return Section(text, page=number)
    scans = [ocr.recognize(image.image) for image in page.images]
    scans = [scan for scan in scans if scan.text.strip()]
    if not scans:
        return Section("", page=number)
    confidence = round(sum(s.confidence for s in scans) / len(scans), 1)
    return Section("\n\n".join(s.text for s in scans), page=number, ocr_confidence=confidence)


def parse_image(path: Path) -> ParsedDocument:
    """A scanned page or photo (PNG, JPEG; TIFF with one page per frame), read by OCR."""
    from PIL import Image, ImageSequence, UnidentifiedImageError

    try:
        with Image.open(path) as picture:
            frames = [frame.copy() for frame in ImageSequence.Iterator(picture)]
    except (UnidentifiedImageError, OSError) as exc:
        raise ParseError(f"not a readable image ({exc})") from None
    pages = []
    for number, frame in enumerate(frames, 1):
        scan = ocr.recognize(frame)
        pages.append(Section(scan.text, page=number if len(frames) > 1 else None, ocr_confidence=scan.confidence))
    if not any(p.text.strip() for p in pages):
        raise ParseError("no text was found in the image (OCR read nothing): is it a photo rather than a document?")
    return ParsedDocument(path.stem, [p for p in pages if p.text.strip()])


def parse_docx(path: Path) -> ParsedDocument:
    import zipfile

    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(str(path))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise ParseError(f"not a valid DOCX file ({exc}); open and re-save it in Word or LibreOffice") from exc
    title = (document.core_properties.title or "").strip()
    builder = SectionBuilder()
    for block in document.element.body.iterchildren():
        if not isinstance(block.tag, str):
            continue  # comments and processing instructions
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
            rows = []
            for row in docx.table.Table(block, document).rows:
                try:
                    rows.append([cell.text.strip() for cell in row.cells])
                except ValueError:  # a malformed grid (merged cells pointing nowhere): take the cells as written
                    rows.append(["".join(tc.itertext()).strip() for tc in row._tr.tc_lst])
            for line in table_rows(rows):
                builder.text(line)
    return ParsedDocument(title or path.stem, builder.done())


def parse_xml(path: Path) -> ParsedDocument:
    from bs4 import BeautifulSoup

    text = BeautifulSoup(decode_text(path.read_bytes(), path), "lxml-xml").get_text("\n", strip=True)
    return ParsedDocument(path.stem, [Section(text)])
