"""What an ingest tells the person who ran it: progress while it runs, then a report of every file that did
not simply go in — each failure with its reason, duplicates, documents kept narrower, skipped, or warned about."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class IngestProgress:
    """One snapshot of a running ingest, rendered the same by the CLI's bar and the Library page."""

    files_done: int
    files_total: int
    chunks: int
    failed: int
    current: str  # the file just finished; "" once the batch is over
    elapsed_s: float

    @property
    def files_per_s(self) -> float:
        return self.files_done / self.elapsed_s if self.elapsed_s > 0 else 0.0

    @property
    def chunks_per_s(self) -> float:
        return self.chunks / self.elapsed_s if self.elapsed_s > 0 else 0.0

    @property
    def eta_s(self) -> float | None:
        """Seconds left at the rate so far; None until a file has finished."""
        if not self.files_done:
            return None
        return (self.files_total - self.files_done) * self.elapsed_s / self.files_done

    @property
    def eta_clock(self) -> str:
        """The ETA as h:mm:ss or m:ss, the same in every language; "–" while unknown."""
        if self.eta_s is None:
            return "–"
        minutes, seconds = divmod(round(self.eta_s), 60)
        hours, minutes = divmod(minutes, 60)
        return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


ProgressCallback = Callable[[IngestProgress], None]


@dataclass(frozen=True)
class Failure:
    """A file (or folder) not ingested, and what to do about it."""

    path: str
    error: str


@dataclass(frozen=True)
class Duplicate:
    """Same content as another document at another path: kept (each path has its own groups), reported."""

    path: str
    same_as: str


@dataclass(frozen=True)
class Held:
    """A document whose rules now allow more groups than before: it keeps `groups` until widening is allowed."""

    path: str
    groups: list[str]
    wanted: list[str]


@dataclass(frozen=True)
class Skipped:
    """A document the caller may not read: left as it is."""

    path: str
    reason: str


@dataclass(frozen=True)
class AclWarning:
    """An access-rules file that works but is probably not what was meant (it names no group)."""

    path: str
    warning: str


@dataclass
class IngestReport:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    failed: list[Failure] = field(default_factory=list)
    chunks: int = 0
    reused: int = 0  # chunks whose text some stored chunk already had: its vector was reused, not computed
    regrouped: int = 0  # unchanged documents whose access groups changed (payload updated, not re-embedded)
    repaired: int = 0  # documents the manifest recorded but the store had lost: indexed again
    held: list[Held] = field(default_factory=list)  # wider groups not applied without allow_widening
    skipped: list[Skipped] = field(default_factory=list)  # documents the caller may not read
    warnings: list[AclWarning] = field(default_factory=list)
    duplicates: list[Duplicate] = field(default_factory=list)
    seconds: float = 0.0

    def to_json(self) -> dict:
        return asdict(self)


class ProgressTracker:
    """Counts files done and tells the callback after each one, with the report's numbers so far."""

    def __init__(self, files: int, report: IngestReport, callback: ProgressCallback | None) -> None:
        self.files, self.report, self.callback = files, report, callback
        self.started = time.perf_counter()
        self.done = 0

    def tick(self, path: object | None) -> None:
        """One more file done (None: the run is over)."""
        self.done += path is not None
        if self.callback:
            elapsed = time.perf_counter() - self.started
            self.callback(
                IngestProgress(
                    self.done, self.files, self.report.chunks, len(self.report.failed), str(path or ""), elapsed
                )
            )
