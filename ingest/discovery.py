"""Which files an ingest covers, by where they really live.

Paths given on purpose (a folder or file an admin names) are resolved and trusted. Inside a walked folder,
a link is followed only when its target stays inside that folder: a link in a public folder to a board-only
file, to /etc/passwd or to kura's own state would otherwise hand its target the public folder's groups.
Nothing in kura's state folder is ingested except uploads and approved replies. A folder that cannot be read
is reported, never taken for empty (its documents would be deleted), and a name that is not UTF-8 fails that
file alone."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

TEMPORARY_SUFFIXES = (".tmp", ".temp", ".swp", ".swx", ".part", ".crdownload", ".partial", "~")


def is_temporary(path: Path) -> bool:
    """Editors' and browsers' scratch files: Office lock files (~$x.docx), vim swaps, downloads in progress."""
    name = path.name.lower()
    return name.startswith(("~$", ".~lock", "#")) or name.endswith(TEMPORARY_SUFFIXES)


def printable(path: Path | str) -> str:
    """A path for a report: bytes that are not UTF-8 shown as \\xNN instead of breaking the report."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def _valid_name(path: Path) -> bool:
    try:
        str(path).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


@dataclass
class Discovery:
    files: dict[Path, Path] = field(default_factory=dict)  # real path → the root it was found under
    folders: list[Path] = field(default_factory=list)  # folders walked (their vanished documents may be deleted)
    unreadable: list[Path] = field(default_factory=list)  # folders that could not be listed: documents kept
    refused: list[dict] = field(default_factory=list)  # {"path", "error"}: not ingested, and why
    missing: list[Path] = field(default_factory=list)


class Discoverer:
    """`state_dir` (KURA_HOME) is never ingested, except the folders in `state_allowed` (uploads, approved
    replies), which kura itself writes."""

    def __init__(self, state_dir: Path | None = None, state_allowed: Iterable[Path] = ()) -> None:
        self.state_dir = state_dir.resolve() if state_dir else None
        self.state_allowed = [Path(p).resolve() for p in state_allowed]

    def _is_state(self, real: Path) -> bool:
        return bool(
            self.state_dir
            and real.is_relative_to(self.state_dir)
            and not any(real.is_relative_to(allowed) for allowed in self.state_allowed)
        )

    def discover(self, paths: Iterable[Path]) -> Discovery:
        found = Discovery()
        for raw in paths:
            given = Path(os.path.abspath(Path(raw).expanduser()))
            if not _valid_name(given):
                found.refused.append({"path": printable(given), "error": _BAD_NAME})
                continue
            real = given.resolve()
            if self._is_state(real):
                found.refused.append({"path": str(given), "error": _STATE})
            elif real.is_dir():
                found.folders.append(real)
                self._walk(real, found)
            elif real.is_file():
                found.files.setdefault(real, real.parent)
            else:
                found.missing.append(given)
        found.files = dict(sorted(found.files.items()))
        return found

    def _walk(self, root: Path, found: Discovery) -> None:
        def unreadable(error: OSError) -> None:
            found.unreadable.append(Path(error.filename))

        for folder, dirs, names in os.walk(root, onerror=unreadable):
            here = Path(folder)
            for name in list(dirs):
                path = here / name
                if name.startswith(".") or (self.state_dir and path == self.state_dir):
                    dirs.remove(name)
                elif path.is_symlink():
                    dirs.remove(name)
                    target = path.resolve()
                    if not target.is_relative_to(root):  # inside the root, its files are walked anyway
                        found.refused.append(
                            {"path": printable(path), "error": _LINK_OUT.format(target=printable(target))}
                        )
            for name in names:
                path = here / name
                if name.startswith(".") or is_temporary(path):
                    continue
                if not _valid_name(path):
                    found.refused.append({"path": printable(path), "error": _BAD_NAME})
                    continue
                real = path.resolve() if path.is_symlink() else path
                if path.is_symlink() and not real.exists():
                    found.refused.append({"path": str(path), "error": _DANGLING})
                elif not real.is_relative_to(root):
                    found.refused.append({"path": str(path), "error": _LINK_OUT.format(target=real)})
                elif self._is_state(real):
                    found.refused.append({"path": str(path), "error": _STATE})
                elif real.is_file():
                    found.files.setdefault(real, root)


_BAD_NAME = (
    "the file name is not valid UTF-8, so kura cannot record or cite it: rename the file "
    "(e.g. `convmv -f cp932 -t utf-8`) and ingest again"
)
_LINK_OUT = (
    "a link leading outside the ingested folder (to {target}): kura does not follow it, so a link cannot give "
    "a file other access groups; ingest the target's own folder instead"
)
_DANGLING = "a link to nothing (its target does not exist)"
_STATE = "kura's own state folder (KURA_HOME) is never ingested"
