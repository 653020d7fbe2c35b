"""What a reader sees when the model gets a fact wrong: the Ask page says how many sentences the documents support
and names each one they do not, with what the sources say; a ticket draft shows the same, and cannot be approved
until the agent confirms they checked those statements. The model is a scripted server (the test is about what
kura does with its answer)."""

from __future__ import annotations

import pytest
import streamlit as st

from app.users import User
from tests.app.conftest import open_app
from tests.llm.fake_vllm import FakeVLLM

WRONG = "Every parent receives 6 weeks of fully paid parental leave [1]."
AGENT = User("ben", ("everyone", "support"))


@pytest.fixture(scope="module")
def server():
    with FakeVLLM() as fake:
        yield fake


@pytest.fixture
def app_home(tmp_path, monkeypatch, server):
    monkeypatch.setenv("KURA_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("KURA_LLM_BACKEND", "openai")
    monkeypatch.setenv("KURA_LLM_BASE_URL", server.base_url)
    monkeypatch.setenv("KURA_LLM_MODEL", f"say:{WRONG}")
    st.cache_resource.clear()
    yield tmp_path / "home"
    st.cache_resource.clear()


def test_the_ask_page_flags_a_wrong_number_with_what_the_sources_say(app_home):
    at = open_app(AGENT, timeout=300)
    at.chat_input[0].set_value("How many weeks of parental leave do parents get?").run()
    assert not at.exception, at.exception
    assert any("0 of 1 sentences supported by your documents" in w.value for w in at.warning)
    flagged = " ".join(e.value for e in at.error)
    assert "Not found in your documents: “Every parent receives 6 weeks" in flagged and "16 weeks" in flagged


def test_a_draft_with_unsupported_statements_needs_a_confirmation_before_approval(app_home):
    at = open_app(AGENT, "draft", timeout=300)
    at.text_area(key="ticket_body").input("Hello,\nhow many weeks of parental leave do parents get?\nThanks")
    at.button(key="make_draft").click().run()
    assert not at.exception, at.exception
    assert any("Not in the sources" in t.value for t in at.text), "listed in the agent's notes"
    assert at.button(key="approve").disabled
    at.checkbox(key="confirm_unsupported").check().run()
    assert not at.button(key="approve").disabled


def test_a_japanese_reader_is_told_why_in_japanese(app_home):
    """The reason is built in llm/ (a Note) and said in the reader's language by the page."""
    at = open_app(User("kenji", ("everyone",), language="ja"), timeout=300)
    at.chat_input[0].set_value("How many weeks of parental leave do parents get?").run()
    assert not at.exception, at.exception
    flagged = " ".join(e.value for e in at.error)
    assert "文書で確認できません" in flagged and "出典では" in flagged and "16 weeks" in flagged
    assert "the sources say" not in flagged


def test_the_agents_notes_follow_their_edits(app_home):
    at = open_app(AGENT, "draft", timeout=300)
    at.text_area(key="ticket_body").input("Hello,\nhow many weeks of parental leave do parents get?\nThanks")
    at.button(key="make_draft").click().run()
    reply = at.text_area(key="reply_text").value
    assert any("Not in the sources" in t.value for t in at.text) and at.button(key="approve").disabled
    fixed = reply.replace("6 weeks", "16 weeks")
    at.text_area(key="reply_text").input(fixed).run()
    assert not at.exception, at.exception
    assert not any("Not in the sources" in t.value for t in at.text), "the corrected sentence is supported now"
    assert not at.button(key="approve").disabled
