"""A tiny OpenAI-compatible server that replays recorded vLLM/gpt-oss responses, for fault injection only.

The requested `model` picks the behaviour: `replay:NAME` serves recordings/NAME.sse (streaming) or NAME.json;
`http-500` answers 500; `missing-model` answers 404; `slow` waits before the first byte. Every request body is kept for assertions."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

RECORDINGS = Path(__file__).parent / "recordings"


class FakeVLLM(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.requests: list[dict] = []
        self.slow_seconds = 3.0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"

    def __enter__(self):
        threading.Thread(target=self.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.shutdown()
        self.server_close()


class _Handler(BaseHTTPRequestHandler):
    server: FakeVLLM

    def log_message(self, *args) -> None:  # keep test output clean
        pass

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.requests.append(body)
        model = body.get("model", "")
        if model == "http-500":
            return self._send(500, "application/json", b'{"error":{"message":"CUDA out of memory","code":500}}')
        if model == "missing-model":
            return self._send(404, "application/json",
                              b'{"object":"error","message":"The model `missing-model` does not exist.","code":404}')
        if model == "slow":
            time.sleep(self.server.slow_seconds)
            return self._send(200, "application/json", b"{}")
        name = model.removeprefix("replay:")
        if body.get("stream"):
            return self._send(200, "text/event-stream", (RECORDINGS / f"{name}.sse").read_bytes())
        return self._send(200, "application/json", (RECORDINGS / f"{name}.json").read_bytes())

    def _send(self, status: int, content_type: str, payload: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Connection", "close")  # a recording that stops early is a cut stream
        self.end_headers()
        self.wfile.write(payload)
