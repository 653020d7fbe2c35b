"""Fine-tuning, as admins' use cases. Export turns what people approved into a dataset: each approved ticket reply
(the ticket, the passages its draft was built from, the reply as approved) and, by --min-rating, answers people
rated up (the question, the passages it cited, the answer). Only what the exporting admin may read goes in: an
example whose passages they cannot read now (or that were deleted) is left out and counted. Compare drafts the
held-out tickets with the base model and with the adapter, side by side."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from pathlib import Path

from app.service.caller import Caller
from app.service.wiring import Wiring
from llm.backends import backend_class
from llm.draft import HouseStyle, Ticket, drafting_messages, without_greeting_and_signature
from llm.finetune.compare import ModelScore, score
from llm.finetune.dataset import MIN_EXAMPLES, DatasetCard, DatasetError, Example, read_lines, write_dataset
from llm.prompt import build_messages
from retrieval.types import SearchHit, readable_by

APPROVED, ANSWER = "approved reply", "answer rated up"


class MinRating(StrEnum):
    """Which answers join the approved replies: those rated up, or also those nobody rated (never those rated down)."""

    UP = "up"
    UNRATED = "unrated"


@dataclass
class Comparison:
    dataset: str
    rows: list[ModelScore]

    def to_json(self) -> dict:
        return {"dataset": self.dataset, "rows": [row.to_json() for row in self.rows]}


def harmony(messages: list[dict], reply: str) -> tuple[dict, ...]:
    """kura's prompt as gpt-oss's chat template takes it: its instructions as the developer message."""
    roles = {"system": "developer"}
    return (
        *({**m, "role": roles.get(m["role"], m["role"])} for m in messages),
        {"role": "assistant", "content": reply},
    )


class Finetune(Wiring):
    def export_dataset(
        self,
        caller: Caller,
        out: Path,
        *,
        since: date | None = None,
        min_rating: MinRating = MinRating.UP,
        redact: bool = True,
        min_examples: int = MIN_EXAMPLES,
        validation_percent: int = 10,
    ) -> DatasetCard:
        """train.jsonl, validation.jsonl, validation-tickets.jsonl and the card in `out` (DatasetError when too few)."""
        caller.require_admin("export training data")
        card = DatasetCard(redacted=redact, exported_by=caller.name)
        after = since.isoformat() if since else ""
        examples = self._approved_examples(caller, card) + self._answer_examples(caller, card, min_rating)
        examples = [e for e in examples if e.at >= after]
        card = write_dataset(examples, out, card, validation_percent=validation_percent, min_examples=min_examples)
        self.record(caller, "finetune_export", out=str(out), **card.to_json())
        return card

    def _readable(self, caller: Caller, chunk_ids: list[str], card: DatasetCard) -> list[SearchHit] | None:
        """The passages, in the order given, if there are any and the caller may read every one of them today."""
        if not chunk_ids:
            card.skipped["written without passages (nothing to ground it)"] += 1
            return None
        found = {c.chunk_id: c for c in self.store.passages(caller.scope(), chunk_ids=chunk_ids)}
        if len(found) < len(set(chunk_ids)):
            card.skipped["passages you may not read, or deleted"] += 1
            return None
        return [SearchHit(found[i], 0.0) for i in chunk_ids]

    def _approved_examples(self, caller: Caller, card: DatasetCard) -> list[Example]:
        style = HouseStyle.load(self.settings.draft_style)
        found = []
        for path in sorted((self.training_dir / "approved").glob("*.json")):
            record = json.loads(path.read_text(encoding="utf-8"))
            hits = self._readable(caller, record["chunk_ids"], card)
            if hits is None:
                continue
            ticket = Ticket(**record["ticket"])
            body = without_greeting_and_signature(record["reply"])  # kura adds greeting and sign-off itself
            messages = harmony(drafting_messages(style, ticket, hits), body)
            found.append(Example(messages, APPROVED, record["at"], readable_by(hits), record["ticket"]))
        return found

    def _answer_examples(self, caller: Caller, card: DatasetCard, min_rating: MinRating) -> list[Example]:
        entries = self.audit.read(limit=None)  # newest first; read once for ratings and answers
        ratings = {}
        for entry in reversed(entries):  # oldest first: the last rating wins
            if entry["action"] == "feedback":
                ratings[entry["turn"]] = entry["rating"]
        found = []
        for entry in (e for e in entries if e["action"] == "ask"):
            rating = ratings.get(entry.get("turn"))
            if rating != "up" and not (min_rating is MinRating.UNRATED and rating is None):
                continue
            kept = self.conversation_store.get(entry["user"], entry.get("conversation", ""))
            turn = next((t for t in kept.turns if t.id == entry["turn"]), None) if kept else None
            if turn is None or turn.stopped or turn.abstained or turn.error or not turn.citations:
                card.skipped["answers no longer kept, stopped or without sources"] += 1
                continue
            if not backend_class(turn.backend).generative:
                card.skipped["answers that quote passages (no model wrote them)"] += 1
                continue
            hits = self._readable(caller, [c.chunk_id for c in sorted(turn.citations, key=lambda c: c.n)], card)
            if hits is not None:
                messages = harmony(build_messages(turn.query, hits), turn.answer)
                found.append(Example(messages, ANSWER, entry["at"], readable_by(hits)))
        return found

    def compare_drafts(self, caller: Caller, dataset: Path, models: list[str], limit: int = 50) -> Comparison:
        """Draft each held-out ticket with each model (the base model's name and the adapter's, both served by the
        configured server) and score the drafts against the approved replies."""
        caller.require_admin("compare fine-tuned models")
        if not backend_class(self.settings.llm_backend).named_models:
            raise DatasetError("comparing models needs a server that serves them by name: KURA_LLM_BACKEND=openai")
        tickets = read_lines(Path(dataset), "validation-tickets.jsonl")[:limit]
        if not tickets:
            raise DatasetError(f"{dataset} holds no held-out tickets: export it again with `kura finetune export`")
        rows = []
        for model in models:
            drafter, pairs = self.drafter(model=model), []
            for item in tickets:
                draft = drafter.stream(Ticket(**item["ticket"]), caller.scope(), stream=False).result()
                supported = sum(c.supported for c in draft.claims) / len(draft.claims) if draft.claims else None
                pairs.append(
                    (item["approved"], without_greeting_and_signature(draft.reply), supported, bool(draft.error))
                )
            rows.append(score(model, pairs))
        comparison = Comparison(str(dataset), rows)
        (self.training_dir / "comparison.json").write_text(json.dumps(comparison.to_json(), indent=2))
        self.record(caller, "finetune_eval", dataset=str(dataset), models=models, tickets=len(tickets))
        return comparison

    def last_comparison(self) -> dict | None:
        """The latest `kura finetune eval`, for the Evaluate page."""
        path = self.training_dir / "comparison.json"
        return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None
