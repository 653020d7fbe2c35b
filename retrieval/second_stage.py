"""A stronger second stage without a cross-encoder: a larger embedding model (EmbeddingGemma-300m, assembled by
`make gemma`; KURA_SECOND_STAGE_MODEL, which `make run` sets) re-orders the first stage's candidates by its cosine
to the question, and adds the nearest passages of its own search: a Japanese question finds English passages that
the default English-only first stage cannot.

Embedding 30 passages with it while a user waits costs seconds on 2 cores, and indexing a corpus with it takes a
twelfth of MiniLM's time, so its passage vectors are made ahead, in the background (`Upgrade`), and kept in a
store of their own keyed by chunk id: any existing index gains them without re-ingesting, and a question only embeds
itself. Search never waits for the upgrade: a candidate without a vector yet keeps its first-stage place, so search
is as good as before at once and better as the upgrade completes (progress in `kura status`).

That store holds no text, only vectors, text keys and a copy of each passage's readers, which narrows its own
search; every passage shown is read from the index with the caller's scope, so the stage never widens what a caller
can see. docs/benchmarks.md ("The second stage") has the measurements behind the combination and the bars."""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from collections.abc import Callable
from functools import cached_property
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from retrieval.errors import ConfigError
from retrieval.store import Store
from retrieval.types import AccessScope, Chunk, SearchHit, embedding_text, text_key


@dataclasses.dataclass(frozen=True)
class Bars:
    abstain_below: float
    context_below: float


Fetch = Callable[[list[str]], list[SearchHit]]  # chunk ids → those of them the caller may read, as hits


class SecondStage(Protocol):
    """What search needs of a second stage (a cross-encoder, retrieval/rerank.py, or VectorRescorer below)."""

    candidates: int  # how many of the first stage's hits it reads

    def rerank(self, query: str, hits: list[SearchHit], k: int, scope: AccessScope, fetch: Fetch) -> list[SearchHit]:
        """The k best, re-ordered; `fetch` gives passages of its own finding, as far as `scope` may read them."""


def access(chunk: Chunk) -> dict[str, Any]:
    """A copy of who may read a chunk, kept with its strong vector so that the strong model's own search is
    narrowed to the caller's passages; the index's scoped query still decides (`Fetch`)."""
    return {"doc_id": chunk.doc_id, "source": chunk.source, "groups": list(chunk.groups), "owner": chunk.owner}


# Abstention bars measured on a model's own cosine (bench/abstention.py --second-stage, docs/benchmarks.md): with
# them, a re-ordered passage's similarity is that cosine. Another model re-orders but leaves similarity as it was.
MEASURED_BARS = {"embeddinggemma-300m": Bars(abstain_below=0.35, context_below=0.3)}


class StrongEmbedder:
    """A sentence-transformers model folder, used with its own query and document prompts when it has them.
    Nothing loads until the first text is embedded."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        if not (self.folder / "modules.json").exists():
            raise ConfigError(
                f"No sentence-transformers model at {self.folder} (KURA_SECOND_STAGE_MODEL). Run `make gemma` to "
                "assemble EmbeddingGemma-300m into models/embeddinggemma-300m, or set KURA_SECOND_STAGE_MODEL=off."
            )
        self.model_id = self.folder.name  # also what status calls it
        self.bars = MEASURED_BARS.get(self.model_id)
        self.last_query = 0.0  # time.monotonic() of the last question embedded: the upgrade yields to people
        self._model = None
        self._loading = threading.Lock()  # the upgrade thread and a first question may both ask: load once

    @property
    def model(self):
        from sentence_transformers import SentenceTransformer

        with self._loading:
            if self._model is None:
                self._model = SentenceTransformer(str(self.folder), device="cpu", local_files_only=True)
            return self._model

    def load(self) -> None:
        """Import and load the model now (~30 s on 2 cores, cold), so that the first question does not wait."""
        self.model.encode(["warm-up"], show_progress_bar=False)

    @cached_property
    def dim(self) -> int:
        """From the folder's module configs (the last Dense layer's output, else the pooling's width): the store of
        its vectors opens without loading the model."""
        modules = json.loads((self.folder / "modules.json").read_text())
        for module in reversed(modules):
            config = self.folder / module.get("path", "") / "config.json"
            if module["type"].endswith("Dense") and config.exists():
                return int(json.loads(config.read_text())["out_features"])
            if module["type"].endswith("Pooling") and config.exists():
                return int(json.loads(config.read_text())["word_embedding_dimension"])
        return int(self.model.get_embedding_dimension())

    def key(self, text: str) -> str:
        return text_key(self.model_id, text)

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        prompt = "document" if "document" in self.model.prompts else None
        return self.model.encode(
            texts, prompt_name=prompt, batch_size=8, normalize_embeddings=True, show_progress_bar=False
        )

    def embed_query(self, text: str) -> np.ndarray:
        self.last_query = time.monotonic()
        prompt = "query" if "query" in self.model.prompts else None
        return self.model.encode([text], prompt_name=prompt, normalize_embeddings=True, show_progress_bar=False)[0]


class VectorRescorer:
    """The second stage: the strong model searches its own vectors too (a Japanese question finds English passages
    that the first stage, English-only by default, cannot), and every candidate with a vector is re-ordered by its
    cosine to the question, moving only among the places such candidates held: a passage without one yet keeps its
    first-stage place. A re-ordered hit's `score` becomes that cosine, and so does its `similarity` when the model
    has measured bars (`Bars`); a hit without a vector then has its similarity moved by the first stage's abstention
    bar less the strong model's (`first_stage_bar`), so that one bar reads both while the upgrade runs."""

    def __init__(self, model: StrongEmbedder, vectors: Store, candidates: int = 30, first_stage_bar: float = 0.0):
        self.model = model
        self.vectors = vectors
        self.candidates = candidates
        self.unmoved_shift = first_stage_bar - model.bars.abstain_below if model.bars else 0.0

    def rerank(self, query: str, hits: list[SearchHit], k: int, scope: AccessScope, fetch: Fetch) -> list[SearchHit]:
        question = self.model.embed_query(query)
        head = hits[: self.candidates]
        known = {hit.chunk.chunk_id for hit in head}
        found = [i for i in self.vectors.nearest_ids(question, scope, self.candidates) if i not in known]
        pool = head + (fetch(found) if found else [])  # the index's scoped read: a stale copy of access shows nothing
        kept = self.vectors.kept_vectors([hit.chunk.chunk_id for hit in pool])
        strong: dict[int, float] = {}
        for place, hit in enumerate(pool):
            vector, payload = kept.get(hit.chunk.chunk_id, (None, {}))
            if vector is not None and payload.get("text_key") == self.model.key(embedding_text(hit.chunk)):
                strong[place] = float(vector @ question)  # a stale vector (the passage changed since) is not used
        ranked = [
            hit if place in strong or hit.similarity is None
            else dataclasses.replace(hit, similarity=hit.similarity - self.unmoved_shift)
            for place, hit in enumerate(pool)
        ]  # fmt: skip
        places = sorted(strong)
        for place, moved in zip(places, sorted(places, key=lambda place: -strong[place])):
            similarity = strong[moved] if self.model.bars else pool[moved].similarity
            ranked[place] = dataclasses.replace(pool[moved], score=strong[moved], similarity=similarity)
        return (ranked + hits[self.candidates :])[:k]


class Upgrade:
    """Gives every chunk of `index` its strong vector in `vectors`, a batch at a time, and forgets the vectors of
    chunks that are gone. `run_once()` is one pass (`kura upgrade`); `start()` keeps passing in the background
    (the app), after each `wake()` (an ingest) or every `period_s`. In the background it yields to people: no
    batch starts within `quiet_s` of a question (on 2 cores a batch would slow the answer being written)."""

    def __init__(
        self,
        model: StrongEmbedder,
        index: Store,
        vectors: Store,
        batch: int = 8,
        period_s: float = 600,
        quiet_s: float = 20,
    ):
        self.model, self.index, self.vectors = model, index, vectors
        self.batch, self.period_s, self.quiet_s = batch, period_s, quiet_s
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
                self._wait_for_quiet()
                chunks, after = self.index.every_chunk(after, limit=self.batch)
                made += self._bring_up_to_date(chunks)
                if after is None:
                    break
            self._forget_gone()
            return made

    def _bring_up_to_date(self, chunks: list[Chunk]) -> int:
        """Vectors for the chunks that have none, or one of a text they no longer have; a chunk whose readers
        changed (Library → groups) has its copy of access replaced without embedding it again. → vectors made."""
        kept = self.vectors.kept_payloads([c.chunk_id for c in chunks])
        stale = []
        for chunk in chunks:
            payload = {"text_key": self.model.key(embedding_text(chunk)), **access(chunk)}
            before = kept.get(chunk.chunk_id, {})
            if before.get("text_key") != payload["text_key"]:
                stale.append((chunk, payload))
            elif before != payload:
                self.vectors.set_kept_payload(chunk.chunk_id, payload)
        if stale:
            vectors = self.model.embed_documents([embedding_text(chunk) for chunk, _ in stale])
            self.vectors.keep_vectors({c.chunk_id: (v, p) for (c, p), v in zip(stale, vectors, strict=True)})
        return len(stale)

    def _wait_for_quiet(self) -> None:
        in_background = threading.current_thread() is self._thread  # `kura upgrade` asked for it now: no waiting
        while in_background and not self._stopping.is_set():
            busy_for = self.quiet_s - (time.monotonic() - self.model.last_query)
            if busy_for <= 0:
                return
            self._stopping.wait(busy_for)

    def _forget_gone(self) -> None:
        after = None
        while not self._stopping.is_set():
            ids, after = self.vectors.every_id(after)
            present = self.index.present(ids)
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
        try:
            self.model.load()  # a restarted app with nothing to upgrade still answers its first question at once
        except Exception as exc:  # e.g. a damaged model folder: status says so, search keeps its first stage
            self.failed = exc
        while not self._stopping.is_set():
            try:
                self.run_once()
                self.failed = None
            except Exception as exc:  # kept for status; the next wake or period tries again
                self.failed = exc
            self._woken.wait(self.period_s)
            self._woken.clear()
