"""One process owns the store. Qdrant Edge, the embedded default, lets one process open a store at a time, so kura
serves everything from one process: `kura app` is the web app, the HTTP API (/v1), the MCP endpoint (/mcp) and
the API's docs (/v1/docs) on one port, around one Kura; `kura serve` is the same without the web app. While it
runs, it shares that Kura and announces itself (app/owner.py), and the `kura` command in another terminal runs its
store commands inside this process (app/cli/remote.py) instead of failing on the store's lock."""

from __future__ import annotations

import contextlib
import hmac
import logging
from collections.abc import Callable, Iterator
from pathlib import Path

from starlette.requests import Request
from starlette.responses import JSONResponse, StreamingResponse
from starlette.routing import Mount, Route

from app.api.access import Gate
from app.api.errors import body
from app.api.mcp import create_mcp
from app.api.server import create_api
from app.owner import announce, local_url, sharing
from app.service import Kura
from app.settings import Settings

CommandRunner = Callable[[dict], Iterator[str]]  # a forwarded command's request → its output as JSON lines


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
    logging.getLogger("mcp").setLevel(logging.WARNING)  # not a line per MCP request
    kura = Kura(settings)
    try:
        with sharing(kura), announce(settings, local_url(host, port)) as key:
            found, lifespan = routes(kura, host, key, run_command)
            if kura.upgrade is not None:  # the second stage's vectors, made in the background while serving
                kura.upgrade.start()
            if web_app is None:
                import uvicorn
                from starlette.applications import Starlette

                uvicorn.run(Starlette(routes=found, lifespan=lifespan), host=host, port=port, log_level="warning",
                            server_header=False)  # fmt: skip
            else:
                import streamlit as st

                if not kura.manifest.all():
                    print("kura: first start, indexing the samples before serving (about a minute)…", flush=True)
                kura.welcome()
                st.App(str(web_app), routes=found, lifespan=lifespan).run(config={
                    "server.port": port, "server.address": host, "server.headless": True,
                    "browser.gatherUsageStats": False, "server.fileWatcherType": "none",
                    "client.toolbarMode": "minimal", "server.maxUploadSize": settings.upload_max_mb,
                })  # fmt: skip
    finally:
        kura.close()
