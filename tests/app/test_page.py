"""The first page, run headless with Streamlit's AppTest: sample docs are ingested on first start,
a question gets a streamed answer and its quoted sources, and a miss says so."""

from __future__ import annotations

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from app.settings import REPO_ROOT


@pytest.fixture
def page(tmp_path, monkeypatch):
    monkeypatch.setenv("KURA_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("KURA_LLM_BACKEND", "extractive")
    st.cache_resource.clear()
    at = AppTest.from_file(str(REPO_ROOT / "app" / "main.py"), default_timeout=180)
    at.run()
    assert not at.exception, at.exception
    return at


def test_first_start_ingests_the_samples_and_answers_with_sources(page):
    page.text_input[0].input("How many weeks of parental leave do parents get?").run()
    assert not page.exception, page.exception
    answer = " ".join(t.value for t in page.text)
    assert "16 weeks of fully paid parental leave" in answer
    assert any("leave-and-time-off.md" in t.value for t in page.text)


def test_a_question_outside_the_documents_shows_not_found(page):
    page.text_input[0].input("What is the airspeed velocity of an unladen swallow on Mars?").run()
    assert any("Not found in the documents you can access" in i.value for i in page.info)


def test_without_a_model_the_page_still_shows_the_passages(tmp_path, monkeypatch):
    monkeypatch.setenv("KURA_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("KURA_LLM_BACKEND", "local")
    monkeypatch.setenv("KURA_LLM_MODEL_PATH", str(tmp_path / "missing.gguf"))
    st.cache_resource.clear()
    at = AppTest.from_file(str(REPO_ROOT / "app" / "main.py"), default_timeout=180).run()
    at.text_input[0].input("What is the hotel limit per night in Tokyo?").run()
    assert not at.exception, at.exception
    assert any("No model file" in w.value for w in at.warning)
    assert any("18,000 yen" in t.value for t in at.text)
