"""How well kura tells a follow-up ("Can it be split?") from a new question ("自転車通勤手当はいくらですか？" after a
question about dogs): llm.conversation.is_follow_up on labelled turns, English and Japanese. The rule was tuned on
turns.jsonl; held-out.jsonl was written afterwards and never tuned on.

    .venv/bin/python -m bench.follow_ups
"""

from __future__ import annotations

import json
from pathlib import Path

from llm.conversation import is_follow_up

DATA = Path(__file__).resolve().parent / "data" / "follow-ups"


def report(name: str) -> None:
    path = DATA / f"{name}.jsonl"
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    wrong = [r for r in rows if is_follow_up(r["question"], r["previous"]) != r["follow_up"]]
    for row in wrong:
        print(f"  wrong: {row['question']!r} after {row['previous']!r} (labelled follow_up={row['follow_up']})")
    follow_ups = [r for r in rows if r["follow_up"]]
    caught = sum(is_follow_up(r["question"], r["previous"]) for r in follow_ups)
    new = [r for r in rows if not r["follow_up"]]
    kept = sum(not is_follow_up(r["question"], r["previous"]) for r in new)
    print(f"{name}: accuracy {1 - len(wrong) / len(rows):.3f} on {len(rows)} turns; follow-ups recognised "
          f"{caught}/{len(follow_ups)}; new questions searched alone {kept}/{len(new)}")  # fmt: skip


def main() -> None:
    for name in ("turns", "held-out"):
        report(name)


if __name__ == "__main__":
    main()
