"""kura's service layer: every use case, once. The CLI, the Streamlit pages and the HTTP API only parse input and
render output; policy (who may do what, the model fallback, the audit entry) lives here.

    Kura(settings)            the components, built on first use (wiring.py)
      .ask / .search / .draft / .approve / .download / .feedback      answers.py
      .conversations / .conversation / .rename_… / .delete_conversation conversations.py
      .ingest / .upload / .resync / .documents / .delete_document       library.py
      .eval_qa / .eval_retrieval                                        evaluation.py
      .export_dataset / .compare_drafts / .last_comparison              finetune.py
      .sign_in / .status / .audit_entries / .rate_limited               admin.py

Every use case takes a Caller (who, their groups, admin or not, which front end) and writes its own audit entry."""

from __future__ import annotations

from app.service.admin import Admin
from app.service.answers import Answers, Asking, Drafting
from app.service.caller import Caller, Forbidden, Via, os_user
from app.service.conversations import Conversations
from app.service.evaluation import Evaluation
from app.service.finetune import Finetune, MinRating
from app.service.library import Library, Upload
from app.service.wiring import private_home

__all__ = [
    "Asking",
    "Caller",
    "Drafting",
    "Forbidden",
    "Kura",
    "MinRating",
    "Upload",
    "Via",
    "os_user",
    "private_home",
]


class Kura(Answers, Conversations, Library, Evaluation, Finetune, Admin):
    """The assembled product: one per process, shared by every session; close() releases the store."""
