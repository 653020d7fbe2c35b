"""One process owns the store. Qdrant Edge, the embedded default, lets one process open a store at a time, so kura
serves everything from one process: `kura app` is the web app, the HTTP API (/v1), the MCP endpoint (/mcp) and
the API's docs (/v1/docs) on one port, around one Kura; `kura serve` is the same without the web app. While it
runs, it announces itself in KURA_HOME/server.json (its URL and a key, readable by KURA_HOME's owner only), and the
`kura` command in another terminal runs its store commands inside this process (app/cli/remote.py) instead of
failing on the store's lock. With a Qdrant server (KURA_QDRANT_URL) every process may open the store, and nothing
is announced."""

from __future__ import annotations

import contextlib
import hmac
import json
import logging
import os
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path

from starlette.requests import Request
from starlette.responses import JSONResponse, StreamingResponse
from starlette.routing import Mount, Route

from app.api.access import Gate
from app.api.errors import body
from app.api.mcp import create_mcp
from app.api.server import create_api
from app.service import Caller, Kura
from app.settings import REPO_ROOT, Settings

SAMPLES = REPO_ROOT / "samples"
ANNOUNCEMENT = "server.json"
CommandRunner = Callable[[dict], Iterator[str]]  # a forwarded command's request → its output as JSON lines

_shared: Kura | None = None


def shared() -> Kura | None:
    """The Kura this serving process owns; None in any other process (which builds its own)."""
    return _shared


def welcome(kura: Kura) -> Kura:
    """A first run shows something to ask about: the samples, for the default groups."""
    if not kura.manifest.all() and SAMPLES.is_dir():
        kura.ingest(Caller("kura", (), admin=True), [SAMPLES], delete_missing=False)
    return kura


def announced(settings: Settings) -> dict | None:
    """The running server that owns this KURA_HOME's embedded store ({url, key, pid, file}), or None."""
    path = settings.home / ANNOUNCEMENT
    try:
        found = json.loads(path.read_text(encoding="utf-8"))
        os.kill(int(found["pid"]), 0)  # a server that died without cleaning up is not running
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return {**found, "file": str(path)}


@contextlib.contextmanager
def announce(settings: Settings, url: str) -> Iterator[str]:
    """server.json while this process serves an embedded store → the key a forwarded command must present."""
    key = secrets.token_urlsafe(32)
    path = settings.home / ANNOUNCEMENT
    if settings.qdrant_url:  # a Qdrant server: every process opens the store itself
        yield key
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        json.dump({"url": url, "pid": os.getpid(), "key": key}, out)
    try:
        yield key
    finally:
        if (announced(settings) or {}).get("key") == key:
            path.unlink(missing_ok=True)


def local_url(host: str, port: int) -> str:
    """How a command on this machine reaches a server listening on `host`."""
    name = "127.0.0.1" if host in ("", "0.0.0.0", "::", "localhost") else host
    return f"http://{f'[{name}]' if ':' in name else name}:{port}"


def routes(kura: Kura, host: str, key: str, run_command: CommandRunner) -> tuple[list, Callable]:
    """The API under /v1, MCP at /mcp and the door for forwarded commands, with the lifespan they need."""
    gate = Gate(kura)
    mcp_route, mcp_server = create_mcp(kura, gate, host)

    async def door(request: Request):
        """Forwarded `kura` commands: only with this run's key from server.json, never with an API token."""
        if not hmac.compare_digest(request.headers.get("authorization", ""), f"Bearer {key}"):
            message = "only the `kura` command on this machine (with the key in KURA_HOME/server.json) may run commands"
            return JSONResponse(body(message, "authentication_error", 401), 401)
        return StreamingResponse(run_command(await request.json()), media_type="application/x-ndjson")

    @contextlib.asynccontextmanager
    async def lifespan(app):
        async with mcp_server.session_manager.run():
            yield

    found = [Route("/v1/cli", door, methods=["POST"]), mcp_route, Mount("/v1", app=create_api(kura, gate))]
    return found, lifespan


def serve(settings: Settings, host: str, port: int, run_command: CommandRunner, *, web_app: Path | None = None) -> None:
    """Serve until stopped: the API and MCP, and with `web_app` (main.py) the Streamlit app on the same port."""
    global _shared
    logging.getLogger("mcp").setLevel(logging.WARNING)  # not a line per MCP request
    _shared = kura = Kura(settings)
    try:
        with announce(settings, local_url(host, port)) as key:
            found, lifespan = routes(kura, host, key, run_command)
            if web_app is None:
                import uvicorn
                from starlette.applications import Starlette

                uvicorn.run(Starlette(routes=found, lifespan=lifespan), host=host, port=port, log_level="warning",
                            server_header=False)  # fmt: skip
            else:
                import streamlit as st

                if not kura.manifest.all():
                    print("kura: first start, indexing the samples before serving (about a minute)…", flush=True)
                welcome(kura)
                st.App(str(web_app), routes=found, lifespan=lifespan).run(config={
                    "server.port": port, "server.address": host, "server.headless": True,
                    "browser.gatherUsageStats": False, "server.fileWatcherType": "none",
                    "client.toolbarMode": "minimal", "server.maxUploadSize": settings.upload_max_mb,
                })  # fmt: skip
    finally:
        _shared = None
        kura.close()
