"""gpt-oss's harmony channels are split however the text is chunked; plain text passes through untouched."""

from __future__ import annotations

import pytest

from llm.harmony import HarmonyFilter

RAW = (
    "<|channel|>analysis<|message|>User asks about leave. Source 1 says 16 weeks.<|end|>"
    "<|start|>assistant<|channel|>final<|message|>Parents get 16 weeks [1].<|return|>"
)


def run(text: str, size: int) -> tuple[str, str]:
    harmony, answer, reasoning = HarmonyFilter(), "", ""
    for start in range(0, len(text), size):
        a, r = harmony.feed(text[start : start + size])
        answer, reasoning = answer + a, reasoning + r
    a, r = harmony.flush()
    return answer + a, reasoning + r


@pytest.mark.parametrize("size", [1, 2, 3, 5, 8, 13, len(RAW)])
def test_channels_are_separated_at_any_chunking(size):
    assert run(RAW, size) == ("Parents get 16 weeks [1].", "User asks about leave. Source 1 says 16 weeks.")


@pytest.mark.parametrize("size", [1, 4, 100])
def test_plain_text_is_untouched(size):
    text = "Parents get 16 weeks [1]. A < sign, a <b>tag</b> and 1 <| 2 stay."
    assert run(text, size) == (text, "")


def test_commentary_channel_is_not_answer():
    raw = "<|channel|>commentary<|message|>calling a tool<|call|><|start|>assistant<|channel|>final<|message|>Done."
    assert run(raw, 4) == ("Done.", "calling a tool")
