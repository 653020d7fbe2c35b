"""kura's first page: ask a question, watch the answer stream, read the quoted sources.

Presentation only: everything it does goes through app.services, like the CLI."""

from __future__ import annotations

import streamlit as st

from app.services import Kura
from app.settings import REPO_ROOT, Settings
from llm import Answer, LLMError
from retrieval import StoreError

SAMPLES = REPO_ROOT / "samples"


@st.cache_resource(show_spinner="Loading the index and models…")
def get_kura() -> Kura:
    kura = Kura(Settings())
    if not kura.manifest.all() and SAMPLES.is_dir():
        kura.ingestor.ingest([SAMPLES], groups=kura.scope().groups)
    return kura


def show_sources(answer: Answer) -> None:
    if not answer.citations:
        return
    st.markdown("**Sources** — the quoted passages are the evidence; check them before relying on the answer.")
    for c in answer.citations:
        where = f"page {c.page}" if c.page else (c.heading or c.title)
        with st.container(border=True):
            # st.text never interprets markup: file names, headings and quotes are shown exactly as written.
            st.text(f"[{c.n}] {c.source.rsplit('/', 1)[-1]} — {where}")
            st.text(f"“{c.quote}”")


def main() -> None:
    st.set_page_config(page_title="kura", page_icon="🏯")
    st.title("kura 蔵")
    st.caption("Private answers from your company's documents. Nothing leaves this machine.")
    try:
        kura = get_kura()
    except StoreError as exc:
        st.error(str(exc))
        st.stop()
    backend = kura.settings.llm_backend
    if backend == "local":
        st.info("Answers are written by a small demo model and may be wrong. The quoted sources are what to trust.")
    question = st.text_input("Your question", placeholder="How many vacation days do I get?")
    if not question:
        return
    try:
        answerer = kura.answerer()
    except LLMError as exc:  # the model cannot even start: still show what the documents say
        st.warning(f"{exc} Showing the best passages instead of a written answer.")
        answerer = kura.answerer("extractive")
    stream = answerer.stream(question, kura.scope())
    with st.chat_message("assistant"):
        placeholder = st.empty()
        text = ""
        for event in stream:
            if isinstance(event, Answer):
                answer = event
            else:
                text += event
                placeholder.text(text)  # plain text: model output can carry no links, images or HTML
    if answer.error:
        st.warning(f"The model could not answer: {answer.error}")
    for warning in answer.warnings:
        st.caption(warning)
    if answer.reasoning and kura.settings.show_reasoning:
        with st.expander("Model reasoning (admin view)"):
            st.text(answer.reasoning)
    if answer.abstained:
        st.info("Not found in the documents you can access.")
    show_sources(answer)


main()
