"""What turns a model's text into a reply an agent can send: the questions a ticket asks (each searched on its
own), template placeholders filled from the ticket or taken out, and the ticket never pasted back to its sender.
Greeting and sign-off are the house style's alone (draft.py frames the body)."""

from __future__ import annotations

import re

from retrieval.languages import is_cjk

MAX_QUESTIONS = 5
_SENTENCE = re.compile(r"(?<=[.!?。！？])\s+|\n+")
PLACEHOLDER = re.compile(r"\[(?!\d{1,2}\])([^\[\]\n]{2,40})\]|\{\{?\s*([A-Za-z_ ]{2,40})\s*\}\}?")
_CUSTOMER = {"customername", "customer", "name", "firstname", "clientname", "client", "username", "recipient"}
_PRODUCT = {"product", "productname", "service"}
ECHO_WORDS = 8  # a run of this many words from the ticket, in the reply, is the ticket repeated


def sentences(text: str) -> list[str]:
    return [part.strip() for part in _SENTENCE.split(text) if part.strip()]


def ticket_questions(subject: str, substance: str) -> list[str]:
    """What a ticket asks, one query each: its subject and each sentence of substance (a problem described, a
    request, a question), at most MAX_QUESTIONS. `substance` is the body without greeting, signature or quotes."""
    found = [subject] if subject.strip() else []
    for sentence in sentences(substance):
        if len(sentence.split()) >= 4 or (is_cjk(sentence) and len(sentence) >= 8):
            found.append(sentence)
    return list(dict.fromkeys(found))[:MAX_QUESTIONS]


def _key(name: str) -> str:
    return re.sub(r"[^a-z]", "", name.lower())


def filled(body: str, customer: str, product: str) -> tuple[str, list[str]]:
    """The body with [customer_name]-like placeholders filled from the ticket; a sentence holding one the ticket
    cannot fill ([email_address], [Your Name], {date}) is taken out. → (body, the placeholders taken out)."""
    values = {**dict.fromkeys(_CUSTOMER, customer), **dict.fromkeys(_PRODUCT, product)}

    def fill(match: re.Match) -> str:
        value = values.get(_key(match.group(1) or match.group(2)), "")
        return value or match.group(0)

    body, dropped = _without_sentences(PLACEHOLDER.sub(fill, body), lambda sentence: bool(PLACEHOLDER.search(sentence)))
    return body, list(dict.fromkeys(m.group(0) for sentence in dropped for m in PLACEHOLDER.finditer(sentence)))


def _without_sentences(body: str, drop) -> tuple[str, list[str]]:
    """The body without the sentences `drop` says so of, line breaks kept → (body, the sentences taken out)."""
    kept_lines, dropped = [], []
    for line in body.split("\n"):
        kept = []
        for sentence in re.split(r"(?<=[.!?。！？])\s+", line):
            (dropped if drop(sentence) else kept).append(sentence)
        kept_lines.append(" ".join(kept))
    return re.sub(r"\n{3,}", "\n\n", "\n".join(kept_lines)).strip(), dropped


def _word_runs(text: str, size: int) -> set[tuple[str, ...]]:
    words = re.findall(r"\w+", text.lower())
    return {tuple(words[i : i + size]) for i in range(len(words) - size + 1)}


def without_echo(body: str, ticket_text: str) -> tuple[str, int]:
    """The body without the sentences that repeat the ticket (a run of ECHO_WORDS words from it, or a quoted line).
    → (body, how many sentences were taken out)."""
    echoes = _word_runs(ticket_text, ECHO_WORDS)
    lines = body.split("\n")
    unquoted = "\n".join(line for line in lines if not line.lstrip().startswith(">"))
    body, dropped = _without_sentences(unquoted, lambda sentence: bool(_word_runs(sentence, ECHO_WORDS) & echoes))
    return body, len(dropped) + len(lines) - len(unquoted.split("\n"))
