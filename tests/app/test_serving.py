"""One process owns the embedded store, and everything else goes through it. `kura app` serves the web app, the API
and MCP on one port; while it runs, `kura` commands in another terminal (ingest, search, ask with standard input,
status) run inside it instead of failing on the store's lock — paths relative to the shell's folder, output and exit
codes as if run locally, audited as the shell user. Only the holder of the key in KURA_HOME/server.json may send
commands; a second server for the same store is refused; once the server stops, commands open the store again."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from app.owner import announce, announced
from app.settings import REPO_ROOT, Settings
from retrieval.embed import default_model_path
from tests.conftest import free_port, running_server

KURA = str(Path(sys.executable).parent / "kura")


def test_a_server_announces_an_embedded_store_to_its_owner_only_and_a_dead_one_is_not_running(tmp_path):
    settings = Settings(home=tmp_path / "home")
    with announce(settings, "http://127.0.0.1:1") as key:
        found = announced(settings)
        assert found["key"] == key and found["pid"] == os.getpid()
        assert (tmp_path / "home" / "server.json").stat().st_mode & 0o077 == 0
        (tmp_path / "home" / "server.json").write_text(json.dumps({**found, "pid": 2**22 + 1}))
        assert announced(settings) is None, "a server that died is not running"


def test_with_a_qdrant_server_every_process_opens_the_store_and_nothing_is_announced(tmp_path):
    settings = Settings(home=tmp_path / "home", qdrant_url="http://qdrant:6333")
    with announce(settings, "http://127.0.0.1:1"):
        assert announced(settings) is None and not (tmp_path / "home" / "server.json").exists()


@pytest.fixture(scope="module")
def app_server(tmp_path_factory):
    """`kura app` for one local user (single-user mode), with a shell folder holding a document to ingest."""
    shell = tmp_path_factory.mktemp("shell")
    (shell / "docs").mkdir()
    (shell / "docs" / "lockers.md").write_text(
        "# Lockers\n\nLocker keys are handed out by reception, deposit 500 yen.\n"
    )
    env = {**os.environ, "KURA_HOME": str(shell / ".kura"), "KURA_SINGLE_USER": "1", "KURA_LLM_BACKEND": "extractive"}
    # a second stage, as `make run` has one (MiniLM's own folder standing in for EmbeddingGemma: quick to embed)
    env["KURA_SECOND_STAGE_MODEL"] = str(default_model_path())
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [KURA, "app", "--port", str(port)]
    with running_server(command, url + "/_stcore/health", shell / "app.log", env=env, cwd=REPO_ROOT) as process:
        yield url, shell, env, process


def kura(app_server, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    _, shell, env, _ = app_server
    return subprocess.run([KURA, *args], cwd=shell, env=env, input=stdin, capture_output=True, text=True, timeout=300)


@pytest.mark.slow  # a real server process
def test_the_app_the_api_and_mcp_share_one_port(app_server):
    url, shell, _, _ = app_server
    assert "<html" in httpx.get(url + "/").text.lower(), "the web app"
    assert [m["id"] for m in httpx.get(url + "/v1/models").json()["data"]] == ["kura", "kura-draft"], "the API"
    assert httpx.post(url + "/mcp", json={}).status_code != 404, "MCP"
    announcement = shell / ".kura" / "server.json"
    assert json.loads(announcement.read_text())["url"] == url and announcement.stat().st_mode & 0o077 == 0


@pytest.mark.slow  # a real server process
def test_commands_in_another_terminal_run_inside_the_server(app_server):
    ingested = kura(app_server, "ingest", "docs")
    assert ingested.returncode == 0, ingested.stderr
    assert "added 1" in ingested.stderr, "the path is the shell's docs folder, not the server's"
    found = kura(app_server, "search", "locker key deposit", "--json")
    assert found.returncode == 0 and json.loads(found.stdout)["results"][0]["title"] == "Lockers"
    asked = kura(app_server, "ask", "--batch", "-", "--json", stdin="How much is the locker deposit?\n")
    assert asked.returncode == 0 and "500 yen" in json.loads(asked.stdout)["answer"], "standard input went along"
    assert kura(app_server, "status").returncode == 0


@pytest.mark.slow  # a real server process
def test_the_app_gives_every_passage_its_second_stage_vector_while_it_runs(app_server):
    """Nobody runs `kura upgrade`: the app makes the second stage's vectors in the background, after its first
    start's samples and after each ingest, and status says how far it is."""
    assert kura(app_server, "ingest", "docs").returncode == 0
    for _ in range(300):
        detail = json.loads(kura(app_server, "status", "--json").stdout)["health"]["second_stage"]["detail"]
        if "every passage" in detail:
            break
        time.sleep(1)
    assert "every passage" in detail, detail


@pytest.mark.slow  # a real server process
def test_errors_and_exit_codes_are_the_commands_own(app_server):
    wrong = kura(app_server, "search", "lockers", "--mode", "nonsense")
    assert wrong.returncode == 2 and "must be one of" in wrong.stderr
    missing = kura(app_server, "ingest", "no-such-folder")
    assert missing.returncode == 2 and "no-such-folder" in missing.stderr


@pytest.mark.slow  # a real server process
def test_forwarded_commands_are_audited_as_the_shell_user(app_server):
    import getpass

    from app.audit import AuditLog

    _, shell, _, _ = app_server
    entry = AuditLog(shell / ".kura" / "audit.jsonl").read(action="ingest")[0]
    assert entry["user"] == getpass.getuser() and entry["via"] == "cli"


@pytest.mark.slow  # a real server process
def test_only_the_key_holder_may_send_commands_and_one_server_owns_the_store(app_server):
    url = app_server[0]
    for headers in ({}, {"Authorization": "Bearer guessed"}):
        refused = httpx.post(url + "/v1/cli", json={"argv": ["status"], "cwd": "/"}, headers=headers)
        assert refused.status_code == 401
    second = kura(app_server, "serve", "--port", str(free_port()))
    assert second.returncode == 2 and "already serves this store" in second.stderr


@pytest.mark.slow  # a real server process
def test_once_the_server_stops_commands_open_the_store_themselves(tmp_path):
    env = {
        **os.environ,
        "KURA_HOME": str(tmp_path / ".kura"),
        "KURA_SINGLE_USER": "1",
        "KURA_LLM_BACKEND": "extractive",
    }
    port = free_port()
    command = [KURA, "serve", "--port", str(port)]
    with running_server(command, f"http://127.0.0.1:{port}/v1/models", tmp_path / "serve.log", env=env):
        assert (tmp_path / ".kura" / "server.json").is_file()
    alone = subprocess.run([KURA, "status"], env=env, capture_output=True, text=True, timeout=120)
    assert alone.returncode == 0, "with no server, a command opens the store itself"
