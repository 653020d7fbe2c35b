"""Token counting for the context budget, offline.

gpt-oss uses the o200k-based harmony encoding. tiktoken needs the vocabulary file; llama-index-core ships
o200k_base in its tiktoken cache, so kura points tiktoken there and never downloads. If that ever fails,
a documented estimate is used instead: one token per three characters of Latin text (o200k averages about
four, so this errs on the safe side) and one per CJK character (o200k averages a little under one)."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from retrieval.languages import CJK


@lru_cache(maxsize=1)
def _encoding():
    try:
        import llama_index.core
        import tiktoken

        bundled = Path(llama_index.core.__file__).parent / "_static" / "tiktoken_cache"
        os.environ.setdefault("TIKTOKEN_CACHE_DIR", str(bundled))
        return tiktoken.get_encoding("o200k_base")
    except Exception:  # no vocabulary available offline: fall back to the estimate
        return None


def count_tokens(text: str) -> int:
    encoding = _encoding()
    if encoding is not None:
        return len(encoding.encode(text, disallowed_special=()))
    return estimate_tokens(text)


def estimate_tokens(text: str) -> int:
    cjk = len(CJK.findall(text))
    return cjk + (len(text) - cjk + 2) // 3


def exact_counting() -> bool:
    """True when counts come from the real o200k vocabulary, not the estimate."""
    return _encoding() is not None
