"""Status: which Qdrant, embedder and model are in use, whether each answers, and what the index holds."""

from __future__ import annotations

import streamlit as st

from app.ui import caller, get_kura, t, user, version

kura = get_kura()
st.header(t("page_status"))
report = kura.status(caller())
st.text(t("status_chunks", count=report["chunks"], documents=report["documents"], version=version()))
# Everyone may see whether each part answers; only admins see addresses, model files and settings.
st.dataframe(
    [
        {
            t("status_component"): t(f"status_part_{part}"),
            t("status_state"): t("status_ok") if state["ok"] else t("status_down"),
            **({t("status_detail"): state["detail"]} if user().admin else {}),
        }
        for part, state in report["health"].items()
    ],
    width="stretch",
    hide_index=True,
)
if user().admin:
    st.dataframe(
        [{t("status_use"): t(f"status_use_{use}"), t("status_model"): model} for use, model in report["uses"].items()],
        hide_index=True,
    )
    with st.expander(t("status_settings")):
        st.json(report["settings"])  # secrets, and credentials inside URLs, are masked by Settings.public_dict
