"""The two model backends against real llama.cpp: in-process (local) and over HTTP (openai, the same client
code that talks to vLLM in production), with the sample knowledge base behind them."""

from __future__ import annotations

import pytest

from llm import LLMError, LocalLlamaBackend, OpenAIBackend
from retrieval import AccessScope
from tests.conftest import free_port, require_gguf

pytestmark = pytest.mark.slow
MESSAGES = [{"role": "system", "content": "Answer briefly."}, {"role": "user", "content": "Say hello."}]


def test_local_backend_streams_text():
    backend = LocalLlamaBackend(require_gguf(), context_tokens=2048)
    deltas = list(backend.generate(MESSAGES, max_tokens=16, temperature=0.0))
    assert len(deltas) > 1 and "".join(d.text for d in deltas).strip()
    assert deltas[-1].finish_reason in ("stop", "length")


@pytest.mark.parametrize("effort", [None, "low", "high"])
def test_openai_backend_streams_from_a_real_server(llama_server, effort):
    """llama.cpp's server ignores reasoning_effort, as vLLM serving a non-reasoning model does."""
    backend = OpenAIBackend(llama_server, "smollm2", "not-needed")
    deltas = list(backend.generate(MESSAGES, max_tokens=16, temperature=0.0, reasoning_effort=effort))
    assert len(deltas) > 1 and "".join(d.text for d in deltas).strip()
    assert deltas[-1].finish_reason in ("stop", "length")


def test_openai_backend_without_streaming(llama_server):
    backend = OpenAIBackend(llama_server, "smollm2", "not-needed")
    (delta,) = backend.generate(MESSAGES, max_tokens=16, temperature=0.0, stream=False)
    assert delta.text.strip() and delta.finish_reason in ("stop", "length")


def test_openai_backend_reports_a_server_that_is_down():
    url = f"http://127.0.0.1:{free_port()}/v1"
    backend = OpenAIBackend(url, "gpt-oss-20b", "x", timeout_s=3)
    with pytest.raises(LLMError, match=f"model server at {url} is not answering"):
        list(backend.generate(MESSAGES, max_tokens=8, temperature=0.0))


def test_missing_model_file_says_how_to_get_one(tmp_path):
    with pytest.raises(LLMError, match="make setup"):
        LocalLlamaBackend(tmp_path / "none.gguf")


@pytest.mark.parametrize("backend", ["local", "openai"])
def test_answers_from_a_real_model_carry_the_quoted_evidence(ingested_samples, llama_server, backend):
    ingested_samples.settings.llm_base_url = llama_server
    ingested_samples.settings.llm_model = "smollm2"
    ingested_samples.settings.llm_temperature = 0.0  # greedy: the shared server's sampling state (what other tests
    # asked before) must not decide whether the tiny model cites the passage
    answer = ingested_samples.answerer(backend).ask(
        "How many weeks of parental leave do parents get?", AccessScope(("everyone",))
    )
    assert answer.backend == backend and answer.error is None and answer.answer
    assert any("16 weeks of fully paid parental leave" in c.quote for c in answer.citations)
