"""Who is asking, as every use case receives it: a name, groups, whether an admin, and through which front end.
The audit log records the caller of every use case; the access scope of every search is built from it."""

from __future__ import annotations

import getpass
import os
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from app.users import User
from retrieval import AccessScope, KuraError


class Via(StrEnum):
    """The front end a request came through, as written in the audit log."""

    APP = "app"
    CLI = "cli"
    API = "api"
    MCP = "mcp"


class Forbidden(KuraError, PermissionError):
    """The caller may not do this (an admin-only use case, a document outside their groups)."""


@dataclass(frozen=True)
class Caller:
    name: str
    groups: tuple[str, ...]
    admin: bool = False
    via: Via = Via.APP
    language: str | None = None
    operator: str | None = None  # the admin acting as this user (`kura --as NAME`), recorded beside them
    token: str | None = None  # the API token's id and label the request came with, recorded beside them

    @classmethod
    def of(cls, user: User, via: Via = Via.APP) -> Caller:
        return cls(user.name, user.groups, user.admin, via, user.language)

    def scope(self, sources: Sequence[str | Path] = ()) -> AccessScope:
        """What this caller may read; sources (files) narrow it further, never widen it. Uploads are owned by
        app users, so an app or API caller also reads their own uploads; the shell user owns none."""
        paths = tuple(str(Path(p).expanduser().resolve()) for p in sources)
        return AccessScope(self.groups, paths, user=None if self.via is Via.CLI else self.name)

    def require_admin(self, action: str) -> None:
        if not self.admin:
            raise Forbidden(f"Only admins may {action}. Ask an admin, or sign in as one.")


def os_user() -> str:
    """Who runs the CLI: the shell user (whoever can run kura can read KURA_HOME anyway)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return f"uid:{os.getuid()}"
