"""How well the claim check tells supported sentences from unsupported ones (`python -m bench.grounding`).

bench/data/grounding/sentences.jsonl holds 169 written answer sentences over the sample knowledge base and the
Japanese handbook (bench/data/ja-handbook): faithful ones, paraphrases and summaries (supported), and every kind of
mistake a model makes (a changed number, unit or date, a swapped entity or role, a flipped negation or modality,
a fabricated addition). Each sentence is checked the way the product checks an answer: against the passages the
search returns for its question (top 5, the caller's view), after the answer's quotes were chosen from them (so the
passages' sentence vectors are already computed, as they are in the product). Reported: per type, the share judged unsupported;
precision and recall of "unsupported"; balanced accuracy; milliseconds per sentence (p50, p95)."""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import app  # noqa: F401  (offline mode before any model library loads)
from app.service import Kura
from app.settings import REPO_ROOT, Settings
from ingest import ParsedDocument, Section
from llm.claims import ClaimChecker
from llm.evidence import best_evidence
from retrieval import AccessScope

DATA = REPO_ROOT / "bench" / "data"
EVERYONE = AccessScope(("everyone",))


def knowledge(home: Path) -> Kura:
    """The samples, and the Japanese handbook's articles as documents, in a throwaway embedded store."""
    kura = Kura(Settings(home=home, llm_backend="extractive", _env_file=None))
    kura.ingestor.ingest([REPO_ROOT / "samples"], groups=("everyone",))
    articles = [json.loads(line) for line in (DATA / "ja-handbook" / "corpus.jsonl").read_text("utf-8").splitlines()]
    kura.ingestor.indexer.index_documents(
        [
            (
                f"ja-{a['_id']}",
                f"ja-handbook/{a['_id']}",
                ParsedDocument(a["title"], [Section(a["text"], a["title"])]),
                ("everyone",),
            )
            for a in articles
        ]
    )
    kura.store.optimize()
    return kura


def run(rows: list[dict], kura: Kura) -> list[dict]:
    checker = ClaimChecker(kura.embedder)
    checker.check("warm up the model.", kura.retriever.search("warm up", EVERYONE, k=1))
    results = []
    for row in rows:
        hits = kura.retriever.search(row["question"], EVERYONE, k=5)
        best_evidence(row["question"], hits, kura.embedder)  # the answer's quotes come first, as in the product
        started = time.perf_counter()
        claims = checker.check(row["claim"], hits)
        seconds = time.perf_counter() - started
        judged = bool(claims) and all(c.supported for c in claims)
        results.append(
            {
                **row,
                "judged_supported": judged,
                "ms_per_sentence": 1000 * seconds / max(len(claims), 1),
                "reason": "; ".join(c.reason for c in claims if not c.supported),
            }
        )
    return results


def summary(results: list[dict]) -> dict:
    def rate(items, key):
        return round(sum(key(r) for r in items) / len(items), 3) if items else None

    unsupported = [r for r in results if not r["supported"]]
    supported = [r for r in results if r["supported"]]
    flagged = [r for r in results if not r["judged_supported"]]
    recall = rate(unsupported, lambda r: not r["judged_supported"])
    specificity = rate(supported, lambda r: r["judged_supported"])
    times = sorted(r["ms_per_sentence"] for r in results)
    by_type, by_language = defaultdict(list), defaultdict(list)
    for r in results:
        by_type[r["type"]].append(r)
        by_language[r["lang"]].append(r)
    return {
        "sentences": len(results),
        "unsupported": len(unsupported),
        "precision_unsupported": rate(flagged, lambda r: not r["supported"]),
        "recall_unsupported": recall,
        "balanced_accuracy": round((recall + specificity) / 2, 3),
        "changed_numbers_accepted": sum(r["judged_supported"] for r in unsupported if r["type"] == "number"),
        "ms_per_sentence": {"p50": round(times[len(times) // 2], 1), "p95": round(times[int(len(times) * 0.95)], 1)},
        "judged_as_labelled_by_type": {
            t: {"n": len(items), "correct": rate(items, lambda r: r["judged_supported"] == r["supported"])}
            for t, items in sorted(by_type.items())
        },
        "balanced_accuracy_by_language": {
            lang: round(
                (
                    rate([r for r in items if not r["supported"]], lambda r: not r["judged_supported"])
                    + rate([r for r in items if r["supported"]], lambda r: r["judged_supported"])
                )
                / 2,
                3,
            )
            for lang, items in sorted(by_language.items())
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--errors", action="store_true", help="also print every sentence judged wrongly")
    args = parser.parse_args()
    rows = [json.loads(line) for line in (DATA / "grounding" / "sentences.jsonl").read_text("utf-8").splitlines()]
    with tempfile.TemporaryDirectory() as home:
        kura = knowledge(Path(home))
        try:
            results = run(rows, kura)
        finally:
            kura.close()
    print(json.dumps(summary(results), ensure_ascii=False, indent=2))
    if args.errors:
        for r in results:
            if r["judged_supported"] != r["supported"]:
                print(
                    f"{r['id']} {r['type']:10} labelled {'supported' if r['supported'] else 'unsupported'}: "
                    f"{r['claim']}  [{r['reason']}]"
                )


if __name__ == "__main__":
    main()
