"""What every command shares: the console, safe printing of document text, JSON lines, and running a command
against the service as the shell user (or, for admins, as an app user with `kura --as NAME`)."""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from app.settings import Settings
from ingest.documents import without_controls

console = Console(stderr=True)
T = TypeVar("T")

GroupsOption = Annotated[str | None, typer.Option("--groups", help="Comma-separated access groups.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Machine-readable JSON output.")]
SourceOption = Annotated[list[Path] | None, typer.Option("--source", help="Only search this file (repeatable).")]
BackendOption = Annotated[str | None, typer.Option("--backend", help="extractive, local or openai.")]


class _Session(threading.local):
    """Who a command acts as (`--as`, set by the top-level callback) and, for a command a server runs for the
    shell (app/cli/remote.py), that shell's folder and user. Per thread: a server runs several commands at once."""

    acting_as: str | None = None
    kura_command: object = None  # the whole `kura` command (a click Command)
    cwd: Path | None = None
    operator: str | None = None


Session = _Session()


def here(path: Path | str) -> Path:
    """A path as the user typed it, relative to the folder they typed it in."""
    return (Session.cwd or Path.cwd()) / Path(path).expanduser()


def shown(text: str) -> str:
    """Document or model text for the terminal: no escape sequences reach it, and `[/red]` is text, not markup."""
    return escape(without_controls(text))


def emit(data: dict) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, default=str) + "\n")
    sys.stdout.flush()


def fail(message: str) -> typer.Exit:
    console.print(f"[red]error:[/red] {shown(message)}")
    return typer.Exit(2)


def caller_of(kura, groups: str | None = None):
    """The shell user with --groups (or the default groups); with `kura --as NAME`, that app user and their
    groups, the shell user recorded as the one acting."""
    from app.service import Caller, Via, os_user

    shell_user = Session.operator or os_user()
    if Session.acting_as is None:
        return Caller(shell_user, kura.groups(groups), admin=True, via=Via.CLI)
    user = kura.users.find(Session.acting_as)
    if user is None:
        raise fail(f"no app user {Session.acting_as!r}: see `kura users list`")
    return Caller(user.name, user.groups, user.admin, Via.CLI, user.language, operator=shell_user)


def run(command: Callable[..., T]) -> T:
    """Run the command on the service (this server's own, for a command a server runs for the shell; else one
    built for it) and turn any kura error into its message and exit code 2."""
    from app import owner
    from app.service import Kura
    from retrieval import KuraError

    kura = owner.shared() or Kura(Settings())
    try:
        return command(kura)
    except (KuraError, FileNotFoundError) as exc:
        raise fail(str(exc)) from None
    finally:
        if kura is not owner.shared():
            kura.close()


def choice(value: str | None, kind: type, option: str) -> object:
    """A StrEnum option's value, or a clear message listing the choices."""
    if value is None:
        return None
    try:
        return kind(value)
    except ValueError:
        raise typer.BadParameter(f"must be one of {', '.join(kind)}", param_hint=option) from None
