"""Which groups a file belongs to, decided where the file really lives.

The nearest `.kura-acl` in the file's folder or above wins, searched up to the outermost library root that
holds the file (a configured root, a folder ingested before, or the folder being ingested), so ingesting a
subfolder or one file never escapes the rules above it. An ACL that cannot be read fails closed: the files
below it are not ingested and their old passages are hidden until it is fixed. Without an ACL: the file's POSIX
group when that mapping is on, else the groups given for the ingest."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from ingest.documents import ParseError

ACL_FILE = ".kura-acl"


class AccessRuleError(ParseError):
    """A .kura-acl exists but cannot be read; the message names it and says how to fix it."""


def read_acl(path: Path) -> tuple[str, ...]:
    """A .kura-acl file: group names separated by commas or newlines; # starts a comment.
    AccessRuleError when it is a folder, a dangling link, unreadable or not UTF-8."""
    fix = "fix or remove it; until then the documents below it are not ingested and their passages are hidden"
    if path.is_dir():
        raise AccessRuleError(f"the access rules file {path} is a folder, not a list of groups: {fix}")
    try:
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise AccessRuleError(f"the access rules file {path} is a link to nothing: {fix}") from None
    except PermissionError:
        raise AccessRuleError(f"the access rules file {path} cannot be read (permission denied): {fix}") from None
    except UnicodeDecodeError:
        raise AccessRuleError(f"the access rules file {path} is not UTF-8 text: save it as UTF-8; {fix[14:]}") from None
    except OSError as exc:
        raise AccessRuleError(f"the access rules file {path} cannot be read ({exc.strerror}): {fix}") from None
    names = []
    for line in text.splitlines():
        names.extend(part.strip() for part in line.split("#", 1)[0].split(","))
    return tuple(dict.fromkeys(name for name in names if name))


class AccessRules:
    """Groups for files, with the ACLs read once per folder. `roots` are the library roots known besides the
    ingested folder; `warnings` collects ACLs that name no group (nobody can read what is below them)."""

    def __init__(self, default: tuple[str, ...], posix_groups: bool = False, roots: Iterable[Path] = ()) -> None:
        self.default = default
        self.posix_groups = posix_groups
        self.roots = [Path(r) for r in roots]
        self.warnings: dict[str, str] = {}
        self._acl_cache: dict[Path, tuple[str, ...] | AccessRuleError | None] = {}

    def _acl(self, folder: Path) -> tuple[str, ...] | None:
        if folder not in self._acl_cache:
            acl = folder / ACL_FILE
            try:
                self._acl_cache[folder] = read_acl(acl) if os.path.lexists(acl) else None
            except AccessRuleError as exc:
                self._acl_cache[folder] = exc
            if self._acl_cache[folder] == ():
                self.warnings[str(acl)] = (
                    "this access rules file names no group: nobody can read the documents below it"
                )
        found = self._acl_cache[folder]
        if isinstance(found, AccessRuleError):
            raise found
        return found

    def top(self, path: Path, root: Path) -> Path:
        """The outermost known root holding `path`: ACLs are searched up to it."""
        holding = [r for r in [root, *self.roots] if path.is_relative_to(r)]
        return min(holding, key=lambda r: len(r.parts)) if holding else root

    def groups_for(self, path: Path, root: Path) -> tuple[str, ...]:
        top = self.top(path, root)
        for folder in [path.parent, *path.parent.parents]:
            acl = self._acl(folder)
            if acl is not None:
                return acl
            if folder == top or folder == folder.parent:
                break
        if self.posix_groups:
            import grp

            try:
                return (grp.getgrgid(path.stat().st_gid).gr_name,)
            except KeyError:
                pass
        return self.default
