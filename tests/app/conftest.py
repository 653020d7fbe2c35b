"""What the app's tests share: the app run headless by AppTest, and Debian's headless Chromium driven by Playwright
(never a downloaded browser)."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"


@contextlib.contextmanager
def chromium(*extra_args: str):
    """A headless Chromium, or skip with the reason; extra_args e.g. to map a foreign host name to loopback."""
    playwright_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright (make setup does)")
    if not Path(CHROMIUM).is_file():
        pytest.skip(f"{CHROMIUM} is missing: apt-get install chromium (.ci/run does)")
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-dev-shm-usage",
                *extra_args,
            ],
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="module")
def browser():
    with chromium() as launched:
        yield launched


def open_app(user=None, page: str | None = None, timeout: float = 180):
    """The app headless (Streamlit's AppTest), signed in as `user` (the sign-in form itself is tested in
    test_pages), on `page`."""
    from streamlit.testing.v1 import AppTest

    from app.settings import REPO_ROOT

    at = AppTest.from_file(str(REPO_ROOT / "app" / "main.py"), default_timeout=timeout)
    if user:
        at.session_state["user"] = user
    at.run()
    if page:
        at.switch_page(f"views/{page}.py").run()
    assert not at.exception, at.exception
    return at
