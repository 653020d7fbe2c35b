"""The use cases that read the library: ask, search, draft a reply, approve it, download a cited original, and
rate an answer. Each takes the Caller, searches within the caller's scope only, and writes its audit entry."""

from __future__ import annotations

import dataclasses
import difflib
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from app.conversations import Turn, new_id
from app.service.caller import Caller, Forbidden
from app.service.wiring import Wiring
from llm.backends import BackendName, Effort, LLMError
from llm.conversation import standalone_question
from llm.notes import Note
from llm.response import Response
from retrieval.types import Chunk, SearchHit, SearchMode, joined

if TYPE_CHECKING:
    from llm.answer import Answer, Answerer
    from llm.draft import Draft, Ticket

T = TypeVar("T")


def audited(response: Response[T], record: Callable[[T | None, str], None]) -> Response[T]:
    """The same reply, recorded when it ends: with the result, or None and the text written so far when it was
    stopped."""

    def steps():
        result, written = None, []
        try:
            for text in response:
                written.append(text)
                yield text
            result = response.result()
            return result
        finally:
            response.close()
            record(result, "".join(written))

    return Response(steps(), response.progress)


def turn_of(
    turn_id: str, question: str, query: str, answer: Answer | None, written: str, backend: str, notice: str | None
) -> Turn:
    """What the reader was shown for one question: the whole checked answer, or what was written before Stop."""
    if answer is None:
        stopped = [Note("stopped")]
        return Turn(turn_id, question, query, written.strip(), warnings=stopped, backend=backend, stopped=True,
                    notice=notice)  # fmt: skip
    return Turn(
        turn_id, question, query, answer.answer, answer.abstained, answer.error, list(answer.warnings),
        list(answer.citations), list(answer.claims), answer.backend, notice=notice,
    )  # fmt: skip


@dataclass
class Asking:
    """An answer on its way. `response` streams it; the rest is known before its first word."""

    response: Response[Answer]
    query: str  # what was searched: a follow-up is rewritten as a standalone question
    conversation: str  # the conversation the turn is kept in (new_id() for a new one)
    turn: str
    notice: str | None = None  # the configured model could not start: the answer quotes the passages instead
    ahead: int = 0  # questions before this one at the model (the in-process model answers one at a time)


@dataclass
class Drafting:
    response: Response[Draft]
    notice: str | None = None


class Answers(Wiring):
    def _answerer_or_extractive(self, backend: BackendName | str | None) -> tuple[Answerer, str | None]:
        """The chosen model; if it cannot even start, the documents' own words, with a notice saying why."""
        try:
            return self.answerer(backend), None
        except LLMError as exc:
            return self.answerer(BackendName.EXTRACTIVE), str(exc)

    def ask(
        self,
        caller: Caller,
        question: str,
        *,
        conversation: str | None = None,
        history: Sequence[str] = (),
        alone: bool = False,
        backend: BackendName | str | None = None,
        effort: Effort | None = None,
        sources: Sequence[str | Path] = (),
        stream: bool = True,
        keep: bool = True,
    ) -> Asking:
        """A cited answer from the documents the caller may read. In a `conversation`, a follow-up ("and for
        part-time staff?") is searched as a whole question, unless asked `alone` (`history`: the questions before it,
        for a caller that keeps its own conversation, like an API client); with `keep`, the turn is added
        to the caller's conversation (a new one when none is given), stopped or not."""
        answerer, notice = self._answerer_or_extractive(backend)
        kept = self.conversation_store.get(caller.name, conversation) if conversation else None
        earlier = [] if alone else (kept.questions if kept else list(history))
        rewriter = answerer.backend if answerer.backend.rewrites_questions else None
        query = standalone_question(question, earlier, rewriter)
        response = answerer.stream(query, caller.scope(sources), reasoning_effort=effort, stream=stream)
        conversation_id, turn_id = (kept.id if kept else new_id()), new_id()
        name = answerer.backend.name

        def record(answer: Answer | None, written: str) -> None:
            self.record(
                caller, "ask", conversation=conversation_id, turn=turn_id, question=question, query=query,
                backend=name, groups=list(caller.groups), stopped=answer is None,
                abstained=answer.abstained if answer else None,
                chunk_ids=[c.chunk_id for c in answer.citations] if answer else [],
            )  # fmt: skip
            if keep:
                turn = turn_of(turn_id, question, query, answer, written, name, notice)
                self.conversation_store.add_turn(caller.name, conversation_id, turn)

        return Asking(audited(response, record), query, conversation_id, turn_id, notice, answerer.backend.ahead())

    def search(
        self,
        caller: Caller,
        query: str,
        *,
        k: int = 10,
        mode: SearchMode | None = None,
        sources: Sequence[str | Path] = (),
    ) -> list[SearchHit]:
        """Passages only, no model."""
        hits = self.retriever.search(query, caller.scope(sources), k=k, mode=mode)
        self.record(
            caller,
            "search",
            query=query,
            mode=mode,
            groups=list(caller.groups),
            chunk_ids=[h.chunk.chunk_id for h in hits],
        )
        return hits

    def draft(
        self,
        caller: Caller,
        ticket: Ticket,
        *,
        backend: BackendName | str | None = None,
        style: Path | None = None,
        tone: str | None = None,
        effort: Effort | None = Effort.MEDIUM,
        stream: bool = True,
    ) -> Drafting:
        """A reply to a support ticket grounded in the knowledge base, with notes for the agent."""
        answerer, notice = self._answerer_or_extractive(backend)
        drafter = self.drafter(answerer.backend.name, style, tone)
        response = drafter.stream(ticket, caller.scope(), reasoning_effort=effort, stream=stream)

        def record(draft: Draft | None, written: str) -> None:
            self.record(
                caller,
                "draft",
                subject=ticket.subject,
                backend=answerer.backend.name,
                groups=list(caller.groups),
                stopped=draft is None,
                abstained=draft.abstained if draft else None,
                chunk_ids=[c.chunk_id for c in draft.citations] if draft else [],
            )

        return Drafting(audited(response, record), notice)

    def checked_reply(self, draft: Draft, reply: str) -> Draft:
        """A draft as the agent edited it, checked again against its passages, with its notes said anew (no model
        is needed for that)."""
        return self.drafter(BackendName.EXTRACTIVE).checked(draft, reply)

    def is_reviewer(self, caller: Caller) -> bool:
        """May approve replies into shared knowledge (KURA_REVIEWER_GROUPS, default the admin groups)."""
        return bool(set(caller.groups) & set(self.settings.reviewers))

    def approve(self, caller: Caller, ticket: Ticket, draft: Draft, reply: str) -> tuple[Path, tuple[str, ...]]:
        """Stores an approved reply and audits it with the approver and their edits (a diff against the draft).
        It becomes knowledge only when approved by a reviewer with KURA_INGEST_APPROVED_REPLIES on, and only for
        the groups that may read every passage the draft was built from (none: stored, not ingested).
        → (file, groups it was ingested for)."""
        from llm.draft import approved_reply_document

        now = datetime.now(UTC)
        slug = re.sub(r"[^\w]+", "-", ticket.subject.lower()).strip("-")[:60] or "ticket"
        path = self.approved_dir / f"{now:%Y%m%d-%H%M%S-%f}-{slug}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(approved_reply_document(ticket, reply), encoding="utf-8")
        record = {
            "at": now.isoformat(),
            "approver": caller.name,
            "ticket": dataclasses.asdict(ticket),
            "reply": reply,
            "chunk_ids": [h.chunk.chunk_id for h in draft.passages],
        }  # fmt: skip  (a training example: finetune)
        (self.training_dir / "approved").mkdir(parents=True, exist_ok=True)
        (self.training_dir / "approved" / f"{path.stem}.json").write_text(json.dumps(record, ensure_ascii=False))
        reviewer = self.is_reviewer(caller)
        groups = draft.readable_by() if self.settings.ingest_approved_replies and reviewer else ()
        if groups:
            self.ingestor.ingest([path], groups=groups, delete_missing=False)
        edits = "".join(
            difflib.unified_diff(
                draft.reply.splitlines(keepends=True), reply.splitlines(keepends=True), "draft", "approved"
            )
        )
        self.record(
            caller,
            "approve",
            subject=ticket.subject,
            file=str(path),
            groups=list(groups),
            reviewer=reviewer,
            edited=bool(edits),
            diff=edits,
            chunk_ids=[h.chunk.chunk_id for h in draft.passages],
        )
        return path, groups

    def download(self, caller: Caller, source: str, chunk_id: str | None = None) -> Path:
        """The original file behind a citation, only if the caller may read at least one of its chunks now:
        knowing a path or id is not enough to download a document."""
        scope = dataclasses.replace(caller.scope(), sources=(source,))
        if self.store.count(scope) == 0:
            raise Forbidden("This document does not exist or you may not read it.")
        path = Path(source)
        if not path.is_file():
            raise FileNotFoundError(f"The original file is no longer at {source}; ask an admin to re-sync.")
        self.record(caller, "download", source=source, chunk_id=chunk_id)
        return path

    def read_document(self, caller: Caller, doc_id: str) -> tuple[Chunk, str]:
        """A whole document the caller may read → (its first passage, for title and source; its text). One the
        caller may not read is refused exactly like one that does not exist."""
        passages = self.store.passages(caller.scope(), doc_id=doc_id)
        if not passages:
            raise Forbidden(f"There is no document {doc_id!r}, or you may not read it.")
        self.record(caller, "document_read", doc_id=doc_id, source=passages[0].source)
        return passages[0], joined(passages)

    def feedback(self, caller: Caller, turn: str, question: str, rating: str | None, comment: str = "") -> None:
        """A thumbs up or down (and why) on one answer, for the admins' review."""
        self.record(caller, "feedback", turn=turn, question=question, rating=rating, comment=comment)
