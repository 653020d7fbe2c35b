"""`extractive`: no model at all. The answer is the passages' best-supporting sentences, quoted and cited, so
nothing is ever said that the documents do not say. Also what kura falls back to when a model cannot start."""

from __future__ import annotations

from llm.backends.base import ModelSettings


class ExtractiveBackend:
    name = "extractive"
    description = "extractive (no model): answers quote the passages"
    generative = False
    rewrites_questions = False
    demo = False
    takes_effort = False  # no reasoning effort to set
    named_models = False

    @classmethod
    def from_settings(cls, settings: ModelSettings) -> ExtractiveBackend:
        return cls()

    @staticmethod
    def probe(settings: ModelSettings) -> str:
        return ExtractiveBackend.description

    def ahead(self) -> int:
        """Requests before a new one: none here (a server queues and batches on its own)."""
        return 0

    def generate(self, messages, *, max_tokens, temperature, reasoning_effort=None, stream=True):
        raise TypeError("the extractive backend writes nothing: the Answerer quotes the evidence instead")
