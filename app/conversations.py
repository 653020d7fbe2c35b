"""Each user's conversations, kept in KURA_HOME so a chat survives a reload and can be reopened tomorrow.

One JSON file per conversation, under a folder per user (named by a hash of the user name), mode 0600 like
everything in KURA_HOME. Conversations not touched for `retention_days` are deleted when the list is read."""

from __future__ import annotations

import hashlib
import json
import os
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from llm.notes import as_data, from_data
from llm.records import Citation, Claim

TITLE_CHARS = 60


@dataclass
class Turn:
    """One question and what the reader was shown for it."""

    id: str
    question: str
    query: str
    answer: str
    abstained: bool = False
    error: str | None = None
    warnings: list[str] = field(default_factory=list)
    citations: list[Citation] = field(default_factory=list)
    claims: list[Claim] = field(default_factory=list)
    backend: str = ""
    stopped: bool = False
    notice: str | None = None  # the chosen model could not start, so the answer quotes the passages (and why)
    at: float = field(default_factory=time.time)

    def to_data(self) -> dict:
        data = dict(self.__dict__)
        data["citations"] = [c.to_json() for c in self.citations]
        data["claims"] = [c.to_json() for c in self.claims]
        return as_data(data)

    @classmethod
    def from_data(cls, data: dict) -> Turn:
        data = from_data(data)
        data["citations"] = [Citation(**c) for c in data.get("citations", [])]
        data["claims"] = [Claim(**c) for c in data.get("claims", [])]
        return cls(**data)


@dataclass
class Conversation:
    id: str
    title: str
    turns: list[Turn] = field(default_factory=list)
    created: float = field(default_factory=time.time)
    updated: float = field(default_factory=time.time)

    @property
    def questions(self) -> list[str]:
        return [turn.question for turn in self.turns]


def new_id() -> str:
    return uuid.uuid4().hex[:12]


class ConversationStore:
    def __init__(self, root: Path, retention_days: int = 90) -> None:
        self.root = root
        self.retention_days = retention_days

    def _folder(self, user: str) -> Path:
        return self.root / hashlib.sha256(user.encode()).hexdigest()[:24]

    def _file(self, user: str, conversation_id: str) -> Path | None:
        """The file of a conversation id, or None for an id that is not one kura made (no path tricks)."""
        if len(conversation_id) != 12 or not all(ch in "0123456789abcdef" for ch in conversation_id):
            return None
        return self._folder(user) / f"{conversation_id}.json"

    def list(self, user: str) -> list[Conversation]:
        """The user's conversations, most recently used first, without their turns; expired ones are deleted."""
        folder, found = self._folder(user), []
        cutoff = time.time() - self.retention_days * 86400 if self.retention_days else None
        for path in folder.glob("*.json") if folder.is_dir() else []:
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue  # a damaged file is skipped, never shown half
            if cutoff is not None and data["updated"] < cutoff:
                path.unlink(missing_ok=True)
                continue
            found.append(Conversation(data["id"], data["title"], [], data["created"], data["updated"]))
        return sorted(found, key=lambda c: c.updated, reverse=True)

    def get(self, user: str, conversation_id: str) -> Conversation | None:
        path = self._file(user, conversation_id)
        if path is None or not path.is_file():
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
        turns = [Turn.from_data(turn) for turn in data["turns"]]
        return Conversation(data["id"], data["title"], turns, data["created"], data["updated"])

    def save(self, user: str, conversation: Conversation) -> None:
        path = self._file(user, conversation.id)
        path.parent.mkdir(parents=True, exist_ok=True)
        conversation.updated = time.time()
        data = {"id": conversation.id, "title": conversation.title, "created": conversation.created,
                "updated": conversation.updated, "turns": [turn.to_data() for turn in conversation.turns]}  # fmt: skip
        temporary = path.with_suffix(".tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, ensure_ascii=False)
        os.replace(temporary, path)

    def add_turn(self, user: str, conversation_id: str | None, turn: Turn) -> str:
        """Appends a turn to the conversation (a new one, titled by its first question, when there is none)."""
        conversation = self.get(user, conversation_id) if conversation_id else None
        if conversation is None:
            title = " ".join(turn.question.split())[:TITLE_CHARS]
            conversation = Conversation(conversation_id if conversation_id and self._file(user, conversation_id)
                                        else new_id(), title)  # fmt: skip
        conversation.turns.append(turn)
        self.save(user, conversation)
        return conversation.id

    def rename(self, user: str, conversation_id: str, title: str) -> bool:
        conversation = self.get(user, conversation_id)
        if conversation is None or not title.strip():
            return False
        conversation.title = " ".join(title.split())[:TITLE_CHARS]
        self.save(user, conversation)
        return True

    def delete(self, user: str, conversation_id: str) -> bool:
        path = self._file(user, conversation_id)
        if path is None or not path.is_file():
            return False
        path.unlink()
        return True
