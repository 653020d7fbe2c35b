"""HTML → sections under their heading path, for .html files, HTML mail bodies and EPUB chapters alike.
Scripts, navigation, headers and footers are dropped: they are on every page and answer nothing."""

from __future__ import annotations

from ingest.documents import ParsedDocument, SectionBuilder, table_rows

_HTML_BLOCKS = ["h1", "h2", "h3", "h4", "h5", "h6", "p", "li", "pre", "table", "dt", "dd", "blockquote", "caption"]


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
        if element.name == "table":  # rows keep their column names (documents.table_rows)
            rows = [
                [cell.get_text(" ", strip=True) for cell in tr.find_all(["th", "td"])] for tr in element.find_all("tr")
            ]
            for line in table_rows([row for row in rows if row]):
                builder.text(line)
            continue
        text = element.get_text(" ", strip=True)
        if text and element.name[0] == "h" and element.name[1:].isdigit():
            builder.heading(int(element.name[1:]), text)
        elif text:
            builder.text(text)
    return ParsedDocument(title, builder.done())
