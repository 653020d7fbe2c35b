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
    """The passage as Markdown with the quoted sentence in bold, so a reader sees it where it stands."""
    start = context.find(quote)
    if not quote or start < 0:
        return escaped(context)
    before, after = context[:start], context[start + len(quote) :]
    return f"{escaped(before)}**{escaped(quote)}**{escaped(after)}"
