"""Turning evidence into answers: prompts, chat backends (local llama.cpp, OpenAI-compatible), citations.

Names are imported on first use (retrieval/exports.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from retrieval.exports import on_first_use

if TYPE_CHECKING:
    from llm.answer import ABSTAIN_MESSAGE, Answer, Answerer, AnswerOptions
    from llm.backends import (
        BackendName,
        ChatBackend,
        Effort,
        ExtractiveBackend,
        LLMError,
        LocalLlamaBackend,
        ModelSettings,
        OpenAIBackend,
        build_backend,
        probe_backend,
    )
    from llm.choices import Unsupported
    from llm.records import Citation
    from llm.response import Response

_WHERE = {
    "ABSTAIN_MESSAGE": "llm.answer",
    "Answer": "llm.answer",
    "Answerer": "llm.answer",
    "AnswerOptions": "llm.answer",
    "Citation": "llm.records",
    "Unsupported": "llm.choices",
    "BackendName": "llm.backends",
    "ChatBackend": "llm.backends",
    "Effort": "llm.backends",
    "ExtractiveBackend": "llm.backends",
    "LLMError": "llm.backends",
    "LocalLlamaBackend": "llm.backends",
    "ModelSettings": "llm.backends",
    "OpenAIBackend": "llm.backends",
    "build_backend": "llm.backends",
    "probe_backend": "llm.backends",
    "Response": "llm.response",
}
__all__ = [  # the same names as _WHERE
    "ABSTAIN_MESSAGE",
    "Answer",
    "AnswerOptions",
    "Answerer",
    "BackendName",
    "ChatBackend",
    "Citation",
    "Effort",
    "ExtractiveBackend",
    "LLMError",
    "LocalLlamaBackend",
    "ModelSettings",
    "OpenAIBackend",
    "Response",
    "Unsupported",
    "build_backend",
    "probe_backend",
]


__getattr__ = on_first_use(__name__, _WHERE)
