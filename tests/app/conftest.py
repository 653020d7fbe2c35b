"""What the app's tests share: the app run headless by AppTest, and Debian's headless Chromium driven by Playwright
(never a downloaded browser)."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli import cli
from tests.conftest import SAMPLES, free_port, running_server

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


SECRET = "ZEPHYR-7731"
BOARD = f"# Board minutes\n\nThe board approved the acquisition of Hoshi Trading, project code {SECRET}.\n"


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    """`kura serve` running over the samples (for everyone) and a board-only minutes file, with a token each for
    sam (staff), rin (board) and ada (an admin) → (url, tokens, KURA_HOME, the library folder)."""
    root = tmp_path_factory.mktemp("api")
    library, home = root / "library", root / "home"
    shutil.copytree(SAMPLES, library / "samples")
    (library / "board").mkdir()
    (library / "board" / "minutes.md").write_text(BOARD)
    (library / "board" / ".kura-acl").write_text("board\n")
    env = {**os.environ, "KURA_HOME": str(home), "KURA_LLM_BACKEND": "extractive", "KURA_RATE_LIMIT_PER_MINUTE": "600"}
    runner = CliRunner(env=env)
    assert runner.invoke(cli, ["ingest", str(library), "--json"]).exit_code == 0
    tokens = {}
    for user, groups in (("sam", "staff,everyone"), ("rin", "board,everyone"), ("ada", "kura-admins,everyone")):
        assert runner.invoke(cli, ["users", "add", user, "--groups", groups, "--password-stdin"],
                             input=f"{user}-password\n").exit_code == 0  # fmt: skip
        created = runner.invoke(cli, ["tokens", "create", user, "--name", "test", "--json"])
        tokens[user] = json.loads(created.stdout)["token"]
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [str(Path(sys.executable).parent / "kura"), "serve", "--port", str(port)]
    with running_server(command, url + "/v1/models", home / "serve.log", env=env):
        yield url, tokens, home, library
