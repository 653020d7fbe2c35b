"""Judgements for ../shared/datasets/business-reports made from report titles, because the shipped ones judge
the wrong reports (docs/benchmarks.md).

    .venv/bin/python -m bench.business_qrels   # writes bench/data/business-reports-qrels/test.tsv

bench/data/business-reports-qrels/by-title.tsv names, for each of the 50 queries, the one report it asks about,
chosen by reading the query and the corpus's report titles, before and without looking at any system's ranking.
Every chunk of that report is judged relevant (grade 1), the granularity of the shipped judgements."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

DATASET = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "business-reports"
FOLDER = Path(__file__).resolve().parent / "data" / "business-reports-qrels"
PART = re.compile(r" \(Part \d+/\d+\)$")  # a long report is stored as chunks titled "Title (Part n/m)"


def main() -> None:
    chunks: dict[str, list[str]] = {}
    with (DATASET / "corpus.jsonl").open(encoding="utf-8") as handle:
        for doc in map(json.loads, handle):
            chunks.setdefault(PART.sub("", doc.get("title") or ""), []).append(doc["_id"])
    with (FOLDER / "by-title.tsv").open(encoding="utf-8") as handle:
        rows = list(csv.reader(handle, delimiter="\t"))[1:]
    unknown = [title for _, title in rows if title not in chunks]
    if unknown:
        raise SystemExit(f"not a report title in the corpus: {unknown}")
    with (FOLDER / "test.tsv").open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, delimiter="\t", lineterminator="\n")
        writer.writerow(["query-id", "corpus-id", "score"])
        for query_id, title in rows:
            writer.writerows([query_id, chunk_id, 1] for chunk_id in chunks[title])
    print(f"{len(rows)} queries, {sum(len(chunks[t]) for _, t in rows)} judgements → {FOLDER / 'test.tsv'}")


if __name__ == "__main__":
    main()
