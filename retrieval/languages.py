"""Which script a text is written in. Japanese (and Chinese) text has no spaces between words, so search, sentence
splitting and token counting each treat it differently; this is the one definition of what counts as CJK."""

from __future__ import annotations

import re

# hiragana, katakana, CJK ideographs (extension A and the unified block), compatibility ideographs, half-width kana
CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff\uff66-\uff9f]")


def is_cjk(text: str, threshold: float = 0.2) -> bool:
    """True when at least `threshold` of the text's letters are Japanese or Chinese characters."""
    letters = sum(1 for ch in text if ch.isalnum())
    return letters > 0 and len(CJK.findall(text)) / letters >= threshold
