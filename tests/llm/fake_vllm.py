"""A tiny OpenAI-compatible server that replays recorded vLLM/gpt-oss responses, for fault injection only.

The requested `model` picks the behaviour: `replay:NAME` serves recordings/NAME.sse (streaming) or NAME.json;
`say:TEXT` answers TEXT (a scripted answer, streamed or not); `drip:TEXT` streams TEXT a word at a time, slowly;
`http-500` answers 500; `missing-model` answers 404; `slow` waits before the first byte; `keepalive` streams only
SSE comments (vLLM behind a proxy that keeps the connection open); `not-json`, `empty-object` and `no-choices`
answer 200 with a body that is no chat completion. Every request body is kept for assertions."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

RECORDINGS = Path(__file__).parent / "recordings"
DRIP_SECONDS = 0.4


BROKEN_REPLIES = {
    "not-json": ("text/html", b"<html><body>502 Bad Gateway</body></html>"),
    "empty-object": ("application/json", b"{}"),
    "no-choices": (
        "application/json",
        b'{"id": "x", "object": "chat.completion", "created": 0, "model": "m", "choices": []}',
    ),
}


class FakeVLLM(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.requests: list[dict] = []
        self.slow_seconds = 3.0

    def handle_error(self, request, client_address) -> None:
        """A client that gave up (a timeout test) closes the socket under a reply: not an error of the test."""

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
            return self._send(
                404,
                "application/json",
                b'{"object":"error","message":"The model `missing-model` does not exist.","code":404}',
            )
        if model == "slow":
            time.sleep(self.server.slow_seconds)
            return self._send(200, "application/json", b"{}")
        if model == "keepalive":
            return self._keep_alive()
        if model in BROKEN_REPLIES:
            kind, payload = BROKEN_REPLIES[model]
            if body.get("stream") and kind == "application/json":
                return self._send(200, "text/event-stream", b"data: " + payload + b"\n\ndata: [DONE]\n\n")
            return self._send(200, kind, payload)
        if model.startswith("drip:"):  # a scripted answer written slowly, word by word: something to stop
            return self._drip(model.removeprefix("drip:"))
        if model.startswith("say:"):  # a scripted answer: the test is about what kura does with it
            return self._say(model.removeprefix("say:"), bool(body.get("stream")))
        name = model.removeprefix("replay:")
        if body.get("stream"):
            return self._send(200, "text/event-stream", (RECORDINGS / f"{name}.sse").read_bytes())
        return self._send(200, "application/json", (RECORDINGS / f"{name}.json").read_bytes())

    def _say(self, text: str, stream: bool) -> None:
        if not stream:
            reply = {
                "id": "say",
                "object": "chat.completion",
                "created": 0,
                "model": "say",
                "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
            }
            return self._send(200, "application/json", json.dumps(reply).encode())
        events = [
            {"choices": [{"index": 0, "delta": {"content": text}, "finish_reason": None}]},
            {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]},
        ]
        chunk = {"id": "say", "object": "chat.completion.chunk", "created": 0, "model": "say"}
        payload = "".join(f"data: {json.dumps({**chunk, **event})}\n\n" for event in events) + "data: [DONE]\n\n"
        return self._send(200, "text/event-stream", payload.encode())

    def _drip(self, text: str) -> None:
        """Streams one word every DRIP_SECONDS; `server.dripped` counts the words sent, `server.hung_up` says the
        client closed the stream before the end."""
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        chunk = {"id": "drip", "object": "chat.completion.chunk", "created": 0, "model": "drip"}
        self.server.dripped, self.server.hung_up = 0, False
        try:
            for word in text.split(" "):
                event = {**chunk, "choices": [{"index": 0, "delta": {"content": word + " "}, "finish_reason": None}]}
                self.wfile.write(f"data: {json.dumps(event)}\n\n".encode())
                self.wfile.flush()
                self.server.dripped += 1
                time.sleep(DRIP_SECONDS)
            done = {**chunk, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
            self.wfile.write(f"data: {json.dumps(done)}\n\ndata: [DONE]\n\n".encode())
        except OSError:  # the client hung up: kura stopped the answer
            self.server.hung_up = True

    def _keep_alive(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        deadline = time.monotonic() + self.server.slow_seconds * 4
        try:
            while time.monotonic() < deadline:
                self.wfile.write(b": keep-alive\n\n")
                self.wfile.flush()
                time.sleep(0.1)
        except OSError:  # the client gave up: that is the point
            pass

    def _send(self, status: int, content_type: str, payload: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Connection", "close")  # a recording that stops early is a cut stream
        self.end_headers()
        self.wfile.write(payload)
