"""`kura users`, `kura audit` and `kura app`: managing who may use the web app, reading the audit log, serving
the app. The shell user runs them as an admin: whoever can run kura can read KURA_HOME anyway."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from app.cli.common import Session, caller_of, console, emit, fail, run
from app.settings import Settings

users_cli = typer.Typer(
    no_args_is_help=True, help="Local users of the web app (bcrypt hashes in KURA_HOME/users.json)."
)


@users_cli.command("add")
def users_add(
    name: Annotated[str, typer.Argument(help="User name (letters, digits, . _ - @).")],
    groups: Annotated[str, typer.Option("--groups", help="Comma-separated access groups.")] = "",
    admin: Annotated[bool, typer.Option("--admin", help="Also add the first KURA_ADMIN_GROUPS group.")] = False,
    language: Annotated[str | None, typer.Option("--language", help="en or ja; default follows the browser.")] = None,
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="Read the password from stdin.")] = False,
) -> None:
    """Add a user, or replace one's password and groups. The password is asked for, never taken as an argument."""
    password = (
        sys.stdin.readline().rstrip("\n")
        if password_stdin
        else typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    )

    def command(kura) -> None:
        member_of = kura.groups(groups or None)
        user = kura.add_user(caller_of(kura), name, password, member_of, admin=admin, language=language)
        console.print(f"user {user.name}: groups {', '.join(user.groups)}{' (admin)' if user.admin else ''}")

    run(command)


@users_cli.command("remove")
def users_remove(name: Annotated[str, typer.Argument()]) -> None:
    """Remove a user; they can no longer sign in."""

    def command(kura) -> None:
        if not kura.remove_user(caller_of(kura), name):
            console.print(f"[red]error:[/red] no user {name!r}")
            raise typer.Exit(2)

    run(command)


@users_cli.command("list")
def users_list() -> None:
    def command(kura) -> None:
        for name in kura.users.names():
            sys.stdout.write(name + "\n")

    run(command)


def audit(
    user: Annotated[str | None, typer.Option("--user", help="Only this user's entries.")] = None,
    action: Annotated[str | None, typer.Option("--action", help="Only this action (ask, draft, approve, ...).")] = None,
    limit: Annotated[int, typer.Option("--limit")] = 50,
) -> None:
    """Print the audit log as JSON lines, newest first."""

    def command(kura) -> None:
        for entry in kura.audit_entries(caller_of(kura), limit, user=user, action=action):
            emit(entry)

    run(command)


def serve_app(
    port: Annotated[int, typer.Option("--port", help="Port: the app at /, the API at /v1, MCP at /mcp.")] = 8501,
    address: Annotated[str, typer.Option("--address", help="Interface to listen on.")] = "localhost",
) -> None:
    """Serve the web app, with the HTTP API and the MCP endpoint on the same port, from one process."""
    settings = Settings()
    if settings.single_user and address not in ("localhost", "127.0.0.1", "::1"):
        console.print(
            "[red]error:[/red] single-user mode has no login, so it only serves on localhost. "
            "Add users with `kura users add` and unset KURA_SINGLE_USER to serve on a network."
        )
        raise typer.Exit(2)
    serving_here(settings, address, port, web_app=Path(__file__).resolve().parent.parent / "main.py")


tokens_cli = typer.Typer(no_args_is_help=True, help="Bearer tokens for the HTTP API (`kura serve`), stored hashed.")


@tokens_cli.command("create")
def tokens_create(
    user: Annotated[str, typer.Argument(help="The app user the token acts as (their groups, their audit entries).")],
    name: Annotated[str, typer.Option("--name", help="What the token is for, e.g. helpdesk or ide.")] = "api",
    as_json: Annotated[bool, typer.Option("--json", help='Print {"token": ...}.')] = False,
) -> None:
    """Create a token and print it once: it is stored only as a hash."""

    def command(kura) -> None:
        token, record = kura.create_token(caller_of(kura), user, name)
        if as_json:
            emit({"token": token, "id": record.id, "user": record.user, "name": record.label})
        else:
            sys.stdout.write(token + "\n")
            console.print(f"token {record.id} ({record.label}) for {record.user}: shown once, keep it safe")

    run(command)


@tokens_cli.command("list")
def tokens_list() -> None:
    """The tokens (id, user, name, created), never the secrets."""

    def command(kura) -> None:
        for record in kura.tokens.list():
            emit({"id": record.id, "user": record.user, "name": record.label, "created": record.created})

    run(command)


@tokens_cli.command("revoke")
def tokens_revoke(token_id: Annotated[str, typer.Argument(help="The id `kura tokens list` shows.")]) -> None:
    """Revoke a token: the next request with it is refused."""
    run(lambda kura: kura.revoke_token(caller_of(kura), token_id))


def serve(
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8000,
    host: Annotated[str, typer.Option("--host", help="Interface to listen on.")] = "127.0.0.1",
) -> None:
    """Serve the HTTP API (/v1: OpenAI-compatible chat with models `kura` and `kura-draft`, search, documents,
    drafts; docs at /v1/docs) and the MCP endpoint (/mcp), without the web app."""
    settings = Settings()
    if settings.single_user and host not in ("localhost", "127.0.0.1", "::1"):
        console.print("[red]error:[/red] single-user mode has no tokens, so the API only serves on localhost.")
        raise typer.Exit(2)
    serving_here(settings, host, port)


def serving_here(settings: Settings, host: str, port: int, web_app: Path | None = None) -> None:
    """This process becomes the store's owner; `kura` commands elsewhere run inside it meanwhile."""
    from app import owner, serving
    from app.cli.remote import run_inside

    running = owner.announced(settings)
    if running and not settings.qdrant_url:
        raise fail(f"a kura server (process {running['pid']}) already serves this store at {running['url']}: "
                   "use it, or stop it first")  # fmt: skip
    kura_command = Session.kura_command
    serving.serve(settings, host, port, lambda request: run_inside(request, kura_command), web_app=web_app)
