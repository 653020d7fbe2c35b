#!/usr/bin/env bash
# Install kura from this bundle with no network: ./install.sh TARGET_DIR
# Needs Python 3.11 (3.11.5 or newer; PYTHON=... picks one) on the target (the wheels were built for it). Creates TARGET_DIR/.venv and TARGET_DIR/models.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
target="${1:?usage: ./install.sh TARGET_DIR}"
python="${PYTHON:-$(command -v python3.11 || command -v python3)}"
mkdir -p "$target"
"$python" -m venv "$target/.venv"
"$target/.venv/bin/pip" install --quiet --no-index --find-links "$here/wheelhouse" -r "$here/requirements.lock" kura
cp -r "$here/models" "$here/samples" "$target/"
cat > "$target/kura.env" <<ENV
KURA_HOME=$target/.kura
KURA_LLM_MODEL_PATH=$target/models/Qwen2.5-Coder-1.5B-Instruct.Q4_K_M.gguf
# the second stage, as make run has it (off leaves it out: a one-off command then starts seconds faster)
KURA_SECOND_STAGE_MODEL=$target/models/embeddinggemma-300m
ENV
echo "kura installed in $target. Try:"
echo "  set -a; . $target/kura.env; set +a; $target/.venv/bin/kura ingest $target/samples && $target/.venv/bin/kura ask 'How many days of paid time off?'"
