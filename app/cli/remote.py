"""The `kura` command while a kura server owns the embedded store. Qdrant Edge lets one process open a store, so
when `kura app` or `kura serve` is running (KURA_HOME/server.json says where), a command that needs the store is
not run here: its arguments, working folder and (for `-`) standard input go to that server, which runs the very
same command inside its own process, on its own open store, and streams back what it printed and its exit code.
The command and its output are identical either way; only where it runs differs.

Only the operator may do this: the server's key is in server.json, which only KURA_HOME's owner can read (the
same people who could open the store themselves). Commands that never touch the store (users, tokens, audit, app,
serve) and training (which needs the machine's GPU and memory, not the server's) always run here."""

from __future__ import annotations

import io
import json
import os
import queue
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import click

from app.cli.common import Session

RUN_HERE = frozenset({"app", "serve", "users", "tokens", "audit", "finetune train", "--help", "-h"})

_local = threading.local()  # per forwarded command: its output sinks and standard input


class _PerThread(io.TextIOBase):
    """sys.stdout/stderr/stdin in the server: a forwarded command's thread reads and writes its own streams; every
    other thread (Streamlit, uvicorn, logging) the process's."""

    def __init__(self, name: str, original) -> None:
        self.name, self.original = name, original

    def _target(self):
        return getattr(_local, self.name, None) or self.original

    def write(self, text: str) -> int:
        return self._target().write(text)

    def flush(self) -> None:
        self._target().flush()

    def read(self, size: int = -1) -> str:
        return self._target().read(size)

    def readline(self, size: int = -1) -> str:
        return self._target().readline(size)

    def __iter__(self):
        return iter(self._target())

    def isatty(self) -> bool:
        return self._target().isatty()

    def fileno(self) -> int:
        return self._target().fileno()


class _Sink(io.TextIOBase):
    """Where a forwarded command writes: each write becomes one line of the reply (channel, text)."""

    def __init__(self, channel: str, send: Callable[[dict], None]) -> None:
        self.channel, self.send = channel, send

    def write(self, text: str) -> int:
        if text:
            self.send({self.channel: text})
        return len(text)

    def isatty(self) -> bool:
        return False


def _install() -> None:
    for name in ("stdout", "stderr", "stdin"):
        if not isinstance(getattr(sys, name), _PerThread):
            setattr(sys, name, _PerThread(name, getattr(sys, name)))


def execute(kura_command: click.Command, argv: list[str]) -> int:
    """The `kura` command run with these arguments in this thread → its exit code, as the shell would see it."""
    try:  # outside standalone mode, an exit (typer.Exit included) comes back as the return value
        code = kura_command.main(args=argv, prog_name="kura", standalone_mode=False)
    except click.exceptions.Exit as done:
        return done.exit_code
    except click.ClickException as wrong:  # a usage error: said as the shell would say it
        wrong.show()
        return wrong.exit_code
    except click.exceptions.Abort:
        sys.stderr.write("Aborted.\n")
        return 1
    return code if isinstance(code, int) else 0


def run_inside(request: dict, kura_command: click.Command) -> Iterator[str]:
    """Server side: run the `kura` command with the request's arguments, as its user in its folder, on a thread of
    its own whose printed output is streamed back as JSON lines: {"out": ...}, {"err": ...}, then {"exit": code}.
    When the shell goes away (Ctrl-C), the command's next output ends it."""
    _install()
    lines: queue.Queue = queue.Queue()
    gone = threading.Event()

    def send(line: dict) -> None:
        if gone.is_set():
            raise BrokenPipeError("the shell that ran this command has gone")
        lines.put(line)

    def work() -> None:
        _local.stdout, _local.stderr = _Sink("out", send), _Sink("err", send)
        _local.stdin = io.StringIO(request.get("stdin") or "")
        Session.cwd, Session.operator = Path(request["cwd"]), request.get("user")
        try:
            code = execute(kura_command, list(request["argv"]))
        except BaseException as exc:  # noqa: BLE001 - whatever happens, the client gets an exit code
            lines.put({"err": f"error: {exc}\n"})
            code = 2
        lines.put({"exit": code})

    threading.Thread(target=work, name="kura-cli", daemon=True).start()
    try:
        while "exit" not in (line := lines.get()):
            yield json.dumps(line) + "\n"
        yield json.dumps(line) + "\n"
    finally:
        gone.set()


def forward(argv: list[str], announced: dict) -> int | None:
    """Client side: run this command in the server `announced` (server.json) → its exit code; None when that
    server does not answer (it was stopped by a signal before it could remove server.json)."""
    import getpass

    import httpx

    stdin = sys.stdin.read() if "-" in argv else None
    request = {"argv": argv, "cwd": os.getcwd(), "user": getpass.getuser(), "stdin": stdin}
    headers = {"Authorization": f"Bearer {announced['key']}", "Accept-Encoding": "identity"}  # streamed, not zipped
    try:
        with httpx.stream("POST", announced["url"] + "/v1/cli", json=request, headers=headers, timeout=None) as reply:
            return _relay(reply, announced)
    except httpx.ConnectError:  # nothing was run: the connection was refused
        return None


def _relay(reply, announced: dict) -> int:
    """The forwarded command's output onto this terminal → its exit code."""
    if reply.status_code != 200:
        sys.stderr.write(f"error: the kura server at {announced['url']} refused the command "
                         f"({reply.status_code}); stop it or remove {announced['file']}\n")  # fmt: skip
        return 2
    code = 2
    for line in reply.iter_lines():
        part = json.loads(line)
        if "out" in part:
            sys.stdout.write(part["out"])
            sys.stdout.flush()
        elif "err" in part:
            sys.stderr.write(part["err"])
            sys.stderr.flush()
        else:
            code = part["exit"]
    return code
