"""Which local chat model should be the default (`python -m bench.answer_models MODEL.gguf ...`)?

Each GGUF answers the 42 written handbook questions (bench/data/handbook-qa/gold.jsonl, over ../shared/corpora/
handbook) through kura's own answer path, in-process with llama.cpp. Reported per model: the share of the gold
facts found in the answer text alone (not in the quotes below it), the share of answer sentences the claim check
finds supported, how often it abstained, time to first token (p50) and tokens per second while writing."""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
import unicodedata
from pathlib import Path

import app  # noqa: F401  (offline mode before any model library loads)
from app.service import Kura
from app.settings import REPO_ROOT, Settings
from llm import Answer, Answerer, LocalLlamaBackend
from llm.evaluate import load_gold
from llm.tokens import count_tokens
from retrieval import AccessScope

HANDBOOK = REPO_ROOT.parent / "shared" / "corpora" / "handbook"
GOLD = REPO_ROOT / "bench" / "data" / "handbook-qa" / "gold.jsonl"
EVERYONE = AccessScope(("everyone",))


def _normal(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def measure(kura: Kura, model: Path, limit: int | None) -> dict:
    backend = LocalLlamaBackend(model, kura.settings.llm_context_tokens)
    answerer = Answerer(kura.retriever, kura.embedder, backend, kura.answerer("extractive").options)
    facts = found = sentences = supported = abstained = 0
    first_token, rates = [], []
    for gold in load_gold(GOLD)[:limit]:
        started, first, final = time.perf_counter(), None, None
        for event in answerer.stream(gold.question, EVERYONE):
            if isinstance(event, Answer):
                final = event
            elif first is None and event.strip():
                first = time.perf_counter()
        finished = time.perf_counter()
        abstained += final.abstained
        facts += len(gold.facts)
        found += sum(_normal(f) in _normal(final.answer) for f in gold.facts)
        sentences += len(final.claims)
        supported += sum(c.supported for c in final.claims)
        if first is not None:
            first_token.append(first - started)
            if finished > first:
                rates.append(count_tokens(final.answer) / (finished - first))
    return {
        "model": model.name,
        "questions": len(load_gold(GOLD)[:limit]),
        "fact_recall_in_answer": round(found / facts, 3) if facts else None,
        "supported_sentences": round(supported / sentences, 3) if sentences else None,
        "abstained": abstained,
        "ttft_p50_s": round(statistics.median(first_token), 2) if first_token else None,
        "tokens_per_s": round(statistics.median(rates), 1) if rates else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="+", type=Path)
    parser.add_argument("--limit", type=int, help="only the first N questions")
    args = parser.parse_args()
    if not HANDBOOK.is_dir():
        raise SystemExit(f"{HANDBOOK} is absent: the shared data folder must sit beside the checkout")
    with tempfile.TemporaryDirectory() as home:
        kura = Kura(Settings(home=Path(home), llm_backend="extractive", _env_file=None))
        try:
            kura.ingestor.ingest([HANDBOOK], groups=("everyone",))
            for model in args.models:
                print(json.dumps(measure(kura, model, args.limit)), flush=True)
        finally:
            kura.close()


if __name__ == "__main__":
    main()
