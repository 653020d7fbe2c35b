"""Audit log (admins): who asked what, which passages they were shown, downloads, approvals, library changes."""

from __future__ import annotations

import json

import streamlit as st

from app.ui import caller, get_kura, require_admin, t

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
    st.dataframe(
        [
            {
                "at": e["at"],
                "user": e["user"],
                "action": e["action"],
                "details": json.dumps(
                    {k: v for k, v in e.items() if k not in ("at", "user", "action")}, ensure_ascii=False
                ),
            }
            for e in shown
        ],
        width="stretch",
        hide_index=True,
    )
else:
    st.caption(t("audit_empty"))
