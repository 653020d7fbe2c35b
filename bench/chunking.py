"""Chunk size and overlap, and how the model's context is built from the hits, on a real employee handbook.

    .venv/bin/python -m bench.chunking [--sizes 100 150 200 250] [--overlaps 0 40]

The handbook (../shared/corpora/handbook: 16 Markdown files, 16k words) is ingested by kura's own pipeline into a
throwaway store once per chunking. 42 questions written for it (bench/data/handbook-qa/gold.jsonl) each name the
file that answers them and a fact, verbatim, that the answering passage contains. Per chunking: the answering
file first (source hit@1), the fact inside the first passage, the first 3 and the first 5 (what the model is
shown: KURA_TOP_K is 5), and how many tokens those 5 passages are. Then, on kura's chunking, two other ways to
fill the same five slots: at most one passage per document (diversity), and the best passages each with the
passages before and after it in its document (neighbour expansion)."""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
from pathlib import Path

import app  # noqa: F401  (offline mode)
from app.service import Kura
from app.settings import Settings
from llm.evaluate import GoldQuestion, load_gold
from retrieval import AccessScope, Chunk, DenseEmbedder, SearchHit

HANDBOOK = Path(__file__).resolve().parents[2] / "shared" / "corpora" / "handbook"
GOLD = Path(__file__).resolve().parent / "data" / "handbook-qa" / "gold.jsonl"
SCOPE = AccessScope(("everyone",))
SLOTS = 5


def fact_rank(question: GoldQuestion, passages: list[Chunk]) -> int | None:
    """1-based position of the first passage holding the question's (first) fact, or None."""
    return next((i for i, c in enumerate(passages, 1) if question.facts[0] in c.text), None)


def diverse(hits: list[SearchHit], slots: int) -> list[Chunk]:
    """The best passage of each document, in rank order; the remaining slots go to the rest, in rank order."""
    seen, firsts, rest = set(), [], []
    for hit in hits:
        (rest if hit.chunk.doc_id in seen else firsts).append(hit.chunk)
        seen.add(hit.chunk.doc_id)
    return (firsts + rest)[:slots]


def with_neighbours(hits: list[SearchHit], slots: int, every: dict[tuple[str, int], Chunk]) -> list[Chunk]:
    """Each hit followed by its document's previous and next passage, until the slots are full."""
    chosen: dict[tuple[str, int], Chunk] = {}
    for hit in hits:
        for position in (hit.chunk.position, hit.chunk.position - 1, hit.chunk.position + 1):
            neighbour = every.get((hit.chunk.doc_id, position))
            if neighbour is not None and len(chosen) < slots:
                chosen.setdefault((neighbour.doc_id, position), neighbour)
    return list(chosen.values())


def measure(questions: list[GoldQuestion], ranked: list[tuple[list[Chunk], str]], embedder: DenseEmbedder) -> dict:
    """ranked: per question, its passages in the order shown and the source of the first search hit."""
    fact_ranks = [fact_rank(q, passages) for q, (passages, _) in zip(questions, ranked)]
    share = lambda hits: round(sum(hits) / len(questions), 3)  # noqa: E731
    return {
        "source@1": share(q.expected_source in first for q, (_, first) in zip(questions, ranked)),
        "fact@1": share(r is not None and r <= 1 for r in fact_ranks),
        "fact@3": share(r is not None and r <= 3 for r in fact_ranks),
        f"fact@{SLOTS}": share(r is not None for r in fact_ranks),
        "tokens": round(
            statistics.mean(sum(embedder.count_tokens(c.text) for c in passages) for passages, _ in ranked)
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 150, 200, 250])
    parser.add_argument("--overlaps", type=int, nargs="+", default=[0, 40])
    args = parser.parse_args()
    if not HANDBOOK.is_dir():
        raise SystemExit(f"{HANDBOOK} is missing: this benchmark reads the handbook from ../shared/corpora.")
    questions = load_gold(GOLD)
    embedder = DenseEmbedder()
    default = tuple(Settings.model_fields[name].default for name in ("chunk_tokens", "chunk_overlap"))
    rows = []
    for size in args.sizes:
        for overlap in (o for o in args.overlaps if o < size):
            with tempfile.TemporaryDirectory(prefix="kura-bench-chunking-") as home:
                kura = Kura(
                    Settings(
                        _env_file=None,
                        home=Path(home),
                        chunk_tokens=size,
                        chunk_overlap=overlap,
                        llm_backend="extractive",
                    )
                )
                kura.__dict__["embedder"] = embedder
                report = kura.ingestor.ingest([HANDBOOK], groups=SCOPE.groups)
                hits = {q: kura.retriever.search(q.question, SCOPE, k=3 * SLOTS) for q in questions}
                builds = {"top 5": lambda h: [x.chunk for x in h[:SLOTS]]}
                if (size, overlap) == default:
                    every = {(c.doc_id, c.position): c for c in kura_chunks(kura)}
                    builds["one passage per document"] = lambda h: diverse(h, SLOTS)
                    builds["each with its neighbours"] = lambda h, every=every: with_neighbours(h, SLOTS, every)
                for name, build in builds.items():
                    ranked = [(build(hits[q]), hits[q][0].chunk.source if hits[q] else "") for q in questions]
                    row = {
                        "chunk_tokens": size,
                        "overlap": overlap,
                        "context": name,
                        "chunks": report.chunks,
                        **measure(questions, ranked, embedder),
                    }
                    rows.append(row)
                    print(json.dumps(row), flush=True)
                kura.close()
    print(
        f"\n| chunk tokens | overlap | chunks | context (5 slots) | source@1 | fact@1 | fact@3 | fact@{SLOTS} "
        "| tokens in context |"
    )
    print("| ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: |")
    for r in rows:
        print(
            f"| {r['chunk_tokens']} | {r['overlap']} | {r['chunks']} | {r['context']} | {r['source@1']:.3f} "
            f"| {r['fact@1']:.3f} | {r['fact@3']:.3f} | {r[f'fact@{SLOTS}']:.3f} | {r['tokens']} |"
        )


def kura_chunks(kura: Kura) -> list[Chunk]:
    """Every chunk in the throwaway store (benchmark only: the product never reads a store unfiltered)."""
    import qdrant_edge as q

    chunks, offset = [], None
    while True:
        points, offset = kura.store._shard.scroll(q.ScrollRequest(limit=1000, offset=offset, with_payload=True))
        chunks += [Chunk.from_payload(p.payload) for p in points]
        if offset is None:
            return chunks


if __name__ == "__main__":
    main()
