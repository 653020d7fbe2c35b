"""Keep gpt-oss's reasoning out of answers, whatever the server does with harmony channels.

vLLM with `--reasoning-parser openai_gptoss` splits channels into `reasoning` and `content`, but some
versions leak raw harmony (`<|channel|>analysis<|message|>…<|end|>…<|channel|>final<|message|>…`) into
`content`, and llama.cpp running a gpt-oss GGUF may do the same. This filter routes streamed text by channel."""

from __future__ import annotations

import re

_TOKEN = re.compile(r"<\|(start|end|message|channel|return|call|constrain)\|>")
_MAX_TOKEN_LEN = len("<|constrain|>")


class HarmonyFilter:
    """Feed content deltas in; get (answer_text, reasoning_text) out. Plain text passes through unchanged."""

    def __init__(self) -> None:
        self._pending = ""
        self._final = True  # text before any channel marker is the answer
        self._header: str | None = None  # between <|start|>/<|channel|> and <|message|>: role and channel name
        self._closed = False  # after <|end|>/<|return|>/<|call|> until the next header

    def feed(self, text: str) -> tuple[str, str]:
        self._pending += text
        cut = self._pending.rfind("<")
        if cut != -1 and ">" not in self._pending[cut:] and len(self._pending) - cut < _MAX_TOKEN_LEN:
            ready, self._pending = self._pending[:cut], self._pending[cut:]  # a marker may be split across deltas
        else:
            ready, self._pending = self._pending, ""
        return self._route(ready)

    def flush(self) -> tuple[str, str]:
        ready, self._pending = self._pending, ""
        return self._route(ready)

    def _route(self, text: str) -> tuple[str, str]:
        answer: list[str] = []
        reasoning: list[str] = []
        position = 0
        for match in _TOKEN.finditer(text):
            self._emit(text[position : match.start()], answer, reasoning)
            token = match.group(1)
            if token in ("start", "channel"):
                self._header = (self._header or "") + (" channel:" if token == "channel" else " ")
                self._closed = False
            elif token == "message":
                if self._header and "channel:" in self._header:
                    self._final = self._header.rsplit("channel:", 1)[1].split()[:1] == ["final"]
                self._header = None
            else:  # end, return, call, constrain: the message is over
                self._closed = True
            position = match.end()
        self._emit(text[position:], answer, reasoning)
        return "".join(answer), "".join(reasoning)

    def _emit(self, text: str, answer: list[str], reasoning: list[str]) -> None:
        if not text:
            return
        if self._header is not None:
            self._header += text
        elif not self._closed:
            (answer if self._final else reasoning).append(text)
