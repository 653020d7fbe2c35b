"""The one typed Settings object. Read once at the edge (CLI, app) and passed in; nothing below reads env."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, SecretStr
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from llm.backends import BackendName, Effort, ModelSettings
from llm.choices import Unsupported
from retrieval.embedders import EmbedderName
from retrieval.types import EmbedBackend, SearchMode
from retrieval.urls import redacted


def split_names(text: str) -> list[str]:
    """'a, b, a' → ['a', 'b']: the one way kura reads a comma-separated list of group names."""
    return list(dict.fromkeys(name.strip() for name in text.split(",") if name.strip()))


def _names(value: object) -> object:
    """Group lists from the environment: `staff,hr` or JSON `["staff", "hr"]`."""
    if isinstance(value, str):
        text = value.strip()
        return json.loads(text) if text.startswith("[") else split_names(text)
    return value


GroupNames = Annotated[list[str], NoDecode, BeforeValidator(_names)]


def _off(value: object) -> object:
    """`off` (or empty) for an optional model folder: none."""
    return None if isinstance(value, str) and value.strip().lower() in ("", "off", "none") else value


OptionalFolder = Annotated[Path | None, BeforeValidator(_off)]

REPO_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """Every knob kura has, with env prefix KURA_ and an optional .env file."""

    model_config = SettingsConfigDict(env_prefix="KURA_", env_file=".env", extra="ignore")

    home: Path = Field(Path(".kura"), description="All state: embedded Qdrant store, ingest manifest, logs.")
    model_cache: Path | None = Field(
        None, description="Graphs derived from the models (ONNX, built once); default: home/models. Homes may share it."
    )

    # Vector store: embedded Qdrant Edge unless a server URL is given.
    qdrant_url: str | None = None
    qdrant_api_key: SecretStr | None = None
    collection: str = "kura"
    manifest_url: SecretStr | None = Field(
        None, description="postgresql://… to share the ingest manifest between workers; default: SQLite in home."
    )

    # Only used when kura creates the collection on a Qdrant server (cluster: shards spread over nodes, each
    # shard kept on `replication` nodes; a write is acknowledged once `write_consistency` replicas have it).
    qdrant_shards: int = 1
    qdrant_replication: int = 1
    qdrant_write_consistency: int = 1

    # Embedding model: MiniLM (English, fast) or multilingual-e5-small (finds answers across languages).
    embedder: EmbedderName = Field(
        EmbedderName.MINILM,
        description="minilm (English, fastest) or multilingual-e5-small (Japanese and English, across "
        "languages; ~2.5x slower to ingest). After a switch, run `kura ingest` to re-embed (kura status says so).",
    )
    embed_model: Path | None = Field(None, description="minilm only: another local sentence-transformers folder.")
    embed_batch_size: int = 64
    embed_backend: EmbedBackend = Field(
        "torch",
        description="onnx-int8: the same model quantised to int8 on ONNX "
        "Runtime, ~1.4× faster on CPU at −0.003 nDCG@10 (msmarco); re-ingest after "
        "switching, vectors differ slightly.",
    )
    embed_multilingual: bool = Field(
        False,
        description="The embedding model understands Japanese (e.g. bge-m3): "
        "Japanese questions then use hybrid search, not BM25 alone.",
    )

    # Parsing: each file in its own process, with limits, so one hostile file cannot hang or sink a batch.
    parse_workers: int = Field(2, description="Files parsed at once while earlier ones are embedded.")
    parse_timeout_s: float = 120.0
    ocr_languages: str = Field(
        "eng+jpn",
        description="Tesseract languages for scanned pages and images, joined by '+' (jpn_vert for vertical "
        "Japanese); each needs its tesseract-ocr-<language> package.",
    )
    parse_memory_mb: int = 2048
    max_file_mb: int = 512
    max_chunks_per_file: int = Field(5000, description="A file that would make more passages fails with a reason.")
    min_free_mb: int = Field(200, description="Ingest stops with a clear error when the disk of home has less free.")
    library_roots: Annotated[list[Path], NoDecode, BeforeValidator(_names)] = Field(
        [],
        description="Library root folders (comma-separated): .kura-acl files are searched up to the root "
        "holding a file, whatever path is ingested. Folders ingested before count as roots too.",
    )

    # Chunking (tokens of the embedding model's tokenizer).
    chunk_tokens: int = 200
    chunk_overlap: int = 40

    # An optional second stage re-orders the filtered candidates: a cross-encoder (a local sentence-transformers
    # CrossEncoder folder), or a stronger embedding model whose vectors the app makes in the background
    # (`make gemma`: EmbeddingGemma-300m). One at a time.
    reranker_model: Path | None = None
    second_stage_model: OptionalFolder = Field(
        None,
        description="A sentence-transformers embedding folder (make gemma: models/embeddinggemma-300m; `make run` "
        "uses it unless this is `off`).",
    )
    rerank_candidates: int = 30

    # Search and answers.
    search_mode: SearchMode = Field(
        "hybrid", description="hybrid (rrf candidates re-ranked by feedback), rrf, dense or sparse."
    )
    top_k: int = 5
    abstain_below: float | None = Field(
        None, description="Best cosine similarity under which an answer abstains (default: the embedder's bar)."
    )
    context_below: float | None = Field(
        None, description="Passages under this cosine similarity are not shown to the model (default: the embedder's)."
    )
    default_groups: GroupNames = ["everyone"]
    posix_groups: bool = Field(False, description="Files without a .kura-acl get their POSIX group as access group.")

    llm_backend: BackendName = BackendName.LOCAL
    llm_model_path: Path = Field(
        REPO_ROOT / "models" / "Qwen2.5-Coder-1.5B-Instruct.Q4_K_M.gguf",
        description="GGUF for the local backend. The default gets 3× more facts right than SmolLM2-135M "
        "(models/SmolLM2-135M-Instruct.Q4_1.gguf: faster, for small machines); docs/benchmarks.md.",
    )
    llm_base_url: str = "http://localhost:8000/v1"
    llm_model: str = "gpt-oss-20b"
    draft_model: str | None = Field(
        None,
        description="Ticket drafts use this model name on the openai backend (e.g. kura-support, a LoRA adapter "
        "served by vLLM); questions keep KURA_LLM_MODEL.",
    )
    llm_api_key: SecretStr = SecretStr("not-needed")
    llm_timeout_s: float = 120.0
    llm_max_tokens: int = 512
    llm_context_tokens: int = 4096
    llm_temperature: float = 0.1
    llm_reasoning_effort: Effort | None = Field(
        None, description="gpt-oss reasoning effort for every request; unset = low for answers, medium for drafts."
    )
    unsupported: Unsupported = Field(
        Unsupported.FLAG,
        description="Sentences of a generated answer that the passages do not support: flag them, or drop them.",
    )
    draft_style: Path | None = Field(
        None, description="House-style TOML for ticket drafts (docs/house-style.example.toml)."
    )
    show_reasoning: bool = Field(False, description="Admins only: include the model's reasoning (collapsed).")

    # Users of the app. OIDC (st.login) is on when .streamlit/secrets.toml has an [auth] section; otherwise
    # people sign in against the local users file. Single-user mode (no login) must be asked for explicitly.
    single_user: bool = Field(False, description="No login: one local user with default_groups, admin. Localhost only.")
    users_file: Path | None = Field(None, description="Local users (bcrypt hashes); default: home/users.json.")
    admin_groups: GroupNames = Field(["kura-admins"], description="Members of these groups may change the library.")
    reviewer_groups: GroupNames | None = Field(
        None, description="Members may approve ticket replies into shared knowledge; default: the admin groups."
    )
    oidc_groups_claim: str = Field("groups", description="The ID-token claim that lists a user's groups.")
    ui_language: Literal["auto", "en", "ja"] = Field("auto", description="auto: follow the browser.")

    # Uploads and abuse limits in the app.
    upload_max_mb: int = 50
    upload_max_unpacked_mb: int = Field(
        200, description="DOCX/PPTX/XLSX/ODT/EPUB are zip files: cap what they unpack to."
    )
    conversation_days: int = Field(
        90, description="Conversations not used for this many days are deleted (0 keeps them until the user does)."
    )
    rate_limit_per_minute: int = Field(20, description="Questions and drafts per user per minute in the app.")
    api_max_body_kb: int = Field(256, description="The largest request body `kura serve` accepts (413 beyond it).")
    api_cors_origins: GroupNames = Field(
        [], description="Web origins allowed to call `kura serve` from a browser (none by default: no CORS headers)."
    )
    ingest_approved_replies: bool = Field(
        True, description="Approved ticket replies become knowledge for their groups."
    )

    @property
    def reviewers(self) -> list[str]:
        return self.admin_groups if self.reviewer_groups is None else self.reviewer_groups

    @property
    def store_path(self) -> Path:
        return self.home / "qdrant"

    @property
    def manifest_path(self) -> Path:
        return self.home / "manifest.sqlite3"

    @property
    def users_path(self) -> Path:
        return self.users_file or self.home / "users.json"

    @property
    def audit_path(self) -> Path:
        return self.home / "audit.jsonl"

    @property
    def model(self) -> ModelSettings:
        """What the chat backends need, bound once."""
        return ModelSettings(
            self.llm_model_path,
            self.llm_context_tokens,
            self.llm_base_url,
            self.llm_model,
            self.llm_api_key.get_secret_value(),
            self.llm_timeout_s,
        )

    def public_dict(self) -> dict:
        """Settings as JSON-ready data with secrets masked, for `kura status` and logs."""
        data = self.model_dump(mode="json")
        for key, value in data.items():
            if isinstance(getattr(self, key), SecretStr) and value:
                data[key] = "**********"
            elif key.endswith("_url"):
                data[key] = redacted(value)
        return data
