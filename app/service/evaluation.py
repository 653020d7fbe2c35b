"""Measuring quality (admins and the CLI): gold questions through the whole answer path, compared with the
previous run of the same file; BEIR datasets through retrieval. Both are audited like any other use case."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from app.service.caller import Caller
from app.service.wiring import Wiring
from llm.backends import BackendName
from retrieval.types import SearchMode

if TYPE_CHECKING:
    from retrieval.evaluate import BeirDataset, RetrievalReport


class Evaluation(Wiring):
    def eval_qa(
        self, caller: Caller, gold_name: str, gold_text: str, *, k: int = 5, backend: BackendName | str | None = None
    ) -> tuple[dict, dict | None]:
        """Runs a gold-question file (its name and JSON-lines text) within the caller's scope and records the run
        → (this run, the previous run of the same file or None)."""
        from llm.evaluate import evaluate_qa, parse_gold

        questions = parse_gold(gold_text, gold_name)
        summary = evaluate_qa(self.answerer(backend), questions, caller.scope(), k)
        summary.update(at=datetime.now(UTC).isoformat(timespec="seconds"), gold=Path(gold_name).name)
        history = self.settings.home / "eval-qa.jsonl"
        previous = None
        if history.is_file():
            runs = [json.loads(line) for line in history.read_text(encoding="utf-8").splitlines() if line]
            previous = next((run for run in reversed(runs) if run["gold"] == summary["gold"]), None)
        history.parent.mkdir(parents=True, exist_ok=True)
        with history.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(summary, ensure_ascii=False) + "\n")
        metrics = {m: v for m, v in summary.items() if m not in ("results", "at", "gold")}
        self.record(caller, "eval_qa", gold=summary["gold"], groups=list(caller.groups), **metrics)
        return summary, previous

    def eval_retrieval(
        self, caller: Caller, dataset: BeirDataset, modes: Sequence[SearchMode], k: int = 10
    ) -> Iterator[tuple[RetrievalReport, dict]]:
        """Each mode's report and run over a BEIR dataset indexed into a throwaway store (never the library)."""
        from retrieval.evaluate import evaluate_retrieval

        self.record(caller, "eval_retrieval", dataset=dataset.name, modes=[str(m) for m in modes])
        retriever = self.eval_retriever(dataset)
        for mode in modes:
            yield evaluate_retrieval(retriever, dataset, mode, k)
