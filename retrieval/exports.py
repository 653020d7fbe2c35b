"""A package's front door that imports each name on first use (PEP 562), so `kura --help` or reading the settings
never loads the models, Qdrant or torch that some names need. Used by the `retrieval`, `ingest` and `llm` packages."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable


def on_first_use(package: str, where: dict[str, str]) -> Callable[[str], object]:
    """The package's module `__getattr__`: `where` maps each exported name to the module defining it."""

    def attribute(name: str) -> object:
        if name not in where:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(where[name]), name)
        setattr(sys.modules[package], name, value)  # the next use is a plain attribute
        return value

    return attribute
