"""Chat backends behind one small interface: stream(messages) yields answer text.

`local` runs a GGUF in-process with llama.cpp; `openai` talks to any OpenAI-compatible server (vLLM serving
gpt-oss in production, llama.cpp's server, LM Studio). Reasoning text that servers send in a separate field
(`reasoning` or `reasoning_content`) is never part of the answer."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol


class LLMError(RuntimeError):
    """The model could not answer; the message tells the user what happened and what to do."""


class ChatBackend(Protocol):
    name: str
    description: str

    def stream(self, messages: list[dict], *, max_tokens: int, temperature: float) -> Iterator[str]: ...


class LocalLlamaBackend:
    """A GGUF model in this process through llama-cpp-python: no server, no network."""

    name = "local"

    def __init__(self, model_path: Path, context_tokens: int = 4096) -> None:
        if not Path(model_path).is_file():
            raise LLMError(
                f"No model file at {model_path}. Run `make setup` to fetch the demo model, "
                "or set KURA_LLM_MODEL_PATH to a GGUF file."
            )
        from llama_cpp import Llama

        self.description = f"llama.cpp in-process: {Path(model_path).name}"
        self._llama = Llama(
            model_path=str(model_path), n_ctx=context_tokens, n_threads=os.cpu_count() or 2, verbose=False
        )

    def stream(self, messages, *, max_tokens, temperature):
        for chunk in self._llama.create_chat_completion(
            messages=messages, max_tokens=max_tokens, temperature=temperature, repeat_penalty=1.1, stream=True
        ):
            text = chunk["choices"][0]["delta"].get("content")
            if text:
                yield text


class OpenAIBackend:
    """Any OpenAI-compatible chat server; in production gpt-oss served by vLLM inside the firewall."""

    name = "openai"

    def __init__(self, base_url: str, model: str, api_key: str, timeout_s: float = 120.0) -> None:
        import openai

        self._openai = openai
        self.base_url = base_url
        self.model = model
        self.description = f"OpenAI-compatible server at {base_url}, model {model}"
        self._client = openai.OpenAI(base_url=base_url, api_key=api_key, timeout=timeout_s, max_retries=2)

    def stream(self, messages, *, max_tokens, temperature):
        errors = self._openai
        produced = False
        try:
            response = self._client.chat.completions.create(
                model=self.model, messages=messages, max_tokens=max_tokens, temperature=temperature, stream=True
            )
            for chunk in response:
                if not chunk.choices:
                    continue
                text = chunk.choices[0].delta.content
                if text:
                    produced = True
                    yield text
        except errors.APITimeoutError as exc:
            raise LLMError(f"The model server at {self.base_url} did not answer in time. Check that it is running "
                           "and not overloaded (e.g. `docker compose ps vllm`).") from exc
        except errors.APIConnectionError as exc:
            raise LLMError(f"The model server at {self.base_url} is not answering. Check that it is running "
                           "(e.g. `docker compose ps vllm`) and KURA_LLM_BASE_URL.") from exc
        except errors.APIStatusError as exc:
            raise LLMError(f"The model server at {self.base_url} refused the request (HTTP {exc.status_code}: "
                           f"{str(exc.message)[:200]}). Check KURA_LLM_MODEL and KURA_LLM_API_KEY.") from exc
        if not produced:
            raise LLMError(f"The model at {self.base_url} returned an empty answer. The sources below are still valid.")
