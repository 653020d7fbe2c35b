"""Evaluate (admins): run gold questions through the whole answer path (`kura eval qa`) and compare with the
previous run of the same file, so a change that makes answers worse is seen before users see it."""

from __future__ import annotations

import streamlit as st

from app.ui import caller, get_kura, require_admin, t
from llm.evaluate import GoldFileError

METRICS = ("cited", "fact_recall", "abstention_precision", "abstention_recall")

require_admin()
kura = get_kura()
st.header(t("page_evaluate"))
gold = st.file_uploader(t("gold_file"), type=["jsonl"], key="gold_file")
k = st.number_input("k", min_value=1, max_value=20, value=kura.settings.top_k, key="eval_k")
if st.button(t("run_eval"), key="run_eval", disabled=gold is None):
    try:
        with st.spinner():
            summary, previous = kura.eval_qa(caller(), gold.name, gold.getvalue().decode("utf-8", "replace"), k=int(k))
    except GoldFileError as exc:
        st.error(t("eval_bad_file", error=exc))
        st.stop()
    names = (f"hit@{k}", *METRICS)
    columns = st.columns(len(names))
    for column, name in zip(columns, names):
        before = previous.get(name) if previous else None
        after = summary[name]
        delta = round(after - before, 4) if after is not None and before is not None else None
        column.metric(name, "—" if after is None else after, delta)
        if delta is not None and delta < 0:
            st.warning(t("eval_regression", metric=name, before=before, after=after))
    st.caption(t("eval_compare", when=previous["at"]) if previous else t("eval_first"))
    st.dataframe(summary["results"], width="stretch", hide_index=True)

st.subheader(t("finetune_title"))
comparison = kura.last_comparison()
if comparison is None:
    st.caption(t("finetune_none"))
else:
    st.caption(t("finetune_caption", dataset=comparison["dataset"]))
    st.dataframe(
        [
            {t("finetune_model"): row["model"], t("finetune_tickets"): row["tickets"],
             t("finetune_recall"): round(row["recall"], 3), t("finetune_supported"): round(row["supported"], 3),
             t("finetune_words"): round(row["words"]), t("finetune_failed"): row["failed"]}
            for row in comparison["rows"]
        ],
        hide_index=True,
    )  # fmt: skip
