"""Follow-up questions are searched as standalone queries: a capable model rewrites them; without one (or when
it fails) the follow-up is searched together with the question it follows. New questions pass unchanged."""

from __future__ import annotations

from llm.backends import Delta, LLMError
from llm.conversation import is_follow_up, standalone_question

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
    assert is_follow_up("Can it be split?", FIRST) and is_follow_up("And for part-time staff?", FIRST)
    assert is_follow_up("Osaka?", "What is the hotel limit per night in Tokyo?")
    assert is_follow_up("それは分割できますか", "育児休業は何週間ですか？") and is_follow_up(
        "大阪は？", "東京の宿泊費の上限は？"
    )
    assert not is_follow_up("What is the hotel limit per night in Tokyo?", FIRST)


def test_a_question_in_another_language_or_a_short_japanese_question_on_its_own_topic_is_new():
    """The first-use report: after a question about dogs, 「自転車通勤手当はいくらですか？」 was searched joined with it."""
    assert not is_follow_up("自転車通勤手当はいくらですか？", "Can I bring my dog to the office?")
    assert not is_follow_up("自転車通勤手当はいくらですか？", "健康診断は誰がいつ受けますか？")
    assert standalone_question("自転車通勤手当はいくらですか？", ["Can I bring my dog to the office?"]) == (
        "自転車通勤手当はいくらですか？"
    )


def test_the_rule_is_measured_on_labelled_turns():
    import json

    from tests.conftest import REPO_ROOT

    turns = (REPO_ROOT / "bench" / "data" / "follow-ups" / "turns.jsonl").read_text(encoding="utf-8").splitlines()
    rows = [json.loads(line) for line in turns if line.strip()]
    assert sum(is_follow_up(r["question"], r["previous"]) == r["follow_up"] for r in rows) / len(rows) >= 0.95


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
