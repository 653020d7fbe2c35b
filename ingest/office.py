"""Office-style formats: slides (PPTX), spreadsheets (XLSX, XLS, CSV, TSV), ODT, EPUB and RTF.

Spreadsheet rows are written as "header: value" pairs so a passage keeps its column meaning, and long sheets
are cut into blocks of rows, each headed by its sheet name and row range."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterable
from pathlib import Path

from ingest.documents import ParsedDocument, ParseError, Section, SectionBuilder, decode_text, table_rows
from ingest.html import html_document

ROWS_PER_SECTION = 40


def _broken(kind: str, exc: Exception) -> ParseError:
    return ParseError(f"not a valid {kind} file ({type(exc).__name__}: {exc}); open and re-save it, then ingest again")


def parse_pptx(path: Path) -> ParsedDocument:
    """One section per slide (page = slide number): its title as heading, then text, tables and speaker notes."""
    from pptx import Presentation
    from pptx.enum.shapes import MSO_SHAPE_TYPE

    try:
        presentation = Presentation(str(path))
    except Exception as exc:  # python-pptx raises a zoo of errors for broken packages
        raise _broken("PPTX", exc) from exc

    def texts(shapes) -> Iterable[str]:
        for shape in shapes:
            if shape.shape_type == MSO_SHAPE_TYPE.GROUP:
                yield from texts(shape.shapes)
            elif shape.has_text_frame and shape.text_frame.text.strip():
                yield shape.text_frame.text.strip()
            elif getattr(shape, "has_table", False) and shape.has_table:  # rows keep their column names
                yield from table_rows([[cell.text.strip() for cell in row.cells] for row in shape.table.rows])

    sections = []
    title = (presentation.core_properties.title or "").strip()
    for number, slide in enumerate(presentation.slides, 1):
        heading = slide.shapes.title.text.strip() if slide.shapes.title is not None and slide.shapes.title.text else ""
        body = list(texts(slide.shapes))
        if slide.has_notes_slide and slide.notes_slide.notes_text_frame is not None:
            notes = slide.notes_slide.notes_text_frame.text.strip()
            if notes:
                body.append(f"Notes: {notes}")
        if body:
            sections.append(Section("\n".join(body), f"Slide {number}" + (f": {heading}" if heading else ""), number))
        title = title or heading
    return ParsedDocument(title or path.stem, sections)


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def table_sections(name: str, rows: Iterable[Iterable]) -> list[Section]:
    """Rows of one sheet → sections of ROWS_PER_SECTION rows. A first row of text is the header."""
    header: list[str] | None = None
    sections, block, first = [], [], None
    number = 0
    for number, raw in enumerate(rows, 1):
        cells = [_cell(v) for v in raw]
        if not any(cells):
            continue
        if header is None and number == 1 and all(c and not c.replace(".", "").isdigit() for c in cells if c):
            header = cells
            continue
        line = " | ".join(
            f"{header[i]}: {c}" if header and i < len(header) and header[i] else c for i, c in enumerate(cells) if c
        )
        first = first or number
        block.append(line)
        if len(block) == ROWS_PER_SECTION:
            sections.append(Section("\n".join(block), f"{name} > rows {first}-{number}"))
            block, first = [], None
    if block:
        sections.append(Section("\n".join(block), f"{name} > rows {first}-{number}"))
    return sections


def parse_xlsx(path: Path) -> ParsedDocument:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(str(path), read_only=True, data_only=True)
    except zipfile.BadZipFile as exc:
        raise ParseError(
            "not a readable XLSX file: it is encrypted with a password or damaged; save an "
            "unprotected copy and ingest that"
        ) from exc
    except Exception as exc:
        raise _broken("XLSX", exc) from exc
    try:
        sections = [
            s
            for sheet in workbook.worksheets
            for s in table_sections(f"Sheet {sheet.title}", sheet.iter_rows(values_only=True))
        ]
        title = (workbook.properties.title or "").strip()
    finally:
        workbook.close()
    return ParsedDocument(title or path.stem, sections)


def parse_xls(path: Path) -> ParsedDocument:
    import xlrd

    try:
        book = xlrd.open_workbook(str(path), on_demand=True)
    except Exception as exc:
        raise _broken("XLS", exc) from exc
    sections = [
        s
        for sheet in book.sheets()
        for s in table_sections(f"Sheet {sheet.name}", (sheet.row_values(i) for i in range(sheet.nrows)))
    ]
    return ParsedDocument(path.stem, sections)


def parse_delimited(path: Path) -> ParsedDocument:
    """CSV (delimiter sniffed) or TSV, in any encoding."""
    text = decode_text(path.read_bytes(), path)
    if path.suffix.lower() == ".tsv":
        dialect = csv.excel_tab
    else:
        try:
            dialect = csv.Sniffer().sniff(text[:8192], delimiters=",;\t|")
        except csv.Error:
            dialect = csv.excel
    csv.field_size_limit(10 * 1024 * 1024)
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), dialect))
    except csv.Error as exc:
        raise _broken(path.suffix.upper().lstrip("."), exc) from exc
    return ParsedDocument(path.stem, table_sections(path.name, rows))


def parse_odt(path: Path) -> ParsedDocument:
    """OpenDocument text: headings (with outline level), paragraphs, list items and table rows from content.xml."""
    from lxml import etree

    text_ns = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
    table_ns = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
    try:
        with zipfile.ZipFile(path) as archive:
            root = etree.fromstring(archive.read("content.xml"))
    except (zipfile.BadZipFile, KeyError, etree.XMLSyntaxError) as exc:
        raise _broken("ODT", exc) from exc
    builder = SectionBuilder()
    for element in root.iter(f"{{{text_ns}}}h", f"{{{text_ns}}}p", f"{{{table_ns}}}table-row"):
        if element.tag == f"{{{table_ns}}}table-row":
            builder.text(" | ".join("".join(cell.itertext()).strip() for cell in element))
            continue
        if any(parent.tag == f"{{{table_ns}}}table-cell" for parent in element.iterancestors()):
            continue  # part of a table row, written above
        text = "".join(element.itertext()).strip()
        if not text:
            continue
        if element.tag == f"{{{text_ns}}}h":
            builder.heading(int(element.get(f"{{{text_ns}}}outline-level", "1")), text)
        else:
            builder.text(text)
    return ParsedDocument(path.stem, builder.done())


def parse_epub(path: Path) -> ParsedDocument:
    """EPUB: the chapters in reading order (the OPF spine), each parsed as HTML."""
    import posixpath

    from lxml import etree

    try:
        with zipfile.ZipFile(path) as archive:
            container = etree.fromstring(archive.read("META-INF/container.xml"))
            opf_path = container.xpath("//*[local-name()='rootfile']/@full-path")[0]
            opf = etree.fromstring(archive.read(opf_path))
            manifest = {item.get("id"): item.get("href") for item in opf.xpath("//*[local-name()='item']")}
            spine = [manifest[ref] for ref in opf.xpath("//*[local-name()='itemref']/@idref") if ref in manifest]
            title = " ".join(opf.xpath("//*[local-name()='title']/text()")).strip()
            base = posixpath.dirname(opf_path)
            sections = []
            for href in spine:
                chapter = html_document(archive.read(posixpath.join(base, href)).decode("utf-8", "replace"), "")
                sections += [
                    Section(s.text, " > ".join(p for p in (chapter.title, s.heading) if p)) for s in chapter.sections
                ]
    except (zipfile.BadZipFile, KeyError, IndexError, etree.XMLSyntaxError) as exc:
        raise _broken("EPUB", exc) from exc
    return ParsedDocument(title or path.stem, sections)


def parse_rtf(path: Path) -> ParsedDocument:
    from striprtf.striprtf import rtf_to_text

    raw = path.read_bytes()
    if not raw.lstrip().startswith(b"{\\rtf"):
        raise ParseError("not an RTF file (it does not start with {\\rtf)")
    return ParsedDocument(path.stem, [Section(rtf_to_text(raw.decode("cp1252", errors="replace")).strip())])
