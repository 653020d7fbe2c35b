"""The deployment files stay valid: compose parses with Docker Compose itself (no engine needed)."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from app.settings import REPO_ROOT


def test_compose_file_is_valid():
    compose = shutil.which("docker-compose")
    if compose is None:
        pytest.skip("docker-compose is not installed (apt-get install docker-compose); .ci/run installs it")
    done = subprocess.run([compose, "-f", str(REPO_ROOT / "docker-compose.yml"), "config", "-q"],
                          capture_output=True, text=True, env={"QDRANT_API_KEY": "test-key", "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr


def test_compose_without_an_api_key_is_refused():
    compose = shutil.which("docker-compose")
    if compose is None:
        pytest.skip("docker-compose is not installed (apt-get install docker-compose); .ci/run installs it")
    done = subprocess.run([compose, "-f", str(REPO_ROOT / "docker-compose.yml"), "config", "-q"],
                          capture_output=True, text=True, env={"PATH": "/usr/bin:/bin"})
    assert done.returncode != 0 and "QDRANT_API_KEY" in done.stderr
