"""Who is using the app: a local user (bcrypt hash in a JSON file) or an OIDC login, each with groups.

Groups decide what a person can read (every search is filtered by them) and whether they are an admin
(any of `admin_groups`). No plaintext password is stored or logged anywhere."""

from __future__ import annotations

import functools
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import bcrypt

from retrieval.errors import KuraError

NAME_PATTERN = re.compile(r"^[\w.@-]{1,64}$")
MAX_PASSWORD_BYTES = 72  # bcrypt hashes no more; longer passwords are refused, never silently cut


class UserError(KuraError, ValueError):
    """A user name or password the users file cannot take; the message says what is allowed."""


@functools.cache
def _dummy_hash() -> bytes:
    """Compared against when the user does not exist, so a wrong name costs the same time as a wrong password.
    Made on first sign-in, not at import: every CLI command would pay its 0.3 s."""
    return bcrypt.hashpw(b"kura-dummy-password", bcrypt.gensalt(rounds=12))


@dataclass(frozen=True)
class User:
    name: str
    groups: tuple[str, ...]
    admin: bool = False
    language: str | None = None  # "en" or "ja"; None follows the browser


def make_user(name: str, groups: tuple[str, ...], admin_groups: list[str], language: str | None = None) -> User:
    return User(name, groups, admin=bool(set(groups) & set(admin_groups)), language=language)


class UserStore:
    """users.json: {"users": {name: {"password_hash", "groups", "language"}}}. Written with mode 0600. A user who
    signs in through OIDC is remembered with `"signed_in": "oidc"` and no password hash (so an admin can give them an
    API token); a password never signs them in."""

    def __init__(self, path: Path, admin_groups: list[str]) -> None:
        self.path = path
        self.admin_groups = admin_groups

    def _load(self) -> dict:
        if not self.path.is_file():
            return {"users": {}}
        return json.loads(self.path.read_text(encoding="utf-8"))

    def _save(self, data: dict) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_suffix(".tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, ensure_ascii=False, indent=2)
        os.replace(temporary, self.path)

    def names(self) -> list[str]:
        return sorted(self._load()["users"])

    def add(self, name: str, password: str, groups: tuple[str, ...], language: str | None = None) -> User:
        """Adds or replaces a user. Passwords shorter than 8 characters are refused."""
        if not NAME_PATTERN.match(name):
            raise UserError("user names are 1-64 letters, digits, '.', '_', '-' or '@'")
        if len(password) < 8:
            raise UserError("passwords need at least 8 characters")
        if len(password.encode()) > MAX_PASSWORD_BYTES:
            raise UserError(
                f"passwords can be at most {MAX_PASSWORD_BYTES} bytes (bcrypt's limit; about 24 Japanese characters)"
            )
        data = self._load()
        data["users"][name] = {
            "password_hash": bcrypt.hashpw(password.encode(), bcrypt.gensalt()).decode(),
            "groups": list(groups),
            "language": language,
        }
        self._save(data)
        return make_user(name, groups, self.admin_groups, language)

    def remember(self, user: User, method: str) -> None:
        """A user who signed in elsewhere (OIDC), with their groups as of this sign-in. A local user of the same
        name keeps their password and groups."""
        data = self._load()
        if data["users"].get(name := user.name, {}).get("password_hash"):
            return
        data["users"][name] = {"password_hash": None, "groups": list(user.groups), "language": user.language,
                               "signed_in": method}  # fmt: skip
        self._save(data)

    def remove(self, name: str) -> bool:
        data = self._load()
        if data["users"].pop(name, None) is None:
            return False
        self._save(data)
        return True

    def find(self, name: str) -> User | None:
        """A user by name, without a password: for an admin acting as them on the command line (`kura --as`)."""
        record = self._load()["users"].get(name)
        if record is None:
            return None
        return make_user(name, tuple(record["groups"]), self.admin_groups, record.get("language"))

    def authenticate(self, name: str, password: str) -> User | None:
        record = self._load()["users"].get(name)
        record = record if record and record["password_hash"] else None  # an OIDC user has no password here
        stored = record["password_hash"].encode() if record else _dummy_hash()
        candidate = password.encode()
        too_long = len(candidate) > MAX_PASSWORD_BYTES  # bcrypt refuses it; still spend the same time
        if not bcrypt.checkpw(candidate[:MAX_PASSWORD_BYTES], stored) or record is None or too_long:
            return None
        return make_user(name, tuple(record["groups"]), self.admin_groups, record.get("language"))


def user_from_claims(claims: Mapping, groups_claim: str, admin_groups: list[str], default_groups: list[str]) -> User:
    """An OIDC identity → a User. Groups come from the ID token's `groups_claim` (Keycloak, Entra ID and Google
    Workspace can all be configured to send one); without it the user gets only the default groups."""
    raw = claims.get(groups_claim)
    if isinstance(raw, str):
        raw = [raw]
    groups = tuple(dict.fromkeys([*(g.strip("/") for g in raw or [] if isinstance(g, str) and g), *default_groups]))
    name = str(claims.get("email") or claims.get("preferred_username") or claims.get("sub") or "unknown")
    locale = str(claims.get("locale") or "")
    return make_user(name, groups, admin_groups, "ja" if locale.startswith("ja") else None)
