"""Many people, one in-process model, one personal copy on localhost.

llama.cpp's context is not thread-safe: eight concurrent sessions of the app used to crash the whole process
(every user disconnected). Now questions take turns for the model: sixteen threads, and sixteen browser sessions
of the real app, all get their answer. And the no-login personal copy answers only pages opened as localhost:
a remote page whose host name was re-pointed at 127.0.0.1 (DNS rebinding) gets a refusal, not the admin session."""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path

import pytest

from app.settings import REPO_ROOT
from llm import Answer, AnswerOptions, LocalLlamaBackend
from retrieval import AccessScope
from tests.app.conftest import chromium
from tests.conftest import free_port, require_gguf, running_server

pytestmark = pytest.mark.slow
QUESTIONS = [
    "How many weeks of parental leave do parents get?",
    "What is the hotel limit per night in Tokyo?",
    "How long are deleted files kept on Starter?",
    "What should I do when sync is stuck?",
]


def test_sixteen_threads_share_one_local_model_without_a_crash(ingested_samples):
    backend = LocalLlamaBackend(require_gguf())
    waiting: list[int] = []
    generate = backend.generate

    def counting_generate(*args, **kwargs):
        waiting.append(backend.ahead())  # others holding or waiting for the model when this one arrives
        yield from generate(*args, **kwargs)

    backend.generate = counting_generate
    answerer = ingested_samples.answerer("extractive")
    answerer.backend, answerer.options = backend, AnswerOptions(max_tokens=24)
    answers: list[Answer] = []

    def ask(n: int) -> None:
        answers.append(answerer.ask(QUESTIONS[n % len(QUESTIONS)], AccessScope(("everyone",))))

    threads = [threading.Thread(target=ask, args=(n,)) for n in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=600)
    assert len(answers) == 16 and all(a.error is None and a.answer and a.citations for a in answers)
    assert max(waiting) > 0 and backend.ahead() == 0, "they took turns, and every turn was given back"


@pytest.fixture(scope="module")
def personal_copy(tmp_path_factory):
    """`kura app` as `make run` starts it: single user, the local model (answers kept short)."""
    require_gguf()
    home = tmp_path_factory.mktemp("personal") / "home"
    port = free_port()
    env = {
        **os.environ,
        "KURA_HOME": str(home),
        "KURA_LLM_BACKEND": "local",
        "KURA_SINGLE_USER": "1",
        "KURA_LLM_MAX_TOKENS": "24",
        "KURA_RATE_LIMIT_PER_MINUTE": "100",
    }
    command = [str(Path(sys.executable).parent / "kura"), "app", "--port", str(port)]
    with running_server(
        command, f"http://127.0.0.1:{port}/_stcore/health", home.parent / "app.log", env=env, cwd=REPO_ROOT
    ) as process:
        yield port, process


def test_sixteen_app_sessions_on_the_local_model_all_answer(personal_copy):
    port, process = personal_copy
    with chromium() as browser:
        pages = []
        for _ in range(16):  # sixteen people: sixteen browser contexts, sixteen Streamlit sessions
            page = browser.new_context().new_page()
            page.set_default_timeout(600_000)
            page.goto(f"http://localhost:{port}")
            page.get_by_placeholder("Ask about your documents…").wait_for()
            pages.append(page)
        for n, page in enumerate(pages):  # all asked before the first answer is in
            page.get_by_placeholder("Ask about your documents…").fill(QUESTIONS[n % len(QUESTIONS)])
            page.keyboard.press("Enter")
        for page in pages:  # each turn ends answered (a copy box) or told the documents do not say
            done = page.get_by_text("Copy the answer").or_(page.get_by_text("Not found in the documents"))
            done.first.wait_for()
            assert not page.get_by_text("The model could not answer").count()
    assert process.poll() is None, "the app process is still serving"


def test_a_foreign_host_name_gets_no_session_in_single_user_mode(personal_copy):
    port, _ = personal_copy
    with chromium("--host-resolver-rules=MAP attacker.example 127.0.0.1") as browser:
        page = browser.new_page()
        page.set_default_timeout(120_000)
        page.goto(f"http://attacker.example:{port}")
        page.get_by_text("only answers pages opened as http://localhost").wait_for()
        assert page.get_by_placeholder("Ask about your documents…").count() == 0
        local = browser.new_page()
        local.goto(f"http://localhost:{port}")
        local.get_by_placeholder("Ask about your documents…").wait_for()
