"""Support tickets → draft replies grounded in the knowledge base, with internal notes for the agent.

The draft is built from retrieved passages only. Whatever writes the body (a model or the extractive
fallback), kura frames it in the house style and checks it: every sentence the model wrote is decided against
the passages it was given (llm/claims.py), and each one they do not support is listed in the agent's notes with
why (a changed amount, a promise the sources never make)."""

from __future__ import annotations

import dataclasses
import re
import tomllib
from collections.abc import Generator
from dataclasses import dataclass, field
from pathlib import Path

from ingest.mail import read_message
from llm.answer import Answerer, Citation, citation_of
from llm.backends import Effort
from llm.claims import Claim, grounded_share
from llm.evidence import best_evidence
from llm.notes import Note
from llm.prompt import build_messages, neutralise
from llm.reply import PLACEHOLDER, filled, ticket_questions, without_echo
from llm.response import Response
from retrieval.errors import ConfigError
from retrieval.types import AccessScope, SearchHit, readable_by


@dataclass(frozen=True)
class Ticket:
    subject: str
    body: str
    customer: str = ""
    product: str = ""

    SUFFIXES = (".txt", ".eml")  # the ticket files kura reads: plain text, or an e-mail

    @classmethod
    def from_text(cls, text: str) -> Ticket:
        """Plain text: optional `Subject:`, `Customer:` and `Product:` header lines, then the body."""
        fields, lines = {}, text.strip().splitlines()
        while lines and re.match(r"^(subject|customer|product|from)\s*:", lines[0], re.IGNORECASE):
            key, _, value = lines.pop(0).partition(":")
            fields[key.strip().lower()] = value.strip()
        body = "\n".join(lines).strip()
        return cls(
            fields.get("subject", ""), body, fields.get("customer", fields.get("from", "")), fields.get("product", "")
        )

    @classmethod
    def from_file(cls, path: Path) -> Ticket:
        return cls.from_bytes(Path(path).read_bytes(), Path(path).suffix)

    @classmethod
    def from_bytes(cls, data: bytes, suffix: str) -> Ticket:
        """A ticket file's content: an e-mail when suffix is .eml (read like an ingested one), else plain text."""
        if suffix.lower() != ".eml":
            return cls.from_text(data.decode("utf-8", errors="replace"))
        message = read_message(data)
        sender = message.headers["From"]
        name = sender.split("<")[0].strip().strip('"') if "<" in sender else sender
        return cls(message.headers["Subject"], message.body.strip(), name)


_GREETING = re.compile(
    r"^\s*(hi|hello|hey|dear|good (morning|afternoon|evening)|greetings|to whom)\b.*$|"
    r"^\s*(お世話になっております|こんにちは|いつもお世話になっております).*$",
    re.IGNORECASE,
)
_SIGN_OFF = re.compile(
    r"^\s*(--\s*$|best( regards)?|kind regards|regards|thanks|thank you|cheers|sincerely|"
    r"sent from my|よろしくお願いします|よろしくお願いいたします)\b",
    re.IGNORECASE,
)


def without_greeting_and_signature(text: str) -> str:
    """A message's substance: no greeting line, no sign-off or signature, no quoted mail."""
    lines = [line for line in text.splitlines() if not line.lstrip().startswith(">")]
    while lines and (not lines[0].strip() or _GREETING.match(lines[0])):
        lines.pop(0)
    for index, line in enumerate(lines):
        if _SIGN_OFF.match(line) and len(line.split()) <= 4:  # "Thanks, Mei", not "Thank you for the logs: …"
            lines = lines[:index]
            break
    return "\n".join(lines).strip()


def ticket_query(ticket: Ticket) -> str:
    """What the customer is asking about: subject and body without greeting, signature and quoted mail."""
    return "\n".join(
        part for part in (ticket.subject, without_greeting_and_signature(ticket.body), ticket.product) if part
    )


APPROVED_REPLY_MARKER = "Approved reply:"
_CITATION_MARK = re.compile(r" ?\[\d{1,2}\]")  # [n] points into the old draft's sources, meaningless later


def approved_reply_document(ticket: Ticket, reply: str) -> str:
    """An approved reply as a knowledge-base document: the question and the reply's substance in one section,
    so a short pair is one passage and the next similar ticket retrieves the answer with its question."""
    return (
        f"# Approved reply: {ticket.subject or 'support ticket'}\n\nCustomer question:\n{ticket_query(ticket)}\n\n"
        f"{APPROVED_REPLY_MARKER}\n{_CITATION_MARK.sub('', without_greeting_and_signature(reply))}\n"
    )


@dataclass(frozen=True)
class HouseStyle:
    greeting: str = "Hello {customer},"
    anonymous_greeting: str = "Hello,"
    sign_off: str = "Best regards,\nCustomer Support"
    tone: str = "friendly, clear and concise"
    language: str = "English"
    prefer_sources: tuple[str, ...] = ("/approved-replies/", "/support/")

    @classmethod
    def load(cls, path: Path | None) -> HouseStyle:
        """A TOML file with any of the fields above; missing fields keep their defaults."""
        if path is None:
            return cls()
        try:
            data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(
                f"the house style {path} cannot be read ({exc}); fix it or unset KURA_DRAFT_STYLE"
            ) from exc
        if "prefer_sources" in data:
            data["prefer_sources"] = tuple(data["prefer_sources"])
        unknown = set(data) - set(cls.__dataclass_fields__)
        if unknown:
            raise ConfigError(f"unknown house-style fields in {path}: {', '.join(sorted(unknown))}")
        return cls(**data)

    def frame(self, ticket: Ticket, body: str) -> str:
        greeting = self.greeting.format(customer=ticket.customer) if ticket.customer else self.anonymous_greeting
        return f"{greeting}\n\n{body.strip()}\n\n{self.sign_off}"


@dataclass
class Draft:
    reply: str
    internal_notes: list[str]
    citations: list[Citation]
    abstained: bool
    backend: str
    error: str | None = None
    passages: list[SearchHit] = field(default_factory=list)  # what the draft was built from (not serialised)
    claims: list[Claim] = field(default_factory=list)  # each sentence the model wrote, checked against the passages
    grounded: float | None = None
    unanswered: list[str] = field(default_factory=list)  # the ticket's questions no passage answers
    fixed_notes: list[str] = field(default_factory=list)  # notes that do not change when the agent edits (not shown)
    generated: bool = False  # written by a model (and so checked sentence by sentence)

    def to_json(self) -> dict:
        data = dict(self.__dict__)
        data["citations"] = [c.to_json() for c in self.citations]
        data["claims"] = [c.to_json() for c in self.claims]
        data.pop("passages")
        data.pop("fixed_notes")
        return data

    def readable_by(self) -> tuple[str, ...]:
        """Groups that may read every passage the draft was built from: the model saw them all, so an approved
        reply may repeat any of them, cited or not. Empty when no group can read them all."""
        return readable_by(self.passages)


def drafting_messages(style: HouseStyle, ticket: Ticket, passages: list[SearchHit]) -> list[dict]:
    """The prompt a draft of `ticket` from these passages is written from: what a fine-tuned model learns from."""
    return build_messages(ticket_query(ticket), passages, _drafting_prompt(style, ticket))


def _drafting_prompt(style: HouseStyle, ticket: Ticket) -> str:
    return (
        f"Write the body of a reply to this customer support ticket, in {style.language}, {style.tone}. "
        "Use only facts from the numbered sources and cite them as [n]. Do not promise refunds, credits, "
        "prices, dates or timelines unless a source states them. Answer every question of the request. Do not "
        "write a greeting or a sign-off, do not repeat the request, and do not use placeholders like [name].\n\n"
        f"Customer's request:\n{neutralise(ticket_query(ticket))}\n\nReply body:"
    )


class Drafter:
    """Drafts replies with an Answerer's retriever, evidence and backend; frames and checks them."""

    def __init__(self, answerer: Answerer, style: HouseStyle = HouseStyle()) -> None:
        self.answerer = answerer
        self.style = style

    def _prefer(self, hits: list[SearchHit]) -> list[SearchHit]:
        """Approved replies, then support articles, then everything else; by score within each."""

        def rank(hit: SearchHit) -> int:
            return next(
                (i for i, part in enumerate(self.style.prefer_sources) if part in hit.chunk.source),
                len(self.style.prefer_sources),
            )

        return sorted(hits, key=rank)

    def stream(
        self,
        ticket: Ticket,
        scope: AccessScope,
        *,
        reasoning_effort: Effort | None = Effort.MEDIUM,
        stream: bool = True,
    ) -> Response[Draft]:
        """The reply body as it is written, then the final Draft."""
        return Response(self._steps(ticket, scope, reasoning_effort, stream))

    def _steps(self, ticket: Ticket, scope: AccessScope, reasoning_effort, stream) -> Generator[str, None, Draft]:
        substance = without_greeting_and_signature(ticket.body)
        answering = self.answerer.stream(
            ticket_query(ticket),
            scope,
            reasoning_effort=reasoning_effort,
            stream=stream,
            instruction=_drafting_prompt(self.style, ticket),
            rank=self._prefer,
            also=ticket_questions(ticket.subject, substance),
        )
        generative = self.answerer.backend.generative
        for text in answering:
            if generative:  # the extractive body is rebuilt below as a reply, not streamed as quotes
                yield text
        result = answering.result()
        notes = []
        if not ticket.customer:
            notes.append(Note("no_customer_name"))
        unanswered = [q for q, best in result.found.items() if best < self.answerer.options.abstain_below]
        if result.abstained:
            body = (
                "Thank you for your message. We are looking into your question and will get back to you "
                "as soon as we can."
            )
            notes.append(Note("no_passage_for_ticket"))
            unanswered = []
        elif not generative:
            # Without a model, the best passage for each part of the ticket (steps and all) is what an agent can
            # edit into a reply: a ticket about a stuck sync and a refund gets both articles, each cited.
            best = next(h for h in result.passages if h.chunk.chunk_id == result.citations[0].chunk_id)
            questions = [ticket_query(ticket), *ticket_questions(ticket.subject, substance)]
            body, citations = self._quoted(questions, result.passages, best)
            result.citations = citations or result.citations
            notes.append(Note("drafted_without_model"))
        else:
            body, echoed = without_echo(without_greeting_and_signature(result.answer), substance)
            if echoed:
                notes.append(Note("ticket_echo_removed", count=echoed))
            body, removed = filled(body, ticket.customer, ticket.product)
            notes += [Note("placeholder_removed", placeholder=placeholder) for placeholder in removed]
        if result.error:
            notes.append(Note("holding_reply", error=result.error))
            body = body or "Thank you for your message. We are looking into it and will reply shortly."
        written = generative and not result.abstained
        draft = Draft(self.style.frame(ticket, body), [], result.citations, result.abstained, result.backend,
                      result.error, result.passages, unanswered=unanswered, fixed_notes=notes,
                      generated=written)  # fmt: skip
        return self.checked(draft, draft.reply) if written else self._noted(draft)

    def _quoted(self, questions: list[str], passages: list[SearchHit], best: SearchHit) -> tuple[str, list[Citation]]:
        """The best passage (approved replies and support articles first), then the most similar passage for each
        other part of the ticket (at most three in all, each once), as a reply body quoting them."""
        threshold = self.answerer.options.abstain_below
        picked: list[SearchHit] = [best]
        for question in questions:
            query = self.answerer.embedder.embed_one(question)
            scored = [(float(query @ hit.vector), hit) for hit in passages if hit.vector is not None]
            similarity, hit = max(scored, key=lambda pair: pair[0], default=(0.0, None))
            if (
                hit is not None
                and similarity >= threshold
                and hit.chunk.chunk_id not in {p.chunk.chunk_id for p in picked}
            ):
                picked.append(hit)
        parts, citations = [], []
        for n, hit in enumerate(picked[:3], 1):
            passage = hit.chunk.text.split(APPROVED_REPLY_MARKER, 1)[-1]  # a past reply: its answer, not its question
            text = "\n".join(line for line in passage.splitlines() if not line.lstrip().startswith("#")).strip()
            parts.append(f"{text} [{n}]")
            quote = best_evidence(questions[0], [hit], self.answerer.embedder, self.answerer.across)
            citations.append(citation_of(n, hit, quote[0].quote if quote else text[:300]))
        return "Thank you for contacting us. Here is what our documentation says:\n\n" + "\n\n".join(parts), citations

    def checked(self, draft: Draft, reply: str) -> Draft:
        """The draft as the agent has edited it: every sentence checked against the passages again, and the notes
        (unsupported statements, placeholders left, questions no source answers) said anew."""
        if not draft.generated:
            return dataclasses.replace(draft, reply=reply)
        body = without_greeting_and_signature(reply)
        claims = self.answerer.checker.check(body, draft.passages) if body else []
        edited = dataclasses.replace(draft, reply=reply, claims=claims, grounded=grounded_share(claims))
        return self._noted(edited)

    @staticmethod
    def _noted(draft: Draft) -> Draft:
        notes = list(draft.fixed_notes)
        notes += [Note("unanswered_question", question=question) for question in draft.unanswered]
        if draft.generated:  # a quoted passage may have [brackets] of its own
            notes += [Note("placeholder_left", placeholder=m.group(0)) for m in PLACEHOLDER.finditer(draft.reply)]
        notes += [Note("not_in_sources", text=c.text, reason=c.reason) for c in draft.claims if not c.supported]
        for citation in draft.citations:
            name, where = citation.source.rsplit("/", 1)[-1], citation.heading or citation.title
            notes.append(Note("source_line", n=citation.n, name=name, where=where))
        return dataclasses.replace(draft, internal_notes=notes)

    def draft(self, ticket: Ticket, scope: AccessScope, *, reasoning_effort: Effort | None = Effort.MEDIUM) -> Draft:
        return self.stream(ticket, scope, reasoning_effort=reasoning_effort, stream=False).result()
