"""qdrant-client's request models (`models.Filter`, `models.QueryRequest`…), imported on first use. Importing
qdrant-client takes ~0.7 s; a command that opens the embedded store without searching (`kura status`) does not pay
it, and neither does the Edge engine until a filter or query is built."""

from __future__ import annotations

import importlib
from typing import Any


class _Models:
    def __getattr__(self, name: str) -> Any:
        return getattr(importlib.import_module("qdrant_client.models"), name)


models = _Models()
