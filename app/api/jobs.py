"""Library changes over HTTP run in the background, one at a time, and are polled: an upload or a folder re-sync
can take minutes, longer than any client should hold a request open. A job keeps its live progress (the same
IngestProgress the CLI's bar and the Library page show), then its report or its error. Jobs live as long as the
server; the audit log keeps the lasting record."""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from ingest.report import IngestProgress
from retrieval import KuraError

KEPT = 200  # finished jobs kept for polling; the oldest go first


@dataclass
class Job:
    id: str
    kind: str  # "upload" or "sync"
    user: str
    state: str = "queued"  # queued → running → done | failed
    progress: IngestProgress | None = None
    result: dict | None = None
    error: str | None = None
    started: float = field(default_factory=time.time)

    def to_json(self) -> dict:
        p = self.progress
        return {
            "id": self.id, "kind": self.kind, "state": self.state, "user": self.user, "started": self.started,
            "progress": None if p is None else {"files_done": p.files_done, "files_total": p.files_total,
                                                "chunks": p.chunks, "failed": p.failed, "eta_s": p.eta_s},
            "result": self.result, "error": self.error,
        }  # fmt: skip


class Jobs:
    def __init__(self) -> None:
        self._jobs: dict[str, Job] = {}
        self._guard = threading.Lock()
        self._one_at_a_time = threading.Lock()  # two ingests at once would only compete for the same two cores

    def start(self, kind: str, user: str, work: Callable[[Callable[[IngestProgress], None]], dict]) -> Job:
        """Run work(progress) in the background; its dict is the job's result. → the job, to poll."""
        job = Job(uuid.uuid4().hex[:16], kind, user)
        with self._guard:
            self._jobs[job.id] = job
            finished = [j for j in self._jobs.values() if j.state in ("done", "failed")]
            for old in finished[: max(0, len(finished) - KEPT)]:
                del self._jobs[old.id]

        def progress(now: IngestProgress) -> None:
            job.progress = now

        def run() -> None:
            with self._one_at_a_time:
                job.state = "running"
                try:
                    job.result, job.state = work(progress), "done"
                except (KuraError, OSError) as exc:
                    job.error, job.state = str(exc), "failed"
                except Exception:  # noqa: BLE001 - a job never takes the server down; the log has the trace
                    logging.getLogger("kura.api").exception("job %s failed", job.id)
                    job.error, job.state = "the job failed with an internal error (logged on the server)", "failed"

        threading.Thread(target=run, name=f"kura-job-{job.id}", daemon=True).start()
        return job

    def get(self, job_id: str) -> Job | None:
        return self._jobs.get(job_id)
