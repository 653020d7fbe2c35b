"""Wiring: builds kura's components from one Settings object. The CLI and the app share this and nothing else."""

from __future__ import annotations

import dataclasses
import difflib
import json
import os
import re
import shutil
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path

from app.audit import AuditLog
from app.settings import Settings, split_names
from app.users import User, UserStore
from ingest import ChunkingOptions, Ingestor, Manifest, ParsedDocument, Section
from ingest.worker import ParseLimits
from llm import Answerer, AnswerOptions, ChatBackend, LocalLlamaBackend, OpenAIBackend
from llm.draft import Draft, Drafter, HouseStyle, Ticket, approved_reply_document
from llm.evaluate import evaluate_qa, load_gold
from retrieval import AccessScope, DenseEmbedder, Retriever, SparseEncoder, Store, open_store
from retrieval.evaluate import EVAL_GROUP, BeirDataset
from retrieval.rerank import Reranker
from retrieval.store import CollectionLayout


def parse_groups(value: str | None, default: list[str]) -> tuple[str, ...]:
    """'a, b' → ('a', 'b'); None → the configured default groups."""
    if value is None:
        return tuple(default)
    return tuple(split_names(value))


def private_home(home: Path) -> None:
    """KURA_HOME holds the index, manifest, users, audit log and approved replies: only kura's own user may read
    it. Everything this process creates from now on is 0700/0600 (umask), and a home that others could read is
    closed once, files included."""
    os.umask(0o077)
    home.mkdir(parents=True, exist_ok=True)
    if home.stat().st_mode & 0o077:
        for path in [home, *home.rglob("*")]:
            if not path.is_symlink():
                path.chmod(path.stat().st_mode & ~0o077)


class Kura:
    """The assembled product. Components are built on first use and shared; close() releases the store."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        private_home(settings.home)

    @cached_property
    def embedder(self) -> DenseEmbedder:
        s = self.settings
        return DenseEmbedder(s.embed_model, s.embed_batch_size, s.embed_backend, s.home / "models")

    @cached_property
    def sparse(self) -> SparseEncoder:
        return SparseEncoder()

    @cached_property
    def store(self) -> Store:
        s = self.settings
        return open_store(
            path=s.store_path,
            url=s.qdrant_url,
            api_key=s.qdrant_api_key.get_secret_value() if s.qdrant_api_key else None,
            collection=s.collection,
            dim=self.embedder.dim,
            layout=CollectionLayout(s.qdrant_shards, s.qdrant_replication, s.qdrant_write_consistency),
        )

    @cached_property
    def manifest(self) -> Manifest:
        url = self.settings.manifest_url
        return Manifest(url.get_secret_value() if url else self.settings.manifest_path)

    @cached_property
    def ingestor(self) -> Ingestor:
        s = self.settings
        return Ingestor(
            store=self.store,
            embedder=self.embedder,
            sparse=self.sparse,
            manifest=self.manifest,
            options=ChunkingOptions(s.chunk_tokens, s.chunk_overlap, s.max_chunks_per_file),
            state_dir=s.home,
            state_allowed=(self.uploads_dir, self.approved_dir),
            parse_workers=s.parse_workers,
            limits=ParseLimits(s.parse_timeout_s, s.parse_memory_mb, s.max_file_mb),
            posix_groups=s.posix_groups,
            library_roots=tuple(s.library_roots),
            min_free_mb=s.min_free_mb,
            public_groups=tuple(s.default_groups),
        )

    @cached_property
    def retriever(self) -> Retriever:
        return Retriever(
            self.store,
            self.embedder,
            self.sparse,
            self.settings.search_mode,
            self.reranker,
            multilingual_embedder=self.settings.embed_multilingual,
        )

    @cached_property
    def reranker(self) -> Reranker | None:
        s = self.settings
        return Reranker(s.reranker_model, s.rerank_candidates) if s.reranker_model else None

    def backend(self, name: str | None = None) -> ChatBackend | None:
        """The chat backend by name (default from settings); None means extractive. Built once per name."""
        name = name or self.settings.llm_backend
        if name not in self._backends:
            s = self.settings
            if name == "extractive":
                self._backends[name] = None
            elif name == "local":
                self._backends[name] = LocalLlamaBackend(s.llm_model_path, s.llm_context_tokens)
            elif name == "openai":
                self._backends[name] = OpenAIBackend(
                    s.llm_base_url, s.llm_model, s.llm_api_key.get_secret_value(), s.llm_timeout_s
                )
            else:
                raise ValueError(f"unknown backend {name!r}: use extractive, local or openai")
        return self._backends[name]

    @cached_property
    def _backends(self) -> dict[str, ChatBackend | None]:
        return {}

    def answerer(self, backend: str | None = None) -> Answerer:
        s = self.settings
        options = AnswerOptions(
            top_k=s.top_k,
            abstain_below=s.abstain_below,
            context_below=s.context_below,
            max_tokens=s.llm_max_tokens,
            temperature=s.llm_temperature,
            context_tokens=s.llm_context_tokens,
            reasoning_effort=s.llm_reasoning_effort or "low",
            unsupported=s.unsupported,
        )
        return Answerer(self.retriever, self.embedder, self.backend(backend), options)

    def drafter(self, backend: str | None = None, style: Path | None = None, tone: str | None = None) -> Drafter:
        """Ticket drafting on the same retrieval and model as answers; drafts default to medium effort.
        `tone` overrides the house style's tone for one draft (the app's "regenerate in another tone")."""
        house_style = HouseStyle.load(style or self.settings.draft_style)
        return Drafter(self.answerer(backend), dataclasses.replace(house_style, tone=tone) if tone else house_style)

    def eval_retriever(self, dataset: BeirDataset) -> Retriever:
        """The dataset's corpus indexed once into a throwaway embedded store, cached by content, model and chunking."""
        s = self.settings
        key = f"{dataset.name}-{dataset.fingerprint}-{self.embedder.model_id}-{s.chunk_tokens}-{s.chunk_overlap}"
        folder = s.home / "eval" / key
        complete = folder / "complete"
        if not complete.exists():
            shutil.rmtree(folder, ignore_errors=True)
        store = open_store(path=folder / "qdrant", dim=self.embedder.dim)
        self._eval_stores.append(store)
        if not complete.exists():
            ingestor = Ingestor(
                store=store,
                embedder=self.embedder,
                sparse=self.sparse,
                manifest=None,
                options=ChunkingOptions(s.chunk_tokens, s.chunk_overlap),
            )
            items = [
                (doc_id, doc_id, ParsedDocument(title, [Section(text)]), (EVAL_GROUP,))
                for doc_id, (title, text) in dataset.corpus.items()
            ]
            for start in range(0, len(items), 256):
                ingestor.index_documents(items[start : start + 256])
            store.optimize()
            complete.write_text(str(len(items)))
        return Retriever(
            store, self.embedder, self.sparse, s.search_mode, self.reranker, multilingual_embedder=s.embed_multilingual
        )

    @cached_property
    def _eval_stores(self) -> list[Store]:
        return []

    @cached_property
    def audit(self) -> AuditLog:
        return AuditLog(self.settings.audit_path)

    @cached_property
    def users(self) -> UserStore:
        return UserStore(self.settings.users_path, self.settings.admin_groups)

    @property
    def uploads_dir(self) -> Path:
        return self.settings.home.resolve() / "library"

    @property
    def approved_dir(self) -> Path:
        return self.settings.home.resolve() / "approved-replies"

    def source_file(self, source: str, scope: AccessScope) -> Path:
        """The original file behind a citation, only if the caller may read at least one of its chunks:
        knowing a path or id is not enough to download a document."""
        if self.store.count(dataclasses.replace(scope, sources=(source,))) == 0:
            raise PermissionError("This document does not exist or you may not read it.")
        path = Path(source)
        if not path.is_file():
            raise FileNotFoundError(f"The original file is no longer at {source}; ask an admin to re-sync.")
        return path

    def approve_reply(self, ticket: Ticket, draft: Draft, reply: str, approver: User) -> tuple[Path, tuple[str, ...]]:
        """Stores an approved reply and audits it with the approver and their edits (a diff against the draft).
        It becomes knowledge only when approved by a reviewer (KURA_REVIEWER_GROUPS) with KURA_INGEST_APPROVED_REPLIES
        on, and only for the groups that may read every passage the draft was built from (none: stored, not
        ingested). → (file, groups it was ingested for)."""
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S-%f")
        slug = re.sub(r"[^\w]+", "-", ticket.subject.lower()).strip("-")[:60] or "ticket"
        path = self.approved_dir / f"{stamp}-{slug}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(approved_reply_document(ticket, reply), encoding="utf-8")
        groups = draft.readable_by() if self.settings.ingest_approved_replies and self.is_reviewer(approver) else ()
        if groups:
            self.ingestor.ingest([path], groups=groups, delete_missing=False)
        edits = "".join(
            difflib.unified_diff(
                draft.reply.splitlines(keepends=True), reply.splitlines(keepends=True), "draft", "approved"
            )
        )
        self.audit.record(
            approver.name,
            "approve",
            subject=ticket.subject,
            file=str(path),
            groups=list(groups),
            reviewer=self.is_reviewer(approver),
            edited=bool(edits),
            diff=edits,
            chunk_ids=[h.chunk.chunk_id for h in draft.passages],
        )
        return path, groups

    def is_reviewer(self, person: User) -> bool:
        """May approve replies into shared knowledge."""
        return bool(set(person.groups) & set(self.settings.reviewers))

    def eval_qa(
        self, gold: Path, scope: AccessScope, k: int = 5, backend: str | None = None
    ) -> tuple[dict, dict | None]:
        """Runs a gold-question file and records the run → (this run, the previous run of the same file or None)."""
        summary = evaluate_qa(self.answerer(backend), load_gold(gold), scope, k)
        summary.update(at=datetime.now(UTC).isoformat(timespec="seconds"), gold=Path(gold).name)
        history = self.settings.home / "eval-qa.jsonl"
        previous = None
        if history.is_file():
            runs = [json.loads(line) for line in history.read_text(encoding="utf-8").splitlines() if line]
            previous = next((run for run in reversed(runs) if run["gold"] == summary["gold"]), None)
        history.parent.mkdir(parents=True, exist_ok=True)
        with history.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(summary, ensure_ascii=False) + "\n")
        return summary, previous

    def scope(self, groups: str | None = None, sources: list[Path] | None = None) -> AccessScope:
        """The caller's access scope; sources (files) narrow it further, never widen it."""
        paths = tuple(str(Path(p).expanduser().resolve()) for p in sources or ())
        return AccessScope(parse_groups(groups, self.settings.default_groups), paths)

    def close(self) -> None:
        if "store" in self.__dict__:
            self.store.close()
        if "manifest" in self.__dict__:
            self.manifest.close()
        for store in self.__dict__.get("_eval_stores", []):
            store.close()
