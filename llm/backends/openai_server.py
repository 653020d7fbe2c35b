"""`openai`: any OpenAI-compatible chat server; in production gpt-oss served by vLLM inside the firewall, also
llama.cpp's server or LM Studio. Reasoning that servers send in a separate field (`reasoning`, or
`reasoning_content` before vLLM 0.11) arrives as Delta.reasoning, never as answer text."""

from __future__ import annotations

import threading
import time

from llm.backends.base import Delta, LLMError, ModelSettings
from retrieval.urls import redacted


def _reasoning_of(part) -> str:
    """The reasoning text of a delta or message, under either of vLLM's field names."""
    extra = getattr(part, "model_extra", None) or {}
    return extra.get("reasoning") or extra.get("reasoning_content") or getattr(part, "reasoning_content", None) or ""


class OpenAIBackend:
    """Any OpenAI-compatible chat server; in production gpt-oss served by vLLM inside the firewall.

    `timeout_s` bounds the whole request, retries and streaming included: a server that only sends keep-alives,
    or one that never answers, ends in a clear error after timeout_s, not after the SDK's per-attempt timeouts
    added up. Retries (2) cover connection errors, timeouts, 429 and 5xx before any text arrives; a stream that
    fails midway is not retried, since the user has already seen part of it. A reply that is not a chat
    completion (not JSON, `{}`, no choices) is an LLMError, so the caller keeps its citations."""

    name = "openai"
    generative = True
    rewrites_questions = True
    demo = False
    takes_effort = True  # gpt-oss reasoning effort reaches the server
    named_models = True  # vLLM serves the base model and its LoRA adapters by name
    RETRY_PAUSE_S = 0.5

    def __init__(self, base_url: str, model: str, api_key: str, timeout_s: float = 120.0, max_retries: int = 2) -> None:
        import openai

        self._openai = openai
        self.base_url = redacted(base_url)  # as shown in messages: no credentials
        self.model = model
        self.timeout_s = timeout_s
        self.max_retries = max_retries
        self.description = f"OpenAI-compatible server at {self.base_url}, model {model}"
        self._client = openai.OpenAI(base_url=base_url, api_key=api_key, timeout=timeout_s, max_retries=0)

    def ahead(self) -> int:
        """Requests before a new one: none here (a server queues and batches on its own)."""
        return 0

    @classmethod
    def from_settings(cls, settings: ModelSettings) -> OpenAIBackend:
        return cls(settings.base_url, settings.model, settings.api_key, settings.timeout_s)

    @staticmethod
    def probe(settings: ModelSettings) -> str:
        """The server's model list, asked with a short timeout."""
        import httpx

        base_url, api_key = settings.base_url, settings.api_key
        try:
            response = httpx.get(
                base_url.rstrip("/") + "/models", timeout=5, headers={"Authorization": f"Bearer {api_key}"}
            )
            response.raise_for_status()
        except httpx.HTTPError as exc:  # its message would repeat the URL, credentials and all
            status = (
                f"HTTP {exc.response.status_code}" if isinstance(exc, httpx.HTTPStatusError) else type(exc).__name__
            )
            raise LLMError(f"{redacted(base_url)} did not answer ({status})") from None
        return f"{redacted(base_url)} serves {[m['id'] for m in response.json().get('data', [])]}"

    def _create(self, request: dict, deadline: float):
        """The request, retried while the budget lasts; each attempt gets only the time left."""
        errors = self._openai
        for attempt in range(self.max_retries + 1):
            left = deadline - time.monotonic()
            try:
                return self._client.chat.completions.create(**request, timeout=max(left, 0.001))
            except (errors.APIConnectionError, errors.RateLimitError, errors.InternalServerError):
                pause = self.RETRY_PAUSE_S * 2**attempt
                if attempt == self.max_retries or deadline - time.monotonic() <= pause:
                    raise
                time.sleep(pause)

    def generate(self, messages, *, max_tokens, temperature, reasoning_effort=None, stream=True):
        request = dict(
            model=self.model, messages=messages, max_tokens=max_tokens, temperature=temperature, stream=stream
        )
        if reasoning_effort:
            request["reasoning_effort"] = reasoning_effort
        deadline = time.monotonic() + self.timeout_s
        watchdog = response = None
        try:
            response = self._create(request, deadline)
            if not stream:
                choice = _first_choice(response)
                yield Delta(choice.message.content or "", _reasoning_of(choice.message), choice.finish_reason or "stop")
                return
            # keep-alive comments never reach this loop, so the deadline is kept by closing the stream from outside
            watchdog = threading.Timer(max(deadline - time.monotonic(), 0), response.close)
            watchdog.daemon = True
            watchdog.start()
            finished, answered = False, False
            for chunk in response:
                for choice in _choices(chunk):
                    delta = choice.delta
                    answered = True
                    finished = finished or bool(choice.finish_reason)
                    yield Delta(
                        (delta.content or "") if delta else "",
                        _reasoning_of(delta) if delta else "",
                        choice.finish_reason,
                    )
            if time.monotonic() >= deadline and not finished:
                raise LLMError(self._too_slow())
            if not answered:
                raise ValueError("the reply is not a chat completion stream (no choices in it)")
            if not finished:
                raise LLMError(
                    f"The model server at {self.base_url} ended the answer stream before the model "
                    "finished (connection cut or server restarted). The partial answer is shown; ask again."
                )
        except LLMError:
            raise
        except Exception as exc:
            raise self._explained(exc, deadline) from exc
        finally:
            if watchdog is not None:
                watchdog.cancel()
            if stream and response is not None:
                response.close()  # stopped early (the reader's Stop, a loop): the server stops generating too

    def _explained(self, exc: Exception, deadline: float) -> LLMError:
        """What went wrong, said so that the person asking knows what to do."""
        errors = self._openai
        if isinstance(exc, errors.APITimeoutError) or time.monotonic() >= deadline:
            return LLMError(self._too_slow())
        if isinstance(exc, errors.APIConnectionError):
            return LLMError(
                f"The model server at {self.base_url} is not answering. Check that it is running "
                "(`docker compose ps vllm`) and that KURA_LLM_BASE_URL is right."
            )
        if isinstance(exc, errors.APIStatusError):
            return LLMError(
                f"The model server at {self.base_url} refused the request (HTTP {exc.status_code}: "
                f"{str(exc.message)[:200]}). Check KURA_LLM_MODEL and KURA_LLM_API_KEY, and the "
                "server's log (`docker compose logs vllm`)."
            )
        # not a chat completion: HTML, `{}`, no choices, a cut-off JSON body
        return LLMError(
            f"The model server at {self.base_url} sent a malformed response ({type(exc).__name__}: "
            f"{str(exc)[:200]}). Check the server's version and log (`docker compose logs vllm`)."
        )

    def _too_slow(self) -> str:
        return (
            f"The model server at {self.base_url} did not answer in time: no complete answer within "
            f"{self.timeout_s:g} s (KURA_LLM_TIMEOUT_S, retries included). Check that it is running and not "
            "overloaded (`docker compose ps vllm`), or raise KURA_LLM_TIMEOUT_S."
        )


def _choices(reply) -> list:
    """The choices of a completion or chunk; a reply without that shape is malformed."""
    choices = getattr(reply, "choices", None)
    if not isinstance(choices, list):
        raise ValueError(f"the reply is not a chat completion: {str(reply)[:120]!r}")
    return choices


def _first_choice(reply):
    choices = _choices(reply)
    if not choices or getattr(choices[0], "message", None) is None:
        raise ValueError("the reply has no answer in it (no choices)")
    return choices[0]
