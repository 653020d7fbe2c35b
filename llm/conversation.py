"""Follow-up questions in a chat ("and for part-time staff?") become standalone queries before retrieval.

A capable model (gpt-oss behind an OpenAI-compatible server) rewrites the question from the conversation;
without one, or when the model fails, a follow-up is searched together with the question it follows. Whether a
question is a follow-up at all is decided first, by a rule measured on bench/data/follow-ups."""

from __future__ import annotations

import re

from llm.backends import ChatBackend, LLMError
from retrieval.languages import is_cjk

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
    "too",
}
_REFERRING_JA = ("それ", "その", "これ", "この", "あれ", "あの", "そこ", "同じ", "では", "じゃあ", "他に", "ほかに")
_FOLLOW_UP_OPENERS = ("and ", "what about", "how about", "and?", "but ", "also ")
_REWRITE_PROMPT = (
    "Rewrite the user's last question so it can be understood without the conversation. Keep its language. "
    "Reply with the rewritten question only."
)


_FRAGMENT = re.compile(r"^(?:up to|within|for|in|at|by|until|since|from)\s+(?:how|when|what|which)\b")
_JA_ALSO = re.compile(r"^[^、。？?]{1,6}も")  # 「朝食も含まれますか」: X too
_JA_PUNCTUATION = re.compile(r"[？?。！!、\s]")


def is_follow_up(question: str, previous: str | None) -> bool:
    """Whether the question only makes sense after the one before it (measured on bench/data/follow-ups: see
    docs/benchmarks.md). A question in another language than the previous one starts a new topic. Otherwise it
    follows up when it refers back (it, that, there, too; それ, その…), opens like one ("and", "what about"), is a
    fragment ("Osaka?", "Up to how much?", 「大阪は？」, 「朝食も含まれますか」)."""
    if not previous or is_cjk(question) != is_cjk(previous):
        return False
    if is_cjk(question):
        core = _JA_PUNCTUATION.sub("", question)
        return any(marker in question for marker in _REFERRING_JA) or len(core) <= 8 or bool(_JA_ALSO.match(core))
    text = question.strip().lower()
    words = _WORDS.findall(text)
    return (
        len(words) == 1
        or text.startswith(_FOLLOW_UP_OPENERS)
        or any(w in _REFERRING for w in words)
        or bool(_FRAGMENT.match(text))
    )


def standalone_question(question: str, previous_questions: list[str], backend: ChatBackend | None = None) -> str:
    """The query to search for. `backend` is only given when it is good enough to rewrite questions."""
    if not previous_questions or not is_follow_up(question, previous_questions[-1]):
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
