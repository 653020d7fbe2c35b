"""`kura serve` under load: latency (p50, p95) and throughput of POST /v1/chat/completions at 1, 4 and 16 concurrent
clients on the sample knowledge base. With extractive answers (the default) each client asks 4 questions and the
API and the service are measured, not a model; with `--backend local` each client asks one question of the default
local model (llama.cpp in the server's process, one answer at a time: the queue is what is measured).

    .venv/bin/python -m bench.api
    .venv/bin/python -m bench.api --backend local
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
KURA = str(Path(sys.executable).parent / "kura")
QUESTIONS = ("How many weeks of parental leave do parents get?", "What is the hotel limit per night in Tokyo?",
             "Which platforms does Kumo Sync support?", "Can I get a refund for my annual plan?")  # fmt: skip


def main() -> None:
    backend = sys.argv[sys.argv.index("--backend") + 1] if "--backend" in sys.argv else "extractive"
    per_client = 4 if backend == "extractive" else 1
    home = Path(tempfile.mkdtemp(prefix="kura-api-"))
    env = {**os.environ, "KURA_HOME": str(home / "home"), "KURA_LLM_BACKEND": backend,
           "KURA_RATE_LIMIT_PER_MINUTE": "100000"}  # fmt: skip
    run = {"env": env, "capture_output": True, "text": True, "check": True}
    subprocess.run([KURA, "ingest", str(ROOT / "samples"), "--json"], **run)
    subprocess.run([KURA, "users", "add", "bench", "--groups", "everyone", "--password-stdin"], input="benchmark\n",
                   env=env, capture_output=True, text=True, check=True)  # fmt: skip
    token = subprocess.run([KURA, "tokens", "create", "bench"], **run).stdout.strip()
    server = subprocess.Popen([KURA, "serve", "--port", "8791"], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)  # fmt: skip
    headers = {"Authorization": f"Bearer {token}"}
    try:
        for _ in range(60):
            try:
                httpx.get("http://127.0.0.1:8791/v1/models", headers=headers).raise_for_status()
                break
            except httpx.HTTPError:
                time.sleep(0.5)

        def ask(n: int) -> float:
            started = time.perf_counter()
            body = {"model": "kura", "messages": [{"role": "user", "content": QUESTIONS[n % len(QUESTIONS)]}]}
            httpx.post("http://127.0.0.1:8791/v1/chat/completions", json=body, headers=headers,
                       timeout=300).raise_for_status()  # fmt: skip
            return time.perf_counter() - started

        ask(0)  # the first request loads the query graph (and the model)
        print(f"backend: {backend}")
        print("| concurrent clients | requests | p50 | p95 | requests/s |\n| --- | --- | --- | --- | --- |")
        for clients in (1, 4, 16):
            started = time.perf_counter()
            with ThreadPoolExecutor(clients) as pool:
                latencies = sorted(pool.map(ask, range(clients * per_client)))
            wall = time.perf_counter() - started
            p95 = latencies[min(len(latencies) - 1, int(0.95 * len(latencies)))]
            print(f"| {clients} | {len(latencies)} | {statistics.median(latencies):.2f} s | {p95:.2f} s | "
                  f"{len(latencies) / wall:.1f} |")  # fmt: skip
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
