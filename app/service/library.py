"""The use cases that change the library: ingest folders (CLI), upload files, re-sync a folder, delete a document
(app, admins). Each writes its audit entry with the caller and the report; uploads are checked before a byte is
kept, and deleting an uploaded document deletes the uploaded file with it."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from app.guards import UploadRejected, check_upload
from app.service.caller import Caller
from app.service.wiring import Wiring
from app.settings import REPO_ROOT
from ingest.report import IngestReport, ProgressCallback
from retrieval.errors import ConfigError

if TYPE_CHECKING:
    from ingest.manifest import DocumentRecord


@dataclass
class Upload:
    """What became of an upload: the files refused (each with the reason's i18n key) and the ingest report."""

    rejected: list[UploadRejected] = field(default_factory=list)
    report: IngestReport | None = None


SAMPLES = REPO_ROOT / "samples"


class Library(Wiring):
    def ingest(
        self,
        caller: Caller,
        paths: Sequence[Path],
        *,
        groups: tuple[str, ...] | None = None,
        delete_missing: bool = True,
        allow_widening: bool = False,
        progress: ProgressCallback | None = None,
    ) -> IngestReport:
        """Files and folders into the index (`kura ingest`, `kura watch`); groups default to KURA_DEFAULT_GROUPS."""
        groups = tuple(self.settings.default_groups) if groups is None else groups
        report = self.ingestor.ingest(
            paths, groups=groups, delete_missing=delete_missing, progress=progress, allow_widening=allow_widening
        )
        self.index_changed()
        self.embedder.prepare_queries()  # torch is loaded now if anything was embedded: the next search never loads it
        self.record(
            caller,
            "ingest",
            paths=[str(p) for p in paths],
            groups=list(groups),
            allow_widening=allow_widening,
            report=report.to_json(),
        )
        return report

    def upload(
        self,
        caller: Caller,
        files: Sequence[tuple[str, bytes]],
        groups: tuple[str, ...],
        progress: ProgressCallback | None = None,
    ) -> Upload:
        """Uploaded files (name, bytes) kept under KURA_HOME/library and ingested for `groups`; the uploader may
        read them too. A file refused by the upload checks is reported and audited; the others go on."""
        caller.require_admin("upload documents")
        result, accepted = Upload(), []
        s = self.settings
        for name, data in files:
            try:
                safe = check_upload(name, data, max_mb=s.upload_max_mb, max_unpacked_mb=s.upload_max_unpacked_mb)
            except UploadRejected as rejected:
                result.rejected.append(rejected)
                self.record(caller, "upload_rejected", name=name, reason=rejected.key)
                continue
            target = self.uploads_dir / safe
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
            accepted.append(target)
        if accepted:
            result.report = self.ingestor.ingest(
                accepted,
                groups=groups,
                delete_missing=False,
                progress=progress,
                owner=caller.name,
                reader=caller.groups,
            )
            self.index_changed()
            self.record(
                caller,
                "upload",
                files=[str(p) for p in accepted],
                groups=list(groups),
                report=result.report.to_json(),
            )
        return result

    def resync(
        self,
        caller: Caller,
        folder: Path,
        groups: tuple[str, ...],
        *,
        allow_widening: bool = False,
        progress: ProgressCallback | None = None,
    ) -> IngestReport:
        """A server folder brought in line with the index. Documents the caller cannot read are skipped, never
        deleted; wider groups need allow_widening."""
        caller.require_admin("re-sync folders")
        folder = Path(folder).expanduser()
        if not folder.is_dir():
            raise FileNotFoundError(f"{folder} is not a folder on the server")
        report = self.ingestor.ingest(
            [folder],
            groups=groups,
            delete_missing=True,
            progress=progress,
            allow_widening=allow_widening,
            reader=caller.groups,
        )
        self.index_changed()
        self.record(
            caller,
            "resync",
            folder=str(folder.resolve()),
            groups=list(groups),
            allow_widening=allow_widening,
            report=report.to_json(),
        )
        return report

    def upgrade_index(self, caller: Caller) -> tuple[int, int, int]:
        """The second stage's vectors (KURA_SECOND_STAGE_MODEL) for every passage now, instead of in the app's
        background → (vectors made, passages with one, passages)."""
        caller.require_admin("upgrade the index")
        if self.upgrade is None:
            raise ConfigError(
                "No second stage to make vectors for: set KURA_SECOND_STAGE_MODEL (e.g. models/embeddinggemma-300m, "
                "assembled by `make gemma`)."
            )
        made = self.upgrade.run_once()
        done, total = self.upgrade.progress()
        self.record(caller, "upgrade", model=self.strong_embedder.model_id, made=made, done=done, total=total)
        return made, done, total

    def welcome(self) -> Library:
        """A first run shows something to ask about: the samples, for the default groups."""
        if not self.manifest.all() and SAMPLES.is_dir():
            self.ingest(Caller("kura", (), admin=True), [SAMPLES], delete_missing=False)
        return self

    def shown_paths(self, paths: Iterable[str]) -> dict[str, str]:
        """Documents' paths as people see them: relative to their library root (uploads under "uploads/"), never
        the server's full path. The roots are read once for the whole list."""
        roots = [*map(Path, self.settings.library_roots), *map(Path, self.manifest.roots())]
        candidates = [(Path("uploads"), self.uploads_dir), (Path("approved-replies"), self.approved_dir)]
        candidates += [(Path(root.name), root) for root in roots]
        candidates.sort(key=lambda pair: len(pair[1].parts), reverse=True)  # the innermost root wins

        def shown(path: str) -> str:
            for label, root in candidates:
                if Path(path).is_relative_to(root):
                    return str(label / Path(path).relative_to(root))
            return Path(path).name

        return {path: shown(path) for path in paths}

    def readable_documents(self, caller: Caller) -> list[DocumentRecord]:
        """The ingested documents any of the caller's groups may read (an API client's view of the library)."""
        readable = [r for r in self.manifest.all() if r.status == "ingested" and set(r.groups) & set(caller.groups)]
        self.record(caller, "documents_listed", count=len(readable))
        return readable

    def documents(self, caller: Caller) -> list[DocumentRecord]:
        caller.require_admin("list the library")
        return self.manifest.all()

    def delete_document(self, caller: Caller, doc_id: str) -> DocumentRecord | None:
        """Out of the index, and an uploaded original out of KURA_HOME; a file in a synced folder stays there (the
        next re-sync would bring it back unless it is removed from the folder). → the record, or None if unknown."""
        caller.require_admin("delete documents")
        record = self.manifest.get(doc_id)
        if record is None:
            return None
        self.ingestor.delete(doc_id)
        self.index_changed()
        if Path(record.path).is_relative_to(self.uploads_dir):
            Path(record.path).unlink(missing_ok=True)
        self.record(caller, "delete", file=record.path, doc_id=doc_id)
        return record
