"""Follow-up questions are searched as standalone queries: a capable model rewrites them; without one (or when
it fails) the follow-up is searched together with the question it follows. New questions pass unchanged."""

from __future__ import annotations

from llm.backends import Delta, LLMError
from llm.conversation import looks_like_follow_up, standalone_question

FIRST = "How many weeks of parental leave do parents get?"


class Rewriter:
    name = "openai"
    generative, rewrites_questions, demo = True, True, False

    def ahead(self) -> int:
        return 0

    def __init__(self, reply: str | Exception) -> None:
        self.reply = reply
        self.messages = None

    def generate(self, messages, **options):
        self.messages = messages
        if isinstance(self.reply, Exception):
            raise self.reply
        yield Delta(self.reply, finish_reason="stop")


def test_follow_ups_are_recognised_in_english_and_japanese():
    assert looks_like_follow_up("Can it be split?") and looks_like_follow_up("And for part-time staff?")
    assert looks_like_follow_up("それは分割できますか") and looks_like_follow_up("Osaka?")
    assert not looks_like_follow_up("What is the hotel limit per night in Tokyo?")


def test_a_new_question_is_searched_as_asked():
    assert (
        standalone_question("What is the hotel limit per night in Tokyo?", [FIRST])
        == "What is the hotel limit per night in Tokyo?"
    )
    assert standalone_question("Can it be split?", []) == "Can it be split?"


def test_without_a_model_a_follow_up_carries_the_previous_question():
    assert standalone_question("Can it be split?", ["Old question", FIRST]) == f"{FIRST} Can it be split?"


def test_a_model_rewrites_the_follow_up_from_the_conversation():
    model = Rewriter("Can parental leave be split into blocks?")
    assert standalone_question("Can it be split?", [FIRST], model) == "Can parental leave be split into blocks?"
    assert FIRST in model.messages[-1]["content"]


def test_a_failing_or_rambling_model_falls_back_to_the_previous_question():
    for reply in (LLMError("timeout"), "", "Sure! Here is the rewritten question:\nCan parental leave be split?"):
        assert standalone_question("Can it be split?", [FIRST], Rewriter(reply)) == f"{FIRST} Can it be split?"
