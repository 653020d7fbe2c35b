"""Turning evidence into answers: prompts, chat backends (local llama.cpp, OpenAI-compatible), citations.

Names are imported on first use (PEP 562): `kura --help` or a settings check never loads the models,
Qdrant or torch that some of them need."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

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


def __getattr__(name: str) -> object:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_WHERE[name]), name)
    globals()[name] = value
    return value
