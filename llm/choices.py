"""Choices an admin makes about answers, defined once, in a module light enough for the settings to import."""

from __future__ import annotations

from enum import StrEnum


class Unsupported(StrEnum):
    """What happens to a generated sentence the passages do not support: shown flagged, or removed."""

    FLAG = "flag"
    DROP = "drop"
