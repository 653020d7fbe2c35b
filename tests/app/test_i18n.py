"""Every word a reader sees exists in both languages. The app's own messages are keyed pairs; what the answer path
says (warnings, draft notes, why a sentence is unsupported) is built in llm/ as a Note in English and said in
Japanese by the app under the same key, with the same placeholders."""

from __future__ import annotations

import string

from app import i18n
from llm.notes import ENGLISH, Note


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_every_app_message_has_both_languages_with_the_same_placeholders():
    for key, (english, japanese) in i18n.MESSAGES.items():
        assert japanese.strip() and placeholders(english) == placeholders(japanese), key


def test_every_note_of_the_answer_path_has_japanese_with_the_same_placeholders():
    assert set(i18n.NOTES_JA) == set(ENGLISH)
    for key, english in ENGLISH.items():
        assert placeholders(english) == placeholders(i18n.NOTES_JA[key]), key


def test_a_note_is_english_text_that_the_app_says_in_the_readers_language():
    reason = Note("reason_says_instead", stated="16 weeks", claimed="6 weeks")
    note = Note("not_in_sources", text="Parents get 6 weeks.", reason=reason)
    assert (
        note
        == "Not in the sources: “Parents get 6 weeks.” — the sources say 16 weeks, not 6 weeks. Verify or remove it before sending."
    )
    assert i18n.localized(note, "en") == note
    assert i18n.localized(note, "ja") == (
        "出典にない記述: 「Parents get 6 weeks.」— 出典では 16 weeks であり、6 weeks ではありません。送信前に確認するか削除してください。"
    )
    assert i18n.localized("plain text from elsewhere", "ja") == "plain text from elsewhere"


def test_a_note_survives_pickling_as_itself():
    import pickle

    note = Note("cut_off", limit=512)
    again = pickle.loads(pickle.dumps(note))
    assert again == note and again.key == "cut_off" and again.params == {"limit": 512}
