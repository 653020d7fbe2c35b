"""Follow-up questions in a chat ("and for part-time staff?") become standalone queries before retrieval.

A capable model (gpt-oss behind an OpenAI-compatible server) rewrites the question from the conversation;
without one, or when the model fails, a follow-up is searched together with the question it follows."""

from __future__ import annotations

import re

from llm.backends import ChatBackend, LLMError

_WORDS = re.compile(r"\w+", re.UNICODE)
_REFERRING = {
    "it",
    "its",
    "that",
    "this",
    "those",
    "these",
    "they",
    "them",
    "their",
    "there",
    "he",
    "she",
    "same",
    "also",
    "else",
    "more",
    "other",
    "instead",
    "then",
}
_REFERRING_JA = ("それ", "その", "これ", "この", "あれ", "あの", "そこ", "同じ", "では", "じゃあ", "他に", "ほかに")
_FOLLOW_UP_OPENERS = ("and ", "what about", "how about", "and?", "but ", "also ")
_REWRITE_PROMPT = (
    "Rewrite the user's last question so it can be understood without the conversation. Keep its language. "
    "Reply with the rewritten question only."
)


def looks_like_follow_up(question: str) -> bool:
    text = question.strip().lower()
    words = _WORDS.findall(text)
    return (
        len(words) <= 3
        or text.startswith(_FOLLOW_UP_OPENERS)
        or any(w in _REFERRING for w in words)
        or any(marker in text for marker in _REFERRING_JA)
    )


def standalone_question(question: str, previous_questions: list[str], backend: ChatBackend | None = None) -> str:
    """The query to search for. `backend` is only given when it is good enough to rewrite questions."""
    if not previous_questions or not looks_like_follow_up(question):
        return question
    if backend is not None:
        conversation = "\n".join(f"User: {q}" for q in previous_questions[-3:])
        messages = [
            {"role": "system", "content": _REWRITE_PROMPT},
            {"role": "user", "content": f"{conversation}\nUser: {question}"},
        ]
        try:
            rewritten = "".join(
                d.text
                for d in backend.generate(
                    messages, max_tokens=96, temperature=0.0, reasoning_effort="low", stream=False
                )
            ).strip()
        except LLMError:
            rewritten = ""
        if rewritten and "\n" not in rewritten and len(rewritten) < 4 * len(question) + 200:
            return rewritten
    return f"{previous_questions[-1]} {question}"
