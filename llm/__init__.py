"""Turning evidence into answers: prompts, chat backends (local llama.cpp, OpenAI-compatible), citations."""

from llm.answer import ABSTAIN_MESSAGE, Answer, Answerer, AnswerOptions, Citation, Unsupported
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
from llm.response import Response

__all__ = [
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
