"""The app in a real browser: `kura app` on a free port, Debian's headless Chromium driven by Playwright.

A support lead signs in, asks a question, sees the answer stream and opens the cited source; switches the UI to
Japanese; uploads a document in the Library and watches it ingest; drafts a reply to a two-part ticket. A reader
stops a slowly written answer and keeps what was written. Screenshots go to the test's folder
(and to docs/screenshots/ with KURA_UPDATE_SCREENSHOTS=1)."""

from __future__ import annotations

import os
import shutil
import sys
import time
from pathlib import Path

import pytest

from app.settings import REPO_ROOT
from app.users import UserStore
from tests.conftest import free_port, running_server

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    home = tmp_path_factory.mktemp("browser") / "home"
    UserStore(home / "users.json", ["kura-admins"]).add("lead", "lead-password", ("everyone", "kura-admins"))
    port = free_port()
    env = {**os.environ, "KURA_HOME": str(home), "KURA_LLM_BACKEND": "extractive"}
    command = [str(Path(sys.executable).parent / "kura"), "app", "--port", str(port)]
    url = f"http://127.0.0.1:{port}"
    with running_server(command, url + "/_stcore/health", home / "app.log", env=env, cwd=REPO_ROOT):
        yield url


def save(page, tmp_path: Path, name: str) -> None:
    page.screenshot(path=str(tmp_path / f"{name}.png"), full_page=True)
    if os.environ.get("KURA_UPDATE_SCREENSHOTS") == "1":
        target = REPO_ROOT / "docs" / "screenshots"
        target.mkdir(parents=True, exist_ok=True)
        shutil.copy(tmp_path / f"{name}.png", target / f"{name}.png")


def test_sign_in_ask_open_a_citation_switch_to_japanese_and_upload(browser, app_url, tmp_path):
    page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="en-US")
    page.set_default_timeout(180_000)
    page.goto(app_url)
    page.get_by_role("textbox", name="User name").fill("lead")
    page.get_by_role("textbox", name="Password").fill("lead-password")
    page.get_by_role("button", name="Sign in").click()

    page.get_by_placeholder("Ask about your documents…").fill("How many weeks of parental leave do parents get?")
    page.keyboard.press("Enter")
    page.get_by_text("16 weeks of fully paid parental leave").first.wait_for()
    page.get_by_role("button", name="[1]").first.click()
    page.get_by_role("button", name="Download the original").first.wait_for()
    assert page.get_by_text("leave-and-time-off.md").first.is_visible()
    save(page, tmp_path, "ask")

    page.get_by_text("日本語").first.click()
    page.get_by_placeholder("文書について質問してください…").wait_for()
    save(page, tmp_path, "ask-ja")
    page.get_by_text("English").first.click()

    page.get_by_role("link", name="Library").click()
    document = tmp_path / "holiday-calendar.md"
    document.write_text("# Holiday calendar\n\nThe office is closed from December 29 to January 3.\n")
    page.locator("input[type=file]").first.set_input_files(str(document))
    page.get_by_text("holiday-calendar.md").first.wait_for()  # the upload reached the server
    page.get_by_role("button", name="Ingest").click()
    page.get_by_text("1 added").wait_for()
    save(page, tmp_path, "library")
    page.get_by_role("link", name="Ask").click()
    page.get_by_placeholder("Ask about your documents…").fill("When is the office closed for the holidays?")
    page.keyboard.press("Enter")
    page.get_by_text("December 29 to January 3").first.wait_for()
    assert (tmp_path / "ask.png").stat().st_size > 10_000
    assert page.get_by_role("button", name="How many weeks of parental leave do parents get?").count(), (
        "the first conversation is listed in the sidebar"
    )

    page.get_by_text("Copy the answer").first.wait_for()  # the turn is complete (the page has rerun)
    page.get_by_role("link", name="Draft a reply").click()
    page.get_by_label("Ticket text").fill(
        "Hello,\nSince the power cut on Monday, Kumo Sync shows Preparing for hours.\n"
        "I would also like a refund for our annual plan.\nThanks, Mei"
    )
    page.get_by_role("button", name="Draft a reply").last.click()
    page.get_by_text("Internal notes for the agent").wait_for()
    save(page, tmp_path, "draft")


DRIPPED = (
    "Parents receive sixteen weeks of fully paid parental leave [1], which can be taken in up to three blocks "
    "within the first two years after the birth or adoption, and the leave of both parents may overlap by up to "
    "four weeks so that they can settle in together before one of them returns to work as planned."
)


def test_stop_keeps_what_was_written_and_ends_the_model_request(browser, tmp_path):
    """A model that writes slowly (a scripted server, one word every 0.4 s): the reader sees what kura is doing,
    stops the answer, keeps what was written, and the model's request is ended, not left running."""
    from tests.llm.fake_vllm import FakeVLLM

    home, port = tmp_path / "home", free_port()
    with FakeVLLM() as model:
        env = {**os.environ, "KURA_HOME": str(home), "KURA_SINGLE_USER": "1", "KURA_LLM_BACKEND": "openai",
               "KURA_LLM_BASE_URL": model.base_url, "KURA_LLM_MODEL": f"drip:{DRIPPED}"}  # fmt: skip
        command = [str(Path(sys.executable).parent / "kura"), "app", "--port", str(port)]
        url = f"http://127.0.0.1:{port}"
        with running_server(command, url + "/_stcore/health", tmp_path / "app.log", env=env, cwd=REPO_ROOT):
            page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="en-US")
            page.set_default_timeout(180_000)
            page.goto(url)
            page.get_by_placeholder("Ask about your documents…").fill("How long is parental leave?")
            page.keyboard.press("Enter")
            page.get_by_text("writing the answer").first.wait_for()
            page.get_by_text("sixteen weeks").first.wait_for()
            page.get_by_role("button", name="Stop").click()
            page.get_by_text("Stopped: the answer is incomplete").first.wait_for()
            save(page, tmp_path, "ask-stopped")
            assert page.get_by_text("Parents receive sixteen weeks").first.is_visible(), "what was written is kept"
            assert not page.get_by_text("return to work as planned").count(), "nothing after Stop"
            words = len(DRIPPED.split(" "))
            for _ in range(50):  # the server notices the closed stream at its next write
                if model.hung_up:
                    break
                time.sleep(0.2)
            assert model.dripped < words and model.hung_up, "the model's request was ended"
            page.reload()  # the conversation is in the URL: it comes back
            page.get_by_text("Parents receive sixteen weeks").first.wait_for()
