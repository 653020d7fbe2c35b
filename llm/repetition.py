"""A small model can fall into a loop, writing the same sentence until the token limit ("When is salary paid?"
ran 150 s that way). The answer path stops the model as soon as its text repeats itself and keeps one copy."""

from __future__ import annotations

import re

_SENTENCE = re.compile(r"(?<=[.!?。！？])\s*")


def repetition_cut(text: str, copies: int = 3, min_period: int = 12, max_period: int = 400) -> int | None:
    """Where to cut `text` so that only the first copy of a loop is kept, or None when it does not loop: it ends in
    `copies` back-to-back copies of one stretch (at least `min_period` characters): keep the first; or one sentence
    of at least `min_period` characters has been written `copies` times: keep what came before its second time."""
    for period in range(min_period, min(max_period, len(text) // copies) + 1):
        tail = text[-period:]
        if all(text[len(text) - (k + 1) * period : len(text) - k * period] == tail for k in range(1, copies)):
            return len(text) - (copies - 1) * period
    starts: dict[str, list[int]] = {}
    position = 0
    for sentence in _SENTENCE.split(text):
        start = text.find(sentence, position)
        position = start + len(sentence)
        key = " ".join(sentence.lower().split())
        if len(key) >= min_period:
            starts.setdefault(key, []).append(start)
            if len(starts[key]) == copies:
                return starts[key][1]  # everything before the sentence came back
    return None
