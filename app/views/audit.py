"""Audit log (admins): who asked what, which passages they were shown, downloads, approvals, library changes."""

from __future__ import annotations

import json

import streamlit as st

from app.ui import caller, get_kura, require_admin, t

HEADLINE = ("question", "subject", "query", "file", "source", "folder", "name", "title", "gold")


def row(entry: dict) -> dict:
    """An entry as a table row: when, who, how, what, about what; the rest as short `key: value` pairs."""
    rest = {k: v for k, v in entry.items() if k not in ("at", "user", "action", "via", *HEADLINE)}
    details = "; ".join(f"{k}: {shorter(v)}" for k, v in rest.items() if v not in (None, "", [], {}))
    return {t("audit_at"): entry["at"], t("audit_user"): entry["user"], t("audit_via"): entry.get("via", ""),
            t("audit_action"): entry["action"],
            t("audit_about"): next((str(entry[k]) for k in HEADLINE if entry.get(k)), ""),
            t("audit_details"): details}  # fmt: skip


def shorter(value: object) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 120 else text[:117] + "…"


require_admin()
kura = get_kura()
st.header(t("page_audit"))
entries = kura.audit_entries(caller(), limit=2000)
users = sorted({e["user"] for e in entries})
actions = sorted({e["action"] for e in entries})
left, right = st.columns(2)
chosen_user = left.selectbox(t("audit_user"), [None, *users], format_func=lambda u: u or t("any"), key="audit_user")
chosen_action = right.selectbox(
    t("audit_action"), [None, *actions], format_func=lambda a: a or t("any"), key="audit_action"
)
shown = [
    e
    for e in entries
    if (chosen_user is None or e["user"] == chosen_user) and (chosen_action is None or e["action"] == chosen_action)
]
if shown:
    st.dataframe([row(e) for e in shown], width="stretch", hide_index=True)
else:
    st.caption(t("audit_empty"))
