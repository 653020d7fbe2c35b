"""What every chat backend is: generate(messages) yields Deltas. A backend says what it can do (write text,
rewrite follow-up questions, whether it is a small demo model) so callers never compare backend names."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Protocol

from retrieval.errors import KuraError


class Effort(StrEnum):
    """gpt-oss reasoning effort. Answers default to low (quick), ticket drafts to medium."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class LLMError(KuraError):
    """The model could not answer; the message tells the user what happened and what to do."""


@dataclass(frozen=True)
class Delta:
    """A piece of a model's reply. The last one of a complete reply carries finish_reason."""

    text: str = ""
    reasoning: str = ""
    finish_reason: str | None = None


@dataclass(frozen=True)
class ModelSettings:
    """What any backend may need, bound once from the settings."""

    model_path: Path = Path("model.gguf")
    context_tokens: int = 4096
    base_url: str = "http://localhost:8000/v1"
    model: str = "gpt-oss-20b"
    api_key: str = "not-needed"
    timeout_s: float = 120.0


class ChatBackend(Protocol):
    name: str
    description: str
    generative: bool  # False: the answer is the passages' own words (extractive); generate is never called
    rewrites_questions: bool  # good enough to turn a follow-up into a standalone question
    demo: bool  # a small model for trying kura out: the app says answers may be poor
    takes_effort: bool  # reasoning effort (gpt-oss) means something to it
    named_models: bool  # a server serving models by name: drafts may use another (KURA_DRAFT_MODEL, a LoRA adapter)

    @classmethod
    def from_settings(cls, settings: ModelSettings) -> ChatBackend:
        """Built and ready to generate; LLMError when it cannot start (no model file, …)."""
        ...

    @staticmethod
    def probe(settings: ModelSettings) -> str:
        """Whether it would answer, in a line, without loading a model; raises with the reason when not."""
        ...

    def ahead(self) -> int:
        """Requests waiting for or holding the model now: a new one starts after all of them."""
        ...

    def generate(
        self,
        messages: list[dict],
        *,
        max_tokens: int,
        temperature: float,
        reasoning_effort: Effort | None = None,
        stream: bool = True,
    ) -> Iterator[Delta]: ...
