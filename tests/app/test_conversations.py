"""A conversation lasts: each question and what the reader was shown is kept in KURA_HOME, listed for its owner
only, reopened tomorrow (by URL in the app) under the access rules of that day, renamed and deleted. A follow-up is
searched with the conversation it belongs to, or alone when asked; a stopped answer keeps what was written."""

from __future__ import annotations

import os

import pytest

from app.service import Caller
from tests.conftest import SAMPLES

MEI = Caller("mei", ("everyone",))
HR = Caller("hana", ("everyone", "hr"))


@pytest.fixture
def library(kura, tmp_path):
    folder = tmp_path / "kb"
    folder.mkdir()
    for name in ("leave-and-time-off.md", "expenses-and-travel.md", "kumo-sync-faq.md"):
        source = next(SAMPLES.rglob(name))
        (folder / name).write_text(source.read_text())
    kura.ingest(MEI, [folder])
    return folder


def asked(kura, caller, question, **options):
    asking = kura.ask(caller, question, **options)
    return asking, asking.response.result()


def test_a_conversation_is_kept_listed_and_reopened_with_its_sources(kura, library):
    first, answer = asked(kura, MEI, "How many weeks of parental leave do parents get?")
    follow_up, _ = asked(kura, MEI, "Can it be split?", conversation=first.conversation)
    assert follow_up.conversation == first.conversation
    assert follow_up.query != "Can it be split?" and "parental leave" in follow_up.query
    [listed] = kura.conversations(MEI)
    assert listed.title == "How many weeks of parental leave do parents get?"
    kept = kura.conversation(MEI, listed.id)
    assert [t.question for t in kept.turns] == ["How many weeks of parental leave do parents get?", "Can it be split?"]
    assert kept.turns[0].answer == answer.answer and kept.turns[0].citations == answer.citations
    alone, _ = asked(kura, MEI, "Can it be split?", conversation=first.conversation, alone=True)
    assert alone.query == "Can it be split?", "the reader can search a question on its own"


def test_only_its_owner_sees_a_conversation(kura, library):
    asking, _ = asked(kura, MEI, "What is the hotel limit per night in Tokyo?")
    assert kura.conversations(HR) == [] and kura.conversation(HR, asking.conversation) is None
    for forged in ("../../users", "x" * 12, ""):
        assert kura.conversation(MEI, forged) is None


def test_an_answer_citing_what_the_reader_may_no_longer_read_is_hidden(kura, library):
    asking, answer = asked(kura, MEI, "How many weeks of parental leave do parents get?")
    assert "16 weeks" in answer.answer
    (library / ".kura-acl").write_text("hr\n")  # the leave policy is now for HR only
    kura.ingest(MEI, [library])
    [turn] = kura.conversation(MEI, asking.conversation).turns
    assert "16 weeks" not in turn.answer and turn.citations == [] and "no longer read" in turn.answer


def test_a_stopped_answer_keeps_what_was_written(kura, library):
    asking = kura.ask(MEI, "Which platforms does Kumo Sync support?", keep=True)
    written = next(text for text in asking.response if text)
    asking.response.close()  # the Stop button
    [turn] = kura.conversation(MEI, asking.conversation).turns
    assert turn.stopped and turn.answer == written.strip() and "Stopped" in turn.warnings[0]
    entry = kura.audit.read(action="ask")[0]
    assert entry["stopped"] and entry["conversation"] == asking.conversation


def test_renaming_and_deleting_are_the_owners_and_audited(kura, library):
    asking, _ = asked(kura, MEI, "What is the hotel limit per night in Tokyo?")
    assert not kura.rename_conversation(HR, asking.conversation, "stolen")
    assert kura.rename_conversation(MEI, asking.conversation, "Tokyo hotels")
    assert kura.conversations(MEI)[0].title == "Tokyo hotels"
    assert kura.delete_conversation(MEI, asking.conversation) and kura.conversations(MEI) == []
    actions = [e["action"] for e in kura.audit.read()]
    assert actions[:3] == ["conversation_deleted", "conversation_renamed", "conversation_renamed"]


def test_conversations_older_than_the_retention_are_deleted(kura, library):
    asking, _ = asked(kura, MEI, "What is the hotel limit per night in Tokyo?")
    path = next((kura.settings.home / "conversations").rglob(f"{asking.conversation}.json"))
    stale = path.read_text().replace('"updated": ', '"updated": 1.0, "was": ', 1)
    path.write_text(stale)
    assert kura.conversations(MEI) == [] and not path.exists()
    assert oct(os.stat(path.parent).st_mode & 0o777) == "0o700", "like everything in KURA_HOME"
