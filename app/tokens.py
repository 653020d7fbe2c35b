"""API tokens: a bearer token per user and purpose ("helpdesk", "ide"), shown once and stored only as a hash, in
KURA_HOME/tokens.json (mode 0600). A request made with a token acts as its user, with that user's groups today: a
user removed or moved to other groups is removed or moved for their tokens too."""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from retrieval.errors import KuraError

PREFIX = "kura_"


class TokenError(KuraError):
    """A token that cannot be created or revoked; the message says why."""


@dataclass(frozen=True)
class TokenRecord:
    id: str  # shown in lists and the audit log; not the secret
    user: str
    label: str
    created: float


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class TokenStore:
    def __init__(self, path: Path) -> None:
        self.path = path

    def _load(self) -> dict:
        return json.loads(self.path.read_text(encoding="utf-8")) if self.path.is_file() else {"tokens": {}}

    def _save(self, data: dict) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_suffix(".tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=2)
        os.replace(temporary, self.path)

    def create(self, user: str, label: str) -> tuple[str, TokenRecord]:
        """A new token for `user` → (the token, shown this once; its record)."""
        token = PREFIX + secrets.token_urlsafe(32)
        record = TokenRecord(secrets.token_hex(4), user, label or "api", time.time())
        data = self._load()
        data["tokens"][_digest(token)] = record.__dict__
        self._save(data)
        return token, record

    def verify(self, token: str) -> TokenRecord | None:
        entry = self._load()["tokens"].get(_digest(token)) if token.startswith(PREFIX) else None
        return TokenRecord(**entry) if entry else None

    def list(self) -> list[TokenRecord]:
        return sorted((TokenRecord(**e) for e in self._load()["tokens"].values()), key=lambda r: r.created)

    def revoke(self, token_id: str) -> TokenRecord:
        data = self._load()
        for digest, entry in list(data["tokens"].items()):
            if entry["id"] == token_id:
                del data["tokens"][digest]
                self._save(data)
                return TokenRecord(**entry)
        raise TokenError(f"no token with id {token_id!r}: see `kura tokens list`")
