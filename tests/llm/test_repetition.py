"""The loop guard cuts a looping answer after its first copy, and leaves alone text that only looks repetitive:
table rules, numbered steps, a sentence said twice."""

from __future__ import annotations

from llm.repetition import repetition_cut


def test_back_to_back_copies_are_cut_after_the_first():
    text = "Intro. " + "Salaries are paid on the 25th of each month and " * 3
    assert text[: repetition_cut(text)] == "Intro. Salaries are paid on the 25th of each month and "


def test_a_sentence_coming_back_a_third_time_is_cut_before_its_second_time():
    text = "A is paid on the 25th. B happens. A is paid on the 25th. C. A is paid on the 25th. D"
    assert text[: repetition_cut(text)] == "A is paid on the 25th. B happens. "


def test_ordinary_text_is_left_alone():
    for text in (
        "| --- | --- | --- | --- |",
        "Step 1: open the app. Step 2: close it. Step 3: save.",
        "Salaries are paid monthly. " * 2,
        "有給休暇は年20日です。" * 2,
    ):
        assert repetition_cut(text) is None, text
