"""`local`: a GGUF model in this process through llama-cpp-python: no server, no network."""

from __future__ import annotations

import os
import threading
from pathlib import Path

from llm.backends.base import Delta, LLMError, ModelSettings


class LocalLlamaBackend:
    """A GGUF model in this process.

    One llama.cpp context is not thread-safe (concurrent sessions of the app crashed the process), so requests
    take turns: `ahead()` says how many are before a new one, for the app to show."""

    name = "local"
    generative = True
    rewrites_questions = False  # the small models that run on a laptop CPU garble follow-up rewrites
    demo = True
    takes_effort = False  # no reasoning effort to set
    named_models = False  # one GGUF file

    @classmethod
    def from_settings(cls, settings: ModelSettings) -> LocalLlamaBackend:
        return cls(settings.model_path, settings.context_tokens)

    @staticmethod
    def probe(settings: ModelSettings) -> str:
        return LocalLlamaBackend.model_file(settings.model_path)

    @staticmethod
    def model_file(model_path: Path) -> str:
        if not Path(model_path).is_file():
            raise LLMError(
                f"No model file at {model_path}. Run `make setup` to fetch the demo model, "
                "or set KURA_LLM_MODEL_PATH to a GGUF file."
            )
        return f"local GGUF {Path(model_path).name}"

    def __init__(self, model_path: Path, context_tokens: int = 4096) -> None:
        self.model_file(model_path)
        from llama_cpp import Llama

        self.description = f"llama.cpp in-process: {Path(model_path).name}"
        self._llama = Llama(
            model_path=str(model_path), n_ctx=context_tokens, n_threads=os.cpu_count() or 2, verbose=False
        )
        self._turn = threading.Lock()  # held for a whole reply: one generation at a time
        self._queued = 0
        self._counting = threading.Lock()

    def ahead(self) -> int:
        """Requests waiting for or holding the model now: a new one starts after all of them."""
        return self._queued

    def generate(self, messages, *, max_tokens, temperature, reasoning_effort=None, stream=True):
        # reasoning_effort has no meaning for a plain GGUF chat template; a gpt-oss GGUF reasons in harmony
        # channels inside the text, which the answerer's HarmonyFilter separates.
        with self._counting:
            self._queued += 1
        try:
            with self._turn:  # released when the reply ends, fails or is abandoned (generator closed)
                chunks = self._llama.create_chat_completion(
                    messages=messages, max_tokens=max_tokens, temperature=temperature, repeat_penalty=1.1, stream=True
                )
                for chunk in chunks:
                    choice = chunk["choices"][0]
                    yield Delta(text=choice["delta"].get("content") or "", finish_reason=choice.get("finish_reason"))
        finally:
            with self._counting:
                self._queued -= 1
