"""Air-gapped by default: every library that could phone home or fetch from a hub is told not to."""

from __future__ import annotations

import os

OFFLINE_ENV = {
    "HF_HUB_OFFLINE": "1",  # huggingface_hub: never contact the hub
    "TRANSFORMERS_OFFLINE": "1",  # transformers: local files only
    "HF_DATASETS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "DO_NOT_TRACK": "1",  # the cross-tool convention (vLLM, many SDKs)
    "ANONYMIZED_TELEMETRY": "False",
    "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false",  # Streamlit usage statistics
    "TOKENIZERS_PARALLELISM": "false",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",  # no weight-loading bars in CLI output
    "TRANSFORMERS_VERBOSITY": "error",
}


def enforce_offline() -> None:
    """Set the offline switches unless the operator explicitly set them otherwise."""
    for key, value in OFFLINE_ENV.items():
        os.environ.setdefault(key, value)
