"""`kura eval qa`: gold questions with the source they should be answered from (and facts the answer should
contain) → hit@k of that source among the cited passages, fact recall, and how well abstention behaves.

A gold file is JSON lines: {"question": "...", "expected_source": "leave-and-time-off.md", "facts": ["16 weeks"]}.
`expected_source` is matched as a substring of the passage's source path; null means the documents do not
answer the question and kura should abstain."""

from __future__ import annotations

import json
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from llm.answer import Answerer
from retrieval.errors import KuraError
from retrieval.types import AccessScope


@dataclass(frozen=True)
class GoldQuestion:
    question: str
    expected_source: str | None
    facts: tuple[str, ...] = ()


class GoldFileError(KuraError, ValueError):
    """A gold-question file that cannot be read; the message names the line and the expected shape."""


def load_gold(path: Path) -> list[GoldQuestion]:
    return parse_gold(Path(path).read_text(encoding="utf-8"), str(path))


def parse_gold(text: str, name: str) -> list[GoldQuestion]:
    """JSON lines of {"question", "expected_source", "facts"}; `name` is how messages refer to the file."""
    questions = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            questions.append(GoldQuestion(row["question"], row.get("expected_source"), tuple(row.get("facts", ()))))
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise GoldFileError(
                f"{name}, line {number}: not a gold question ({exc}); expected "
                '{"question": ..., "expected_source": ..., "facts": [...]}'
            ) from None
    if not questions:
        raise GoldFileError(f"{name} has no questions")
    return questions


def _normalise(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def evaluate_qa(answerer: Answerer, questions: list[GoldQuestion], scope: AccessScope, k: int = 5) -> dict:
    rows = []
    for gold in questions:
        answer = answerer.ask(gold.question, scope)
        sources = [hit.chunk.source for hit in answer.passages]
        rank = next((i for i, s in enumerate(sources, 1) if gold.expected_source and gold.expected_source in s), None)
        said = _normalise(answer.answer)
        text = said + " " + _normalise(" ".join(c.quote for c in answer.citations))
        found = [fact for fact in gold.facts if _normalise(fact) in text]
        rows.append(
            {
                "question": gold.question,
                "expected_source": gold.expected_source,
                "rank": rank,
                "hit": rank is not None and rank <= k,
                "cited": any(gold.expected_source and gold.expected_source in c.source for c in answer.citations),
                "facts": len(gold.facts),
                "facts_found": found,
                "abstained": answer.abstained,
                "facts_in_answer": [fact for fact in gold.facts if _normalise(fact) in said],
                "sentences": len(answer.claims),
                "supported": sum(c.supported for c in answer.claims),
            }
        )
    answerable = [r for r in rows if r["expected_source"]]
    abstained = [r for r in rows if r["abstained"]]
    should_abstain = [r for r in rows if not r["expected_source"]]
    return {
        "questions": len(rows),
        "k": k,
        f"hit@{k}": _ratio(sum(r["hit"] for r in answerable), len(answerable)),
        "cited": _ratio(sum(bool(r["cited"]) for r in answerable), len(answerable)),
        "fact_recall": _ratio(sum(len(r["facts_found"]) for r in rows), sum(r["facts"] for r in rows)),
        "answer_fact_recall": _ratio(sum(len(r["facts_in_answer"]) for r in rows), sum(r["facts"] for r in rows)),
        "grounded": _ratio(sum(r["supported"] for r in rows), sum(r["sentences"] for r in rows)),
        "abstention_precision": _ratio(sum(not r["expected_source"] for r in abstained), len(abstained)),
        "abstention_recall": _ratio(sum(r["abstained"] for r in should_abstain), len(should_abstain)),
        "backend": answerer.backend.name,
        "results": rows,
    }
