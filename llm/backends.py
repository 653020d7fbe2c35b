"""Chat backends behind one small interface: generate(messages) yields Deltas.

`local` runs a GGUF in-process with llama.cpp; `openai` talks to any OpenAI-compatible server (vLLM serving
gpt-oss in production, llama.cpp's server, LM Studio). Reasoning that servers send in a separate field
(`reasoning`, or `reasoning_content` before vLLM 0.11) arrives as Delta.reasoning, never as answer text."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

Effort = Literal["low", "medium", "high"]


class LLMError(RuntimeError):
    """The model could not answer; the message tells the user what happened and what to do."""


@dataclass(frozen=True)
class Delta:
    """A piece of a model's reply. The last one of a complete reply carries finish_reason."""

    text: str = ""
    reasoning: str = ""
    finish_reason: str | None = None


class ChatBackend(Protocol):
    name: str
    description: str

    def generate(self, messages: list[dict], *, max_tokens: int, temperature: float,
                 reasoning_effort: Effort | None = None, stream: bool = True) -> Iterator[Delta]: ...


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

    def generate(self, messages, *, max_tokens, temperature, reasoning_effort=None, stream=True):
        # reasoning_effort has no meaning for a plain GGUF chat template; a gpt-oss GGUF reasons in harmony
        # channels inside the text, which the answerer's HarmonyFilter separates.
        chunks = self._llama.create_chat_completion(
            messages=messages, max_tokens=max_tokens, temperature=temperature, repeat_penalty=1.1, stream=True
        )
        for chunk in chunks:
            choice = chunk["choices"][0]
            yield Delta(text=choice["delta"].get("content") or "", finish_reason=choice.get("finish_reason"))


def _reasoning_of(part) -> str:
    """The reasoning text of a delta or message, under either of vLLM's field names."""
    extra = getattr(part, "model_extra", None) or {}
    return extra.get("reasoning") or extra.get("reasoning_content") or getattr(part, "reasoning_content", None) or ""


class OpenAIBackend:
    """Any OpenAI-compatible chat server; in production gpt-oss served by vLLM inside the firewall.

    Retries (2, by the openai SDK) cover connection errors, 429 and 5xx before any text arrives; a stream that
    fails midway is not retried, since the user has already seen part of it."""

    name = "openai"

    def __init__(self, base_url: str, model: str, api_key: str, timeout_s: float = 120.0,
                 max_retries: int = 2) -> None:
        import openai

        self._openai = openai
        self.base_url = base_url
        self.model = model
        self.description = f"OpenAI-compatible server at {base_url}, model {model}"
        self._client = openai.OpenAI(base_url=base_url, api_key=api_key, timeout=timeout_s, max_retries=max_retries)

    def generate(self, messages, *, max_tokens, temperature, reasoning_effort=None, stream=True):
        errors = self._openai
        request = dict(model=self.model, messages=messages, max_tokens=max_tokens, temperature=temperature,
                       stream=stream)
        if reasoning_effort:
            request["reasoning_effort"] = reasoning_effort
        try:
            response = self._client.chat.completions.create(**request)
            if not stream:
                choice = response.choices[0]
                yield Delta(choice.message.content or "", _reasoning_of(choice.message), choice.finish_reason or "stop")
                return
            finished = False
            for chunk in response:
                for choice in chunk.choices or ():
                    delta = choice.delta
                    finished = finished or bool(choice.finish_reason)
                    yield Delta((delta.content or "") if delta else "", _reasoning_of(delta) if delta else "",
                                choice.finish_reason)
            if not finished:
                raise LLMError(f"The model server at {self.base_url} ended the answer stream before the model "
                               "finished (connection cut or server restarted). The partial answer is shown; ask again.")
        except errors.APITimeoutError as exc:
            raise LLMError(f"The model server at {self.base_url} did not answer in time. Check that it is running "
                           "and not overloaded (`docker compose ps vllm`), or raise KURA_LLM_TIMEOUT_S.") from exc
        except errors.APIConnectionError as exc:
            raise LLMError(f"The model server at {self.base_url} is not answering. Check that it is running "
                           "(`docker compose ps vllm`) and that KURA_LLM_BASE_URL is right.") from exc
        except errors.APIStatusError as exc:
            raise LLMError(f"The model server at {self.base_url} refused the request (HTTP {exc.status_code}: "
                           f"{str(exc.message)[:200]}). Check KURA_LLM_MODEL and KURA_LLM_API_KEY, and the "
                           "server's log (`docker compose logs vllm`).") from exc
        except (errors.APIError, json.JSONDecodeError, ValueError) as exc:
            raise LLMError(f"The model server at {self.base_url} sent a malformed response ({exc}). Check the "
                           "server's version and log (`docker compose logs vllm`).") from exc
