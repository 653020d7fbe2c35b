"""A stronger second stage without a cross-encoder: a larger embedding model (EmbeddingGemma-300m, assembled by
`make gemma`) re-orders the first stage's candidates by its cosine to the question (KURA_SECOND_STAGE_MODEL).

Embedding 30 passages with it while a user waits costs seconds on 2 cores, and indexing a corpus with it takes a
twelfth of MiniLM's time rate, so its passage vectors are made ahead, in the background (`Upgrade`), and kept in a
store of their own keyed by chunk id: any existing index gains them without re-ingesting, and a question only embeds
itself. Search never waits for the upgrade: a candidate without a vector yet keeps its first-stage place, so search
is as good as before at once and better as the upgrade completes (progress in `kura status`).

Candidates come from the caller's scoped search and the vectors store holds no text: re-scoring never widens what
a caller can see. docs/benchmarks.md ("The second stage") has the measurements behind the combination."""

from __future__ import annotations

import dataclasses
import threading
from functools import cached_property
from pathlib import Path
from typing import Protocol

import numpy as np

from retrieval.errors import ConfigError
from retrieval.store import Store
from retrieval.types import SearchHit, embedding_text, text_key


class SecondStage(Protocol):
    """What search needs of a second stage (a cross-encoder, retrieval/rerank.py, or VectorRescorer below)."""

    candidates: int  # how many of the first stage's hits it reads

    def rerank(self, query: str, hits: list[SearchHit], k: int) -> list[SearchHit]: ...


class StrongEmbedder:
    """A sentence-transformers model folder, used with its own query and document prompts when it has them."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        if not (self.folder / "modules.json").exists():
            raise ConfigError(
                f"No sentence-transformers model at {self.folder} (KURA_SECOND_STAGE_MODEL). Run `make gemma` to "
                "assemble EmbeddingGemma-300m into models/embeddinggemma-300m, or unset KURA_SECOND_STAGE_MODEL."
            )
        self.model_id = self.folder.name
        self.label = self.folder.name

    @cached_property
    def model(self):
        from sentence_transformers import SentenceTransformer

        return SentenceTransformer(str(self.folder), device="cpu", local_files_only=True)

    @cached_property
    def dim(self) -> int:
        return int(self.model.get_embedding_dimension())

    def key(self, text: str) -> str:
        return text_key(self.model_id, text)

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        prompt = "document" if "document" in self.model.prompts else None
        return self.model.encode(texts, prompt_name=prompt, batch_size=8, normalize_embeddings=True)

    def embed_query(self, text: str) -> np.ndarray:
        prompt = "query" if "query" in self.model.prompts else None
        return self.model.encode([text], prompt_name=prompt, normalize_embeddings=True)[0]


class VectorRescorer:
    """The second stage: the first `candidates` hits re-ordered by the strong model's cosine to the question, each
    hit with a vector moving only among the places such hits held; `score` becomes that cosine, `similarity` (the
    first stage's, which abstention's bars were measured on) is kept."""

    def __init__(self, model: StrongEmbedder, vectors: Store, candidates: int = 30) -> None:
        self.model = model
        self.vectors = vectors
        self.candidates = candidates

    def rerank(self, query: str, hits: list[SearchHit], k: int) -> list[SearchHit]:
        head = hits[: self.candidates]
        kept = self.vectors.keyed_vectors([hit.chunk.chunk_id for hit in head])
        strong: dict[int, float] = {}
        question = None
        for place, hit in enumerate(head):
            vector, key = kept.get(hit.chunk.chunk_id, (None, ""))
            if vector is not None and key == self.model.key(embedding_text(hit.chunk)):  # not a stale vector
                question = self.model.embed_query(query) if question is None else question
                strong[place] = float(vector @ question)
        places = sorted(strong)
        order = sorted(places, key=lambda place: -strong[place])
        ranked = list(head)
        for place, moved in zip(places, order):
            ranked[place] = dataclasses.replace(head[moved], score=strong[moved])
        return (ranked + hits[self.candidates :])[:k]


class Upgrade:
    """Gives every chunk of `index` its strong vector in `vectors`, a batch at a time, and forgets the vectors of
    chunks that are gone. `run_once()` is one pass (`kura upgrade`); `start()` keeps passing in the background
    (the app), after each `wake()` (an ingest) or every `period_s`."""

    def __init__(self, model: StrongEmbedder, index: Store, vectors: Store, batch: int = 16, period_s: float = 600):
        self.model, self.index, self.vectors = model, index, vectors
        self.batch, self.period_s = batch, period_s
        self.failed: Exception | None = None  # the error that stopped the last pass, for status
        self._passing = threading.Lock()  # one pass at a time, whoever asks
        self._woken = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def progress(self) -> tuple[int, int]:
        """(chunks with a strong vector, chunks in the index), as far as counts tell between passes."""
        total = self.index.count()
        return min(self.vectors.count(), total), total

    def run_once(self) -> int:
        """One pass over the whole index; returns how many vectors were made."""
        with self._passing:
            made, after = 0, None
            while not self._stopping.is_set():
                chunks, after = self.index.every_chunk(after, limit=self.batch)
                kept = self.vectors.keyed_vectors([c.chunk_id for c in chunks])
                texts = {c.chunk_id: embedding_text(c) for c in chunks}
                todo = {i: t for i, t in texts.items() if kept.get(i, (None, ""))[1] != self.model.key(t)}
                if todo:
                    vectors = self.model.embed_documents(list(todo.values()))
                    self.vectors.keep_vectors(
                        {i: (v, self.model.key(t)) for (i, t), v in zip(todo.items(), vectors, strict=True)}
                    )
                    made += len(todo)
                if after is None:
                    break
            self._forget_gone()
            return made

    def _forget_gone(self) -> None:
        after = None
        while not self._stopping.is_set():
            ids, after = self.vectors.every_id(after)
            present = set(self.index.keyed_vectors(ids)) if ids else set()
            self.vectors.forget([i for i in ids if i not in present])
            if after is None:
                return

    def start(self) -> Upgrade:
        self._thread = threading.Thread(target=self._run, name="kura-second-stage", daemon=True)
        self._thread.start()
        return self

    def wake(self) -> None:
        self._woken.set()

    def stop(self) -> None:
        self._stopping.set()
        self._woken.set()
        if self._thread is not None:
            self._thread.join()

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                self.run_once()
                self.failed = None
            except Exception as exc:  # kept for status; the next wake or period tries again
                self.failed = exc
            self._woken.wait(self.period_s)
            self._woken.clear()
