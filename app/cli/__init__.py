"""The `kura` command. Thin: each command parses its arguments, calls the service as the shell user (or, with
`kura --as NAME`, as that app user), and prints. Commands live by what they touch: reading.py (search, ask,
draft), library.py (ingest, watch, status, eval), admin.py (users, audit, app)."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from app.cli import admin, finetune, library, reading, remote
from app.cli.common import Session, console

__all__ = ["cli", "main"]

cli = typer.Typer(add_completion=False, no_args_is_help=True, help="kura: private, cited answers from your documents.")


@cli.callback()
def acting_as(
    context: typer.Context,
    as_user: Annotated[
        str | None,
        typer.Option("--as", help="Act as this app user (their groups; audited with you as the one acting)."),
    ] = None,
) -> None:
    Session.acting_as = as_user
    Session.kura_command = context.find_root().command  # what a serving process runs for the shell


cli.command()(library.ingest)
cli.command()(library.watch)
cli.command()(reading.search)
cli.command()(reading.ask)
cli.command()(reading.draft)
cli.command()(library.status)
cli.command()(library.upgrade)
eval_cli = typer.Typer(no_args_is_help=True, help="Measure retrieval and answer quality.")
eval_cli.command("retrieval")(library.eval_retrieval)
eval_cli.command("qa")(library.eval_qa)
cli.add_typer(eval_cli, name="eval")
cli.add_typer(admin.users_cli, name="users")
cli.add_typer(admin.tokens_cli, name="tokens")
cli.add_typer(finetune.finetune_cli, name="finetune")
cli.command("serve")(admin.serve)
cli.command()(admin.audit)
cli.command("app")(admin.serve_app)


def command_words(argv: list[str]) -> list[str]:
    """The command and sub-command these arguments run (`kura --as rin finetune train ...` → finetune, train)."""
    words, found = iter(argv), []
    for word in words:
        if word == "--as":
            next(words, None)
        elif not word.startswith("--as=") and len(found) < 2:
            found.append(word)
    return found


def main() -> None:
    from pydantic import ValidationError
    from pydantic_settings import SettingsError

    try:
        argv = sys.argv[1:]
        words = command_words(argv)
        if words and not {words[0], " ".join(words)} & remote.RUN_HERE:
            from app import owner
            from app.settings import Settings

            running = owner.announced(Settings())
            code = remote.forward(argv, running) if running else None  # a server owns the store: it runs there
            if code is not None:
                sys.exit(code)
        cli()
    except (SettingsError, ValidationError) as exc:  # a bad KURA_* variable or .env line: say which, not a traceback
        console.print(
            f"[red]error:[/red] a KURA_ setting is invalid: {exc}. Fix that environment "
            "variable or .env line (groups are comma-separated: KURA_DEFAULT_GROUPS=staff,hr)."
        )
        sys.exit(2)
