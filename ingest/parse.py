"""Files → ParsedDocument: a title and sections of text, each with its heading path and (for PDFs) page.

Markdown goes through LlamaIndex's MarkdownNodeParser. PDF, DOCX and HTML are read with pypdf, python-docx
and BeautifulSoup directly, because LlamaIndex's readers for them drop what citations need: PDFReader hides
encryption behind blind retries, DocxReader (docx2txt) loses headings, HTML readers lose the heading path.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from ingest import mail, office
from ingest.documents import ParsedDocument, ParseError, Section, SectionBuilder, cleaned, decode_text, heading_path


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


_HTML_BLOCKS = ["h1", "h2", "h3", "h4", "h5", "h6", "p", "li", "pre", "td", "th", "dt", "dd", "blockquote", "caption"]


def html_document(markup: str, fallback_title: str) -> ParsedDocument:
    """HTML → sections under their heading path; scripts, navigation, headers and footers dropped."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(markup, "html.parser")
    for tag in soup(["script", "style", "noscript", "nav", "header", "footer", "aside", "form", "template"]):
        tag.decompose()
    title = (soup.title.get_text(" ", strip=True) if soup.title else "") or fallback_title
    builder = SectionBuilder()
    for element in (soup.body or soup).find_all(_HTML_BLOCKS):
        if element.find_parent(_HTML_BLOCKS):
            continue  # nested block: its text is part of the outer one
        text = element.get_text(" ", strip=True)
        if text and element.name[0] == "h" and element.name[1:].isdigit():
            builder.heading(int(element.name[1:]), text)
        elif text:
            builder.text(text)
    return ParsedDocument(title, builder.done())


def parse_html(path: Path) -> ParsedDocument:
    return html_document(decode_text(path.read_bytes(), path), path.stem)


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
            for row in docx.table.Table(block, document).rows:
                try:
                    cells = [cell.text.strip() for cell in row.cells]
                except ValueError:  # a malformed grid (merged cells pointing nowhere): take the cells as written
                    cells = ["".join(tc.itertext()).strip() for tc in row._tr.tc_lst]
                builder.text(" | ".join(cells))
    return ParsedDocument(title or path.stem, builder.done())


def parse_xml(path: Path) -> ParsedDocument:
    from bs4 import BeautifulSoup

    text = BeautifulSoup(decode_text(path.read_bytes(), path), "lxml-xml").get_text("\n", strip=True)
    return ParsedDocument(path.stem, [Section(text)])


PARSERS: dict[str, Callable[[Path], ParsedDocument]] = {
    ".md": parse_markdown,
    ".markdown": parse_markdown,
    ".txt": parse_text,
    ".text": parse_text,
    ".rst": parse_text,
    ".org": parse_text,
    ".log": parse_text,
    ".html": parse_html,
    ".htm": parse_html,
    ".xhtml": parse_html,
    ".xml": parse_xml,
    ".pdf": parse_pdf,
    ".docx": parse_docx,
    ".pptx": office.parse_pptx,
    ".xlsx": office.parse_xlsx,
    ".xls": office.parse_xls,
    ".csv": office.parse_delimited,
    ".tsv": office.parse_delimited,
    ".odt": office.parse_odt,
    ".epub": office.parse_epub,
    ".rtf": office.parse_rtf,
    ".eml": mail.parse_eml,
    ".msg": mail.parse_msg,
}
LEGACY = {".doc": ".docx", ".ppt": ".pptx", ".xlsb": ".xlsx", ".pages": ".docx", ".key": ".pptx"}


def parse(path: Path) -> ParsedDocument:
    """Parse one file by its extension; ParseError with a readable reason when it cannot be read."""
    suffix = path.suffix.lower()
    if suffix in LEGACY:
        raise ParseError(
            f"the {suffix} format is not supported: open it in Office or LibreOffice, save it as "
            f"{LEGACY[suffix]}, and ingest that"
        )
    parser = PARSERS.get(suffix)
    if parser is None:
        raise ParseError(
            f"unsupported file type '{path.suffix or path.name}' (supported: {', '.join(sorted(PARSERS))})"
        )
    return cleaned(parser(path))
