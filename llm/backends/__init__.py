"""The registry of chat backends: the one place a backend name means something.

`extractive` quotes the passages (no model), `local` runs a GGUF in-process with llama.cpp, `openai` talks to any
OpenAI-compatible server (vLLM serving gpt-oss in production). Each backend class is built from the same
ModelSettings and can say whether it would work (`probe`) without loading a model."""

from __future__ import annotations

from enum import StrEnum

from llm.backends.base import ChatBackend, Delta, Effort, LLMError, ModelSettings
from llm.backends.extractive import ExtractiveBackend
from llm.backends.local import LocalLlamaBackend
from llm.backends.openai_server import OpenAIBackend

__all__ = [
    "BackendName",
    "ChatBackend",
    "Delta",
    "Effort",
    "ExtractiveBackend",
    "LLMError",
    "LocalLlamaBackend",
    "ModelSettings",
    "OpenAIBackend",
    "REGISTRY",
    "backend_class",
    "build_backend",
    "probe_backend",
]


class BackendName(StrEnum):
    EXTRACTIVE = "extractive"
    LOCAL = "local"
    OPENAI = "openai"


REGISTRY: dict[BackendName, type[ChatBackend]] = {
    BackendName.EXTRACTIVE: ExtractiveBackend,
    BackendName.LOCAL: LocalLlamaBackend,
    BackendName.OPENAI: OpenAIBackend,
}


def backend_class(name: BackendName | str) -> type[ChatBackend]:
    """What a backend is (its name, whether it writes, whether it is a demo model) before building it."""
    return REGISTRY[BackendName(name)]


def build_backend(name: BackendName | str, settings: ModelSettings) -> ChatBackend:
    """The named backend, ready to generate; LLMError when it cannot start (no model file, …)."""
    return backend_class(name).from_settings(settings)


def probe_backend(name: BackendName | str, settings: ModelSettings) -> str:
    """Whether the named backend would answer, said in a line; raises with the reason when it would not. Never
    loads a model: a status page must stay fast."""
    return backend_class(name).probe(settings)
