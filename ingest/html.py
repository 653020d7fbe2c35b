"""HTML → sections under their heading path, for .html files, HTML mail bodies and EPUB chapters alike.
Scripts, navigation, headers and footers are dropped: they are on every page and answer nothing."""

from __future__ import annotations

from ingest.documents import ParsedDocument, SectionBuilder

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
