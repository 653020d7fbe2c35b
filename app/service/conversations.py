"""A user's conversations: listed, reopened, renamed and deleted by their owner only. Reopened under today's
access rules: an answer citing a document the user can no longer read is hidden, not shown from the past."""

from __future__ import annotations

import dataclasses

from app.conversations import Conversation, Turn
from app.service.caller import Caller
from app.service.wiring import Wiring
from llm.notes import Note


class Conversations(Wiring):
    def conversations(self, caller: Caller) -> list[Conversation]:
        """The caller's own conversations, most recent first (titles only)."""
        return self.conversation_store.list(caller.name)

    def conversation(self, caller: Caller, conversation_id: str) -> Conversation | None:
        """One of the caller's conversations, each turn checked against what the caller may read now."""
        found = self.conversation_store.get(caller.name, conversation_id)
        if found is None:
            return None
        readable: dict[str, bool] = {}
        for index, turn in enumerate(found.turns):
            for source in {c.source for c in turn.citations} - readable.keys():
                scope = dataclasses.replace(caller.scope(), sources=(source,))
                readable[source] = self.store.count(scope) > 0
            if not all(readable[c.source] for c in turn.citations):
                found.turns[index] = Turn(turn.id, turn.question, turn.query, Note("no_longer_readable"),
                                          backend=turn.backend, at=turn.at)  # fmt: skip
        return found

    def rename_conversation(self, caller: Caller, conversation_id: str, title: str) -> bool:
        renamed = self.conversation_store.rename(caller.name, conversation_id, title)
        self.record(caller, "conversation_renamed", conversation=conversation_id, title=title, renamed=renamed)
        return renamed

    def delete_conversation(self, caller: Caller, conversation_id: str) -> bool:
        deleted = self.conversation_store.delete(caller.name, conversation_id)
        self.record(caller, "conversation_deleted", conversation=conversation_id, deleted=deleted)
        return deleted
