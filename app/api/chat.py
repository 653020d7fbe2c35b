"""OpenAI's chat-completions shape over kura's answers, so any OpenAI client or chat UI can use kura as a "model":
`kura` answers from the documents (the last user message is the question, earlier ones the conversation) and
`kura-draft` drafts a reply to the ticket in the last user message. The evidence travels beside the text, in a
top-level `citations` list (as Perplexity's compatible API does), in the response and in the last streamed chunk."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from typing import Literal

from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from app.api.errors import ApiError
from app.service import Caller, Kura
from llm.draft import Ticket

MODELS = ("kura", "kura-draft")
MAX_QUESTION_CHARS = 4000


class Message(BaseModel):
    role: Literal["system", "user", "assistant", "tool", "developer"]
    content: str | list[dict] | None = None

    def text(self) -> str:
        if isinstance(self.content, list):  # content parts: only the text ones mean something here
            return "\n".join(part.get("text", "") for part in self.content if part.get("type") == "text")
        return self.content or ""


class ChatRequest(BaseModel):
    model: str
    messages: list[Message] = Field(min_length=1)
    stream: bool = False


def question(text: str) -> str:
    """A question as every door takes it: not empty, not longer than MAX_QUESTION_CHARS."""
    if not text.strip():
        raise ApiError(400, "the question is empty: ask something")
    if len(text) > MAX_QUESTION_CHARS:
        raise ApiError(413, f"the question is longer than {MAX_QUESTION_CHARS} characters: shorten it")
    return text.strip()


def citations(items) -> list[dict]:
    return [{"n": c.n, "source": c.source.rsplit("/", 1)[-1], "title": c.title, "page": c.page, "heading": c.heading,
             "quote": c.quote} for c in items]  # fmt: skip


def complete(kura: Kura, who: Caller, request: ChatRequest):
    if request.model not in MODELS:
        raise ApiError(404, f"no model {request.model!r}: kura serves {', '.join(MODELS)}", "model_not_found")
    asked = [m.text().strip() for m in request.messages if m.role == "user"]
    asked[-1:] = [question(asked[-1] if asked else "")]
    if request.model == "kura-draft":
        response = kura.draft(who, Ticket("", asked[-1]), stream=request.stream).response
    else:
        response = kura.ask(who, asked[-1], history=asked[:-1], stream=request.stream, keep=False).response
    reply_id, created = f"chatcmpl-{uuid.uuid4().hex[:24]}", int(time.time())
    if request.stream:
        return StreamingResponse(_events(response, request.model, reply_id, created), media_type="text/event-stream")
    result = response.result()
    text = getattr(result, "answer", None) or getattr(result, "reply", "")
    return {
        "id": reply_id, "object": "chat.completion", "created": created, "model": request.model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        "citations": citations(result.citations), "abstained": result.abstained,
        "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
    }  # fmt: skip


def _events(response, model: str, reply_id: str, created: int) -> Iterator[str]:
    def chunk(delta: dict, finish: str | None = None, **extra) -> str:
        data = {"id": reply_id, "object": "chat.completion.chunk", "created": created, "model": model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}], **extra}  # fmt: skip
        return f"data: {json.dumps(data, ensure_ascii=False)}\n\n"

    yield chunk({"role": "assistant", "content": ""})
    try:
        for text in response:
            if text:
                yield chunk({"content": text})
        result = response.result()
    finally:
        response.close()  # the client went away: the model stops writing
    written = getattr(result, "reply", None)
    if written is not None:  # a draft streams its body; the framed reply (greeting, sign-off) comes last
        yield chunk({"content": "\n\n" + written})
    yield chunk({}, "stop", citations=citations(result.citations), abstained=result.abstained)
    yield "data: [DONE]\n\n"
