"""Ask: a chat over the documents the user may read. Follow-ups are condensed into standalone queries,
answers stream in, and each cited source opens its quote and the original file."""

from __future__ import annotations

import uuid

import streamlit as st

from app.ui import caller, get_kura, said, show_citations, show_claims, t, within_rate_limit

kura = get_kura()
history: list[dict] = st.session_state.setdefault("chat", [])


def record_feedback(turn: dict) -> None:
    rating = st.session_state.get(f"rating-{turn['id']}")
    comment = st.session_state.get(f"comment-{turn['id']}", "")
    kura.feedback(
        caller(), turn["id"], turn["question"], None if rating is None else ("up" if rating == 1 else "down"), comment
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
            st.warning(t("model_failed", error=said(turn["error"])))
        for warning in turn["warnings"]:
            st.caption(said(warning))
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
    turn_id = uuid.uuid4().hex[:12]
    asking = kura.ask(caller(), question, history=[turn["question"] for turn in history], turn=turn_id)
    with st.chat_message("user"):
        st.text(question)
    with st.chat_message("assistant"):
        placeholder, text = st.empty(), ""
        if asking.ahead:  # the in-process model answers one question at a time
            placeholder.caption(t("model_queue", ahead=asking.ahead))
        for piece in asking.response:
            text += piece
            placeholder.text(text)
        placeholder.empty()
    result = asking.response.result()
    history.append(
        {
            "id": turn_id,
            "question": question,
            "query": asking.query,
            "answer": result.answer,
            "abstained": result.abstained,
            "error": result.error,
            "warnings": result.warnings,
            "notice": t("model_unavailable", error=asking.notice) if asking.notice else None,
            "citations": result.citations,
            "claims": result.claims,
        }
    )


st.header(t("page_ask"))
if kura.backend_is_demo():
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
