"""Signing in, the status report, and reading the audit log: the use cases around the others. Sign-ins (and
failed ones) are audited here, so the app's login page only translates."""

from __future__ import annotations

import dataclasses

from app.service.caller import Caller, Via
from app.service.wiring import Wiring
from app.tokens import TokenError, TokenRecord
from app.users import User, make_user
from llm.backends import backend_class, probe_backend
from llm.notes import Note


def _check(probe) -> dict:
    try:
        return {"ok": True, "detail": probe()}
    except Exception as exc:  # a status report must describe every failure, not raise it
        return {"ok": False, "detail": str(exc)}


class Admin(Wiring):
    def sign_in(self, name: str, password: str) -> User | None:
        """A local user by password; None (and an audited failure) when the name or password is wrong."""
        user = self.users.authenticate(name, password)
        self.audit.record(name, "login" if user else "login_failed", via=str(Via.APP), method="password")
        return user

    def signed_in_elsewhere(self, user: User, method: str) -> User:
        """A user who signed in through OIDC: recorded like a local sign-in, and remembered (name, groups) so that
        an admin can create an API token for them."""
        self.audit.record(user.name, "login", via=str(Via.APP), method=method)
        self.users.remember(user, method)
        return user

    def single_user(self) -> User:
        """KURA_SINGLE_USER: the one person on localhost, in every default and admin group."""
        s = self.settings
        return make_user("local", tuple(dict.fromkeys([*s.default_groups, *s.admin_groups])), s.admin_groups)

    def add_user(
        self,
        caller: Caller,
        name: str,
        password: str,
        groups: tuple[str, ...],
        *,
        admin: bool = False,
        language: str | None = None,
    ) -> User:
        """Adds a local user (or replaces one's password and groups); `admin` adds the first admin group."""
        caller.require_admin("manage users")
        if admin:
            groups = tuple(dict.fromkeys([*groups, self.settings.admin_groups[0]]))
        user = self.users.add(name, password, groups, language)
        self.record(caller, "user_added", name=name, groups=list(groups))
        return user

    def remove_user(self, caller: Caller, name: str) -> bool:
        caller.require_admin("manage users")
        removed = self.users.remove(name)
        self.record(caller, "user_removed", name=name, removed=removed)
        return removed

    def create_token(self, caller: Caller, user: str, label: str) -> tuple[str, TokenRecord]:
        """A bearer token for an existing user (shown once) → (token, record)."""
        caller.require_admin("create API tokens")
        if self.users.find(user) is None:
            raise TokenError(f"no app user {user!r}: add them first with `kura users add {user}`")
        token, record = self.tokens.create(user, label)
        self.record(caller, "token_created", for_user=user, token_id=record.id, label=record.label)
        return token, record

    def revoke_token(self, caller: Caller, token_id: str) -> TokenRecord:
        caller.require_admin("revoke API tokens")
        record = self.tokens.revoke(token_id)
        self.record(caller, "token_revoked", for_user=record.user, token_id=record.id, label=record.label)
        return record

    def caller_for_token(self, token: str, via: Via = Via.API) -> Caller | None:
        """Who a bearer token acts as, with their groups as the users file says today; None when it is not valid."""
        record = self.tokens.verify(token)
        user = self.users.find(record.user) if record else None
        if user is None:
            return None
        return Caller(user.name, user.groups, user.admin, via, user.language, token=f"{record.id} {record.label}")

    def rate_limited(self, caller: Caller, request: str) -> None:
        self.record(caller, "rate_limited", request=request)

    def audit_entries(
        self, caller: Caller, limit: int = 500, *, user: str | None = None, action: str | None = None
    ) -> list[dict]:
        """The audit log, newest first (admins). Reading it is itself recorded."""
        caller.require_admin("read the audit log")
        entries = self.audit.read(limit, user=user, action=action)
        self.record(caller, "audit_read", user_filter=user, action_filter=action)
        return entries

    def status(self, caller: Caller | None = None) -> dict:
        """Counts, and whether the store, embedder and model answer. Details (addresses, model files) and the
        settings are for admins (and the CLI's shell user); others see only whether each part works."""
        s = self.settings
        health = {
            "store": _check(lambda: self.store.description),
            "embedder": _check(lambda: f"{self.embedder_label} ({self.embedder.dim} dims)"),
            "llm": _check(lambda: probe_backend(s.llm_backend, s.model)),
        }
        if s.draft_model and backend_class(s.llm_backend).named_models:  # drafts go to their own model
            drafts = dataclasses.replace(s.model, model=s.draft_model)
            health["drafts"] = _check(lambda: probe_backend(s.llm_backend, drafts))
        records = self.manifest.all()
        chunks = self.store.count() if health["store"]["ok"] else None
        recorded = sum(r.chunks for r in records)
        if chunks is not None and chunks != recorded:
            health["index"] = {
                "ok": False,
                "detail": f"the manifest records {recorded} passages but the store holds "
                f"{chunks}: run `kura ingest` on your folders to repair the index",
            }
        others = self.awaiting_reembedding() if health["store"]["ok"] else 0
        if others:
            health["vectors"] = {
                "ok": False,
                "detail": f"re-ingest needed: {Note('awaiting_reembedding', count=others)}",
            }
        if self.upgrade is not None and health["store"]["ok"]:
            health["second_stage"] = _check(self._second_stage_progress)
        admin = caller is None or caller.admin
        return {
            "documents": sum(1 for r in records if r.status == "ingested"),
            "chunks": chunks,
            "collection": s.collection,
            "settings": s.public_dict() if admin else None,
            "uses": self.uses() if admin else None,
            "health": {part: state if admin else {"ok": state["ok"], "detail": ""} for part, state in health.items()},
            "demo_model": self.backend_is_demo(),
        }

    def _second_stage_progress(self) -> str:
        """How far the strong model's vectors are: until complete, the rest keep the first stage's order."""
        if self.upgrade.failed is not None:
            raise self.upgrade.failed
        done, total = self.upgrade.progress()
        label = self.strong_embedder.model_id
        if done >= total:
            return f"{label}: every passage ({total:,}) re-ordered by it"
        return (
            f"{label}: vectors for {done:,} of {total:,} passages ({done / max(total, 1):.0%}), made in the background "
            "while the app runs (or now: `kura upgrade`); the rest keep the first stage's order meanwhile"
        )

    def awaiting_reembedding(self) -> int:
        """Passages another embedder made (KURA_EMBEDDER changed since): search leaves them out until re-ingested."""
        return self.retriever.awaiting_reembedding()

    def backend_is_demo(self) -> bool:
        """Whether the configured model is a small demo model (the pages say answers may be poor)."""
        return backend_class(self.settings.llm_backend).demo
