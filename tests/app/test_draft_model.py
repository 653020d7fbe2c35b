"""Ticket drafts can go to their own model (KURA_DRAFT_MODEL: a LoRA adapter vLLM serves by name) while questions
keep the base model; a backend that serves one model (llama.cpp in-process, extractive) ignores it; status says
which model each use goes to."""

from __future__ import annotations

from app.service import Kura
from app.settings import Settings


def test_drafts_use_the_adapter_and_questions_the_base_model(tmp_path):
    kura = Kura(Settings(home=tmp_path, llm_backend="openai", draft_model="kura-support", _env_file=None))
    assert kura.drafter().answerer.backend.model == "kura-support"
    assert kura.answerer().backend.model == "gpt-oss-20b"
    assert kura.uses() == {"answers": "openai: gpt-oss-20b", "drafts": "openai: kura-support"}


def test_a_backend_with_one_model_ignores_the_drafts_model(tmp_path):
    kura = Kura(Settings(home=tmp_path, llm_backend="extractive", draft_model="kura-support", _env_file=None))
    assert kura.drafter().answerer.backend is kura.answerer().backend
    assert kura.uses() == {"answers": "extractive: quoted passages", "drafts": "extractive: quoted passages"}
