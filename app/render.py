"""Text from documents and models, made safe to show as Markdown.

A model's answer is rendered as Markdown (headings, lists, emphasis) but can carry no link or image: an image
pointing at an outside server would leak the conversation the moment it loads, and Streamlit escapes raw HTML
(raw-HTML rendering is never switched on). Document text is escaped so it reads exactly as written."""

from __future__ import annotations

import re

_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_LINK = re.compile(r"(?<!!)\[([^\]]+)\]\((?:[^)(]|\([^)]*\))*\)")
_REFERENCE_DEFINITION = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*\S+.*$", re.MULTILINE)
_REFERENCE_USE = re.compile(r"!?\[([^\]]+)\]\[[^\]]*\]")
_AUTOLINK = re.compile(r"<((?:https?|ftp|mailto|file|data):[^>\s]*)>", re.IGNORECASE)
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|>~<$:])")


def safe_markdown(text: str) -> str:
    """A model's Markdown without images or links (their text stays); citation markers like [2] are kept."""
    text = _IMAGE.sub(lambda m: m.group(1), text)
    text = _REFERENCE_DEFINITION.sub("", text)
    text = _REFERENCE_USE.sub(lambda m: m.group(1), text)
    text = _LINK.sub(lambda m: m.group(1), text)
    return _AUTOLINK.sub(lambda m: m.group(1).replace(":", "\\:"), text)


def escaped(text: str) -> str:
    """Document text shown through Markdown exactly as written: every character Markdown would read is escaped,
    and line breaks are kept."""
    return "  \n".join(_MARKDOWN_SPECIAL.sub(r"\\\1", line) for line in text.split("\n"))


def in_context(context: str, quote: str) -> str:
    """The passage as Markdown with the quoted sentence in bold, so a reader sees it where it stands. The quote is
    found whatever the line breaks of the file (a sentence wrapped over two lines); heading lines are left out (the
    caption above says where the passage is)."""
    context = "\n".join(line for line in context.splitlines() if not line.lstrip().startswith("#")).strip()
    words = quote.split()
    found = re.search(r"\s+".join(map(re.escape, words)), context) if words else None
    if found is None:
        return escaped(context)
    before, said, after = context[: found.start()], found.group(0), context[found.end() :]
    return f"{escaped(before)}**{escaped(' '.join(said.split()))}**{escaped(after)}"
