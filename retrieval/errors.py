"""kura's one error base. It lives in the lowest layer (retrieval: ingest, llm and app all build on it), so every
layer raises a KuraError and a front end catches one base and shows its message.

Every message says what happened and what to do; `ConfigError` is a setting or file the admin must fix, which
no retry and no other file can get past: a batch stops at it instead of failing every file with it."""

from __future__ import annotations


class KuraError(Exception):
    """Something kura could not do; str(error) is the message to show, with the way out."""


class ConfigError(KuraError):
    """A setting, model folder or configuration file is wrong: nothing works until it is fixed."""


class RetrievalError(KuraError):
    """Finding passages failed: the store, the embedder or the reranker."""
