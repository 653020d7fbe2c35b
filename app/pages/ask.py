"""Ask: a chat over the documents the user may read. Follow-ups are condensed into standalone queries,
answers stream in, and each cited source opens its quote and the original file."""

from __future__ import annotations

import uuid

import streamlit as st

from app.ui import get_kura, scope, show_citations, show_claims, t, user, within_rate_limit
from llm import Answer, LLMError
from llm.conversation import standalone_question

kura = get_kura()
history: list[dict] = st.session_state.setdefault("chat", [])


def record_feedback(turn: dict) -> None:
    rating = st.session_state.get(f"rating-{turn['id']}")
    comment = st.session_state.get(f"comment-{turn['id']}", "")
    kura.audit.record(
        user().name,
        "feedback",
        turn=turn["id"],
        question=turn["question"],
        rating=None if rating is None else ("up" if rating == 1 else "down"),
        comment=comment,
    )


def show_turn(turn: dict) -> None:
    with st.chat_message("user"):
        st.text(turn["question"])
    with st.chat_message("assistant"):
        if turn["notice"]:
            st.warning(turn["notice"])
        if turn["abstained"]:
            st.info(t("not_found"))
        else:
            st.text(turn["answer"])  # plain text: model output can carry no links, images or HTML
        if turn["error"]:
            st.warning(t("model_failed", error=turn["error"]))
        for warning in turn["warnings"]:
            st.caption(warning)
        show_claims(turn.get("claims", []))
        if turn["query"] != turn["question"]:
            st.caption(t("searched_for", query=turn["query"]))
        show_citations(turn["citations"], key=turn["id"])
        if not turn["abstained"]:
            with st.expander(t("copy_answer")):
                st.code(turn["answer"], language=None, wrap_lines=True)
        st.feedback("thumbs", key=f"rating-{turn['id']}", on_change=record_feedback, args=(turn,))
        st.text_input(t("feedback_comment"), key=f"comment-{turn['id']}", on_change=record_feedback, args=(turn,))


def answer(question: str) -> None:
    previous = [turn["question"] for turn in history]
    notice = None
    try:
        answerer = kura.answerer()
    except LLMError as exc:  # the model cannot even start: still show what the documents say
        notice = t("model_unavailable", error=exc)
        answerer = kura.answerer("extractive")
    rewriter = answerer.backend if answerer.backend_name == "openai" else None  # the tiny local model cannot
    query = standalone_question(question, previous, rewriter)
    with st.chat_message("user"):
        st.text(question)
    with st.chat_message("assistant"):
        placeholder, text, result = st.empty(), "", None
        ahead = answerer.backend.ahead() if hasattr(answerer.backend, "ahead") else 0
        if ahead:  # the in-process model answers one question at a time
            placeholder.caption(t("model_queue", ahead=ahead))
        for event in answerer.stream(query, scope()):
            if isinstance(event, Answer):
                result = event
            else:
                text += event
                placeholder.text(text)
        placeholder.empty()
    turn = {
        "id": uuid.uuid4().hex[:12],
        "question": question,
        "query": query,
        "answer": result.answer,
        "abstained": result.abstained,
        "error": result.error,
        "warnings": result.warnings,
        "notice": notice,
        "citations": result.citations,
        "claims": result.claims,
    }
    history.append(turn)
    kura.audit.record(
        user().name,
        "ask",
        turn=turn["id"],
        question=question,
        query=query,
        backend=result.backend,
        abstained=result.abstained,
        chunk_ids=[c.chunk_id for c in result.citations],
    )


st.header(t("page_ask"))
if kura.settings.llm_backend == "local":
    st.info(t("demo_model"))
if history and st.button(t("new_chat")):
    history.clear()
    st.rerun()
for turn in history:
    show_turn(turn)
question = st.chat_input(t("ask_placeholder"))
if question and within_rate_limit("ask"):
    answer(question)
    st.rerun()  # the new turn is shown by show_turn, with its sources and feedback controls
