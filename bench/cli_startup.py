"""How long each `kura` command takes from a cold process, on the sample knowledge base: the commands that need no
model (help, users, audit, status) and the time to a first search result (the embedder loads).

    .venv/bin/python -m bench.cli_startup [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
KURA = str(Path(sys.executable).parent / "kura")
COMMANDS = {
    "kura --help": ["--help"],
    "kura users list": ["users", "list"],
    "kura audit --limit 1": ["audit", "--limit", "1"],
    "kura status": ["status", "--json"],
    "kura search (first result)": ["search", "parental leave", "--k", "1", "--json"],
    "kura ask --backend extractive": ["ask", "How many weeks of parental leave?", "--backend", "extractive", "--json"],
}


def seconds(args: list[str], env: dict) -> float:
    started = time.perf_counter()
    subprocess.run([KURA, *args], env=env, capture_output=True, check=False)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    runs = parser.parse_args().runs
    home = Path(tempfile.mkdtemp(prefix="kura-cli-"))
    env = {**os.environ, "KURA_HOME": str(home / "home"), "KURA_LLM_BACKEND": "extractive"}
    try:
        subprocess.run([KURA, "ingest", str(ROOT / "samples"), "--json"], env=env, capture_output=True, check=True)
        print(f"| command | median of {runs} cold runs |\n| --- | --- |")
        for name, args in COMMANDS.items():
            print(f"| `{name}` | {statistics.median(seconds(args, env) for _ in range(runs)):.2f} s |")
    finally:
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
