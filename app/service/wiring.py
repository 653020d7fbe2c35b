"""Wiring: kura's components built from one Settings object, on first use, and shared. Settings-derived values
(default groups, POSIX groups, limits, model settings) are bound here, once; nothing below reads settings."""

from __future__ import annotations

import dataclasses
import os
import shutil
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from app.audit import AuditLog
from app.conversations import ConversationStore
from app.service.caller import Caller
from app.settings import Settings, split_names
from app.tokens import TokenStore
from app.users import UserStore
from llm.backends import BackendName, ChatBackend, Effort, backend_class, build_backend
from retrieval.embedders import EMBEDDERS, EmbedderName
from retrieval.errors import ConfigError

if TYPE_CHECKING:  # built on first use: a command that needs no model, store or parser never imports them
    from ingest import Ingestor, Manifest
    from llm import Answerer
    from llm.draft import Drafter
    from retrieval import Retriever, SparseEncoder, Store
    from retrieval.embedders import Embedder
    from retrieval.evaluate import BeirDataset
    from retrieval.second_stage import SecondStage, StrongEmbedder, Upgrade
    from retrieval.store import VectorsOf


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


class Wiring:
    """The components. close() releases the store and the manifest."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        private_home(settings.home)

    def groups(self, text: str | None) -> tuple[str, ...]:
        """'a, b' → ('a', 'b'); None → the configured default groups."""
        return tuple(self.settings.default_groups) if text is None else tuple(split_names(text))

    @cached_property
    def embedder(self) -> Embedder:
        """The model the store's vectors and every question's come from (KURA_EMBEDDER)."""
        from retrieval.embedders import open_embedder

        s = self.settings
        return open_embedder(
            s.embedder,
            model_path=s.embed_model,
            batch_size=s.embed_batch_size,
            backend=s.embed_backend,
            cache_dir=s.model_cache or s.home / "models",
        )

    @property
    def embedder_label(self) -> str:
        """The embedding model's name as status shows it."""
        s = self.settings
        return s.embed_model.name if s.embed_model else EMBEDDERS[s.embedder].label

    @cached_property
    def claims_embedder(self) -> Embedder:
        """The answer check's model: MiniLM, whose similarities its bars were measured on, whatever searches."""
        s = self.settings
        if EMBEDDERS[s.embedder].multilingual:
            from retrieval.embedders import open_embedder

            return open_embedder(EmbedderName.MINILM, cache_dir=s.model_cache or s.home / "models")
        return self.embedder

    @cached_property
    def across(self) -> Embedder | None:
        """The multilingual model that reads a sentence against a passage in another language (quotes, the claim
        check): the search's own when it is multilingual; e5 beside a second stage, which finds passages across
        languages for an English-only search (None on a CPU e5 cannot run on: those are compared as they are)."""
        from retrieval.e5 import has_avx2
        from retrieval.embedders import open_embedder

        if EMBEDDERS[self.settings.embedder].multilingual:
            return self.embedder
        if self.settings.second_stage_model and has_avx2():
            return open_embedder(EmbedderName.E5_SMALL)
        return None

    @property
    def bars(self) -> tuple[float, float]:
        """(abstain below, context below): the settings' when given, else those measured for the model whose cosine
        a passage's similarity is: the second stage's when it has measured bars, else the embedder's."""
        s, choice = self.settings, EMBEDDERS[self.settings.embedder]
        strong = self.strong_embedder.bars if self.strong_embedder else None
        measured = (
            (strong.abstain_below, strong.context_below) if strong else (choice.abstain_below, choice.context_below)
        )
        return (
            measured[0] if s.abstain_below is None else s.abstain_below,
            measured[1] if s.context_below is None else s.context_below,
        )

    @cached_property
    def sparse(self) -> SparseEncoder:
        from retrieval.embed import SparseEncoder

        return SparseEncoder()

    @cached_property
    def store(self) -> Store:
        from retrieval.store import CollectionLayout, open_store

        s = self.settings
        return open_store(
            path=s.store_path,
            url=s.qdrant_url,
            api_key=s.qdrant_api_key.get_secret_value() if s.qdrant_api_key else None,
            collection=s.collection,
            dim=self.embedder.dim,
            layout=CollectionLayout(s.qdrant_shards, s.qdrant_replication, s.qdrant_write_consistency),
            vectors=self.vectors,
        )

    @property
    def vectors(self) -> VectorsOf:
        """The tag of this embedder's vectors; chunks stored before tags were the default MiniLM's."""
        from retrieval.store import VectorsOf

        default = self.settings.embedder is EmbedderName.MINILM and self.settings.embed_model is None
        return VectorsOf(self.embedder.model_id, untagged=default)

    @cached_property
    def manifest(self) -> Manifest:
        from ingest.manifest import Manifest

        url = self.settings.manifest_url
        return Manifest(url.get_secret_value() if url else self.settings.manifest_path)

    @cached_property
    def ingestor(self) -> Ingestor:
        from ingest.indexing import ChunkingOptions
        from ingest.pipeline import Ingestor
        from ingest.worker import ParseOptions

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
            limits=ParseOptions(s.parse_timeout_s, s.parse_memory_mb, s.max_file_mb, s.ocr_languages),
            posix_groups=s.posix_groups,
            library_roots=tuple(s.library_roots),
            min_free_mb=s.min_free_mb,
            public_groups=tuple(s.default_groups),
        )

    def _retriever_over(self, store: Store, reranker: SecondStage | None) -> Retriever:
        from retrieval.search import Feedback, Retriever

        s = self.settings
        choice = EMBEDDERS[s.embedder]
        return Retriever(
            store,
            self.embedder,
            self.sparse,
            s.search_mode,
            reranker,
            multilingual_embedder=s.embed_multilingual or choice.multilingual,
            feedback=Feedback(weight=choice.feedback_weight),
            same_language_penalty=choice.same_language_penalty,
        )

    @cached_property
    def retriever(self) -> Retriever:
        return self._retriever_over(self.store, self.second_stage(self.store, self.strong_vectors))

    def second_stage(self, index: Store, strong_vectors: Store | None) -> SecondStage | None:
        """The configured second stage over `index`: a cross-encoder, or the strong model's vectors kept in
        `strong_vectors`; None when neither is configured."""
        from retrieval.rerank import Reranker
        from retrieval.second_stage import VectorRescorer

        s = self.settings
        if s.reranker_model and s.second_stage_model:
            raise ConfigError(
                "KURA_RERANKER_MODEL and KURA_SECOND_STAGE_MODEL are both set: the second stage is one model, "
                "unset one of them."
            )
        if s.reranker_model:
            return Reranker(s.reranker_model, s.rerank_candidates)
        if strong_vectors is not None:
            first_stage_bar = EMBEDDERS[s.embedder].abstain_below
            return VectorRescorer(self.strong_embedder, strong_vectors, s.rerank_candidates, first_stage_bar)
        return None

    @cached_property
    def strong_embedder(self) -> StrongEmbedder | None:
        from retrieval.second_stage import StrongEmbedder

        s = self.settings
        return StrongEmbedder(s.second_stage_model) if s.second_stage_model and not s.reranker_model else None

    def _strong_vectors_beside(self, index_path: Path | None) -> Store | None:
        """The store of the strong model's vectors beside an index: a folder beside an embedded one, a collection of
        its own on the Qdrant server; named after the model, so another model never reads them."""
        from retrieval.store import open_store

        model, s = self.strong_embedder, self.settings
        if model is None:
            return None
        if index_path is not None:
            return open_store(
                path=index_path.with_name(f"{index_path.name}-second-stage") / model.model_id, dim=model.dim
            )
        return open_store(
            url=s.qdrant_url,
            api_key=s.qdrant_api_key.get_secret_value() if s.qdrant_api_key else None,
            collection=f"{s.collection}-second-stage-{model.model_id}",
            dim=model.dim,
        )

    @cached_property
    def strong_vectors(self) -> Store | None:
        return self._strong_vectors_beside(None if self.settings.qdrant_url else self.settings.store_path)

    def index_changed(self) -> None:
        """After an ingest or a deletion: a running upgrade makes the new passages' strong vectors now."""
        if self.__dict__.get("upgrade") is not None:
            self.upgrade.wake()

    @cached_property
    def upgrade(self) -> Upgrade | None:
        """Makes the strong model's vectors for every chunk (`kura upgrade`; the app runs it in the background)."""
        from retrieval.second_stage import Upgrade

        if self.strong_vectors is None:
            return None
        return Upgrade(self.strong_embedder, self.store, self.strong_vectors)

    def backend(self, name: BackendName | str | None = None, model: str | None = None) -> ChatBackend:
        """The chat backend by name (default from settings), on `model` when the backend serves models by name;
        built once per name and model; LLMError if it cannot start."""
        name = BackendName(name or self.settings.llm_backend)
        model = model if backend_class(name).named_models else None
        if (name, model) not in self._backends:
            settings = dataclasses.replace(self.settings.model, model=model) if model else self.settings.model
            self._backends[name, model] = build_backend(name, settings)
        return self._backends[name, model]

    @cached_property
    def _backends(self) -> dict[tuple[BackendName, str | None], ChatBackend]:
        return {}

    def uses(self) -> dict[str, str]:
        """Which model each use goes to: questions, and ticket drafts (KURA_DRAFT_MODEL, e.g. a LoRA adapter)."""
        s = self.settings
        cls = backend_class(s.llm_backend)
        model = (
            s.llm_model if cls.named_models else ("quoted passages" if not cls.generative else s.llm_model_path.name)
        )
        drafts = s.draft_model if s.draft_model and cls.named_models else model
        return {"answers": f"{s.llm_backend}: {model}", "drafts": f"{s.llm_backend}: {drafts}"}

    def answerer(self, backend: BackendName | str | None = None, model: str | None = None) -> Answerer:
        from llm.answer import Answerer, AnswerOptions

        s = self.settings
        abstain_below, context_below = self.bars
        options = AnswerOptions(
            top_k=s.top_k,
            abstain_below=abstain_below,
            context_below=context_below,
            max_tokens=s.llm_max_tokens,
            temperature=s.llm_temperature,
            context_tokens=s.llm_context_tokens,
            reasoning_effort=s.llm_reasoning_effort or Effort.LOW,
            unsupported=s.unsupported,
        )
        chat = self.backend(backend, model)
        return Answerer(self.retriever, self.embedder, chat, options, self.claims_embedder, self.across)

    def drafter(
        self,
        backend: BackendName | str | None = None,
        style: Path | None = None,
        tone: str | None = None,
        model: str | None = None,
    ) -> Drafter:
        """Ticket drafting on the same retrieval as answers, on the drafts' model (`model`, else KURA_DRAFT_MODEL,
        else the answers' model); drafts default to medium effort. `tone` overrides the house style's tone for one
        draft (the app's "regenerate in another tone")."""
        from llm.draft import Drafter, HouseStyle

        house_style = HouseStyle.load(style or self.settings.draft_style)
        answerer = self.answerer(backend, model or self.settings.draft_model)
        return Drafter(answerer, dataclasses.replace(house_style, tone=tone) if tone else house_style)

    def eval_retriever(self, dataset: BeirDataset) -> Retriever:
        """The dataset's corpus indexed once into a throwaway embedded store, cached by content, model and chunking."""
        from ingest.documents import ParsedDocument, Section
        from ingest.indexing import ChunkingOptions, Indexer
        from retrieval.evaluate import EVAL_GROUP
        from retrieval.second_stage import Upgrade
        from retrieval.store import open_store

        s = self.settings
        key = f"{dataset.name}-{dataset.fingerprint}-{self.embedder.model_id}-{s.chunk_tokens}-{s.chunk_overlap}"
        folder = s.home / "eval" / key
        complete = folder / "complete"
        if not complete.exists():
            shutil.rmtree(folder, ignore_errors=True)
        store = open_store(path=folder / "qdrant", dim=self.embedder.dim)
        self._eval_stores.append(store)
        if not complete.exists():
            indexer = Indexer(store, self.embedder, self.sparse, ChunkingOptions(s.chunk_tokens, s.chunk_overlap))
            items = [
                (doc_id, doc_id, ParsedDocument(title, [Section(text)]), (EVAL_GROUP,))
                for doc_id, (title, text) in dataset.corpus.items()
            ]
            for start in range(0, len(items), 256):
                indexer.index_documents(items[start : start + 256])
            store.optimize()
            complete.write_text(str(len(items)))
        strong_vectors = self._strong_vectors_beside(folder / "qdrant")
        if strong_vectors is not None:  # measured as it will be once the app's upgrade is complete
            self._eval_stores.append(strong_vectors)
            Upgrade(self.strong_embedder, store, strong_vectors).run_once()
        return self._retriever_over(store, self.second_stage(store, strong_vectors))

    @cached_property
    def _eval_stores(self) -> list[Store]:
        return []

    @cached_property
    def audit(self) -> AuditLog:
        return AuditLog(self.settings.audit_path)

    def record(self, caller: Caller, action: str, **details) -> None:
        """One audit entry for a use case: who, through which front end, and for whom an admin acted."""
        acting = {"by": caller.operator} if caller.operator else {}
        if caller.token:
            acting["token"] = caller.token
        self.audit.record(caller.name, action, via=str(caller.via), **acting, **details)

    @cached_property
    def conversation_store(self) -> ConversationStore:
        return ConversationStore(self.settings.home / "conversations", self.settings.conversation_days)

    @cached_property
    def tokens(self) -> TokenStore:
        return TokenStore(self.settings.home / "tokens.json")

    @cached_property
    def users(self) -> UserStore:
        return UserStore(self.settings.users_path, self.settings.admin_groups)

    @property
    def uploads_dir(self) -> Path:
        return self.settings.home.resolve() / "library"

    @property
    def approved_dir(self) -> Path:
        return self.settings.home.resolve() / "approved-replies"

    @property
    def training_dir(self) -> Path:
        """Approved replies as training records (ticket, passages, reply), and fine-tuning comparisons."""
        return self.settings.home.resolve() / "training"

    def close(self) -> None:
        if self.__dict__.get("upgrade") is not None:
            self.upgrade.stop()
        if self.__dict__.get("strong_vectors") is not None:
            self.strong_vectors.close()
        if "store" in self.__dict__:
            self.store.close()
        if "manifest" in self.__dict__:
            self.manifest.close()
        for store in self.__dict__.get("_eval_stores", []):
            store.close()
