"""Nothing leaves the building. Inside a network namespace with only loopback, kura ingests, answers with
the in-process model and through an OpenAI-compatible server, and serves the app. In every test process a
guard blocks and reports any attempt to reach a non-loopback address."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests import network_guard
from tests.conftest import SAMPLES, require_gguf


def test_the_guard_blocks_non_loopback_connects_before_they_happen():
    # sys.audit raises the same event a real socket would, without creating a socket at all.
    with pytest.raises(ConnectionRefusedError, match="air-gapped"):
        sys.audit("socket.connect", socket.socket(), ("192.0.2.1", 443))
    with pytest.raises(socket.gaierror, match="air-gapped"):
        sys.audit("socket.getaddrinfo", "huggingface.co", 443, 0, 0, 0)
    assert network_guard.violations[-2:] == ["socket.connect ('192.0.2.1', 443)", "socket.getaddrinfo 'huggingface.co'"]
    del network_guard.violations[-2:]  # expected here; any other attempt fails its test


def test_the_guard_allows_loopback():
    for address in (("127.0.0.1", 8000), ("::1", 8000, 0, 0), ("localhost", 8000)):
        network_guard.guard("socket.connect", (socket.socket(), address))
    network_guard.guard("socket.getaddrinfo", ("localhost", 8000, 0, 0, 0))


SESSION = r"""
set -euo pipefail
ip link set lo up
export KURA_HOME="$WORK/home" PATH="$BIN:$PATH"
# 1. ingest and answer with the in-process model
kura ingest "$SAMPLES" --json > "$WORK/ingest.json"
kura ask "How many weeks of parental leave do parents get?" --backend local --json > "$WORK/local.json"
# 2. the same through an OpenAI-compatible server on loopback
python -m llama_cpp.server --model "$GGUF" --host 127.0.0.1 --port 18080 --n_ctx 2048 --model_alias tiny \
  > "$WORK/server.log" 2>&1 &
server=$!
for i in $(seq 120); do python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:18080/v1/models')" 2>/dev/null && break; sleep 1; done
KURA_LLM_BACKEND=openai KURA_LLM_BASE_URL=http://127.0.0.1:18080/v1 KURA_LLM_MODEL=tiny \
  kura ask "Within how many days can an annual subscription be refunded?" --json > "$WORK/openai.json"
kill $server
# 3. the app starts and serves its page
KURA_LLM_BACKEND=extractive kura app --port 18501 > "$WORK/app.log" 2>&1 &
app=$!
for i in $(seq 120); do python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:18501/_stcore/health')" 2>/dev/null && break; sleep 1; done
python -c "import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:18501/').status)" > "$WORK/app.status"
kill $app; wait $app || true
# 4. and nothing but loopback exists here
ip -o link | grep -v ': lo:' && exit 3 || true
"""


@pytest.mark.slow
def test_ingest_ask_and_app_work_with_no_network_at_all(tmp_path):
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        pytest.skip("needs unshare (util-linux) and ip (iproute2)")
    probe = subprocess.run(["unshare", "-n", "true"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip(f"cannot create a network namespace here: {probe.stderr.decode().strip()}")
    env = {
        "WORK": str(tmp_path),
        "SAMPLES": str(SAMPLES),
        "GGUF": str(require_gguf()),
        "KURA_LLM_MODEL_PATH": str(require_gguf()),
        "BIN": str(Path(sys.executable).parent),
        "HOME": str(tmp_path),
        "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
    }
    done = subprocess.run(
        ["unshare", "-n", "bash", "-c", textwrap.dedent(SESSION)], env=env, capture_output=True, text=True, timeout=900
    )
    assert done.returncode == 0, done.stderr
    assert json.loads((tmp_path / "ingest.json").read_text())["added"] == 8
    local = json.loads((tmp_path / "local.json").read_text())
    assert local["backend"] == "local" and local["error"] is None
    assert any("16 weeks" in c["quote"] for c in local["citations"])
    served = json.loads((tmp_path / "openai.json").read_text())
    assert served["backend"] == "openai" and served["error"] is None and served["answer"]
    assert any("14 days" in c["quote"] for c in served["citations"])
    assert (tmp_path / "app.status").read_text().strip() == "200"


@pytest.mark.slow
def test_the_offline_bundle_installs_and_answers_without_network(tmp_path):
    """`make bundle` on this (connected) machine, then install and use it inside a namespace with no network."""
    from app.settings import REPO_ROOT

    bundle = tmp_path / "bundle"
    made = subprocess.run(
        ["make", "-C", str(REPO_ROOT), "bundle", f"BUNDLE_DIR={bundle}"], capture_output=True, text=True, timeout=1800
    )
    assert made.returncode == 0, made.stdout[-2000:] + made.stderr[-2000:]
    assert (bundle / "wheelhouse").is_dir() and any(bundle.glob("wheelhouse/llama_cpp_python-*.whl"))
    target = tmp_path / "installed"
    script = f"""
        set -euo pipefail
        ip link set lo up
        {bundle}/install.sh {target}
        set -a; . {target}/kura.env; set +a
        cd {tmp_path}
        {target}/.venv/bin/kura ingest {target}/samples --json > {tmp_path}/ingest.json
        {target}/.venv/bin/kura upgrade
        {target}/.venv/bin/kura ask "How many weeks of parental leave do parents get?" --json > {tmp_path}/ask.json
        {target}/.venv/bin/kura status --json > {tmp_path}/status.json || true  # exit 1 names a part down: read below
    """
    done = subprocess.run(
        ["unshare", "-n", "bash", "-c", textwrap.dedent(script)],
        capture_output=True,
        text=True,
        env={
            "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
            "HOME": str(tmp_path),
            "PYTHON": str(Path(sys.base_prefix) / "bin" / "python3"),
        },
        timeout=1800,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads((tmp_path / "ingest.json").read_text())["added"] == 8
    answer = json.loads((tmp_path / "ask.json").read_text())
    assert answer["backend"] == "local" and answer["error"] is None
    assert any("16 weeks" in c["quote"] for c in answer["citations"])
    second_stage = json.loads((tmp_path / "status.json").read_text())["health"]["second_stage"]
    assert second_stage["ok"] and "every passage" in second_stage["detail"], "EmbeddingGemma works with no network"
