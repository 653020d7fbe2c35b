"""Ask: a chat over the documents the user may read. Conversations are kept (each has a URL, ?c=ID) and listed in
the sidebar; answers stream in with what kura is doing, and Stop keeps what was written; a follow-up is searched
as a whole question (shown, and the user can search the question alone); every cited source opens its passage in
context and the original file."""

from __future__ import annotations

import threading

import streamlit as st

from app.render import safe_markdown
from app.ui import caller, get_kura, said, show_citations, show_claims, t, within_rate_limit
from llm import BackendName
from llm.backends import backend_class
from llm.response import Stage

STOP_WAIT_S = 60  # a model that has not written its first word yet ends at its first word

kura = get_kura()
who = caller()
generative = backend_class(kura.settings.llm_backend).generative


def open_conversation(conversation_id: str | None) -> None:
    if conversation_id:
        st.query_params["c"] = conversation_id
    else:
        st.query_params.pop("c", None)


def sidebar() -> None:
    """Answer mode, a new conversation, and the user's conversations (most recent first)."""
    with st.sidebar:
        if generative:  # the admin's default is the configured model; anyone may ask for the quotes only
            st.segmented_control(t("answer_mode"), ["generated", "quotes"], default="generated", key="answer_mode",
                                 format_func=lambda mode: t(f"answer_mode_{mode}"))  # fmt: skip
        st.button(t("new_chat"), icon=":material/add:", on_click=open_conversation, args=(None,), width="stretch")
        for listed in kura.conversations(who)[:50]:
            st.button(listed.title, key=f"open-{listed.id}", on_click=open_conversation, args=(listed.id,),
                      type="primary" if listed.id == st.query_params.get("c") else "tertiary")  # fmt: skip


def record_feedback(turn) -> None:
    rating = st.session_state.get(f"rating-{turn.id}")
    comment = st.session_state.get(f"comment-{turn.id}", "")
    kura.feedback(who, turn.id, turn.question, None if rating is None else ("up" if rating == 1 else "down"), comment)


def show_turn(turn, latest: bool) -> None:
    with st.chat_message("user"):
        st.text(turn.question)
    with st.chat_message("assistant"):
        if turn.notice:
            st.warning(t("model_unavailable", error=turn.notice))
        if turn.abstained:
            st.info(t("not_found"))
        else:
            st.markdown(safe_markdown(said(turn.answer)))  # Markdown without links or images; HTML is escaped
        if turn.error:
            st.warning(t("model_failed", error=said(turn.error)))
        for warning in turn.warnings:
            st.caption(said(warning))
        show_claims(turn.claims)
        if turn.query != turn.question:
            st.caption(t("searched_for", query=turn.query))
            if latest:
                st.button(t("search_alone"), key=f"alone-{turn.id}", on_click=st.session_state.update,
                          kwargs={"ask_alone": turn.question})  # fmt: skip
        show_citations(turn.citations, key=turn.id)
        if not turn.abstained and turn.answer:
            with st.expander(t("copy_answer")):
                st.code(turn.answer, language=None, wrap_lines=True)
        st.feedback("thumbs", key=f"rating-{turn.id}", on_change=record_feedback, args=(turn,))
        if st.session_state.get(f"rating-{turn.id}") == 0:  # after a thumbs-down: what was wrong?
            st.text_input(t("feedback_comment"), key=f"comment-{turn.id}", on_change=record_feedback, args=(turn,))


def answering() -> threading.Lock:
    """Held while an answer is written. Stop starts a new run of this page at once, in another thread, while this
    one is still ending (it ends at its next Streamlit call and keeps the turn): the new run waits for it."""
    return st.session_state.setdefault("answering", threading.Lock())


def wait_for_a_stopped_answer() -> None:
    lock = answering()
    if lock.locked():
        st.caption(t("stopping"))
    if lock.acquire(timeout=STOP_WAIT_S):
        lock.release()


def status_line(progress, ahead: int) -> str:
    if progress.stage is Stage.SEARCHING:
        return t("model_queue", ahead=ahead) if ahead else t("stage_searching")
    if progress.stage is Stage.CHECKING:
        return t("stage_checking")
    return t("stage_writing", passages=progress.passages)


def answer(question: str, conversation_id: str | None, alone: bool = False) -> None:
    mode = st.session_state.get("answer_mode") or "generated"
    backend = BackendName.EXTRACTIVE if mode == "quotes" or not generative else None
    asking = kura.ask(who, question, conversation=conversation_id, alone=alone, backend=backend)
    open_conversation(asking.conversation)  # in the URL before the first word: a reload or Stop comes back here
    with st.chat_message("user"):
        st.text(question)
    with st.chat_message("assistant"):
        if asking.notice:
            st.warning(t("model_unavailable", error=asking.notice))
        status, body, text = st.empty(), st.empty(), ""
        status.caption(status_line(asking.response.progress, asking.ahead))
        st.button(t("stop"), key="stop", icon=":material/stop_circle:")  # a click reruns the page: see below
        with answering():
            try:
                for piece in asking.response:
                    text += piece
                    status.caption(status_line(asking.response.progress, asking.ahead))
                    if text:
                        body.markdown(safe_markdown(text))
            except BaseException:  # Stop (Streamlit stops this run) or the tab closed: keep what was written
                asking.response.close()
                raise


wait_for_a_stopped_answer()
conversation_id = st.query_params.get("c")
conversation = kura.conversation(who, conversation_id) if conversation_id else None
sidebar()
st.header(conversation.title if conversation else t("page_ask"))
if kura.backend_is_demo():
    st.info(t("demo_model"))
if conversation:
    with st.expander(t("manage_conversation")):
        title = st.text_input(t("conversation_title"), value=conversation.title, key=f"title-{conversation.id}")
        if title != conversation.title and kura.rename_conversation(who, conversation.id, title):
            st.rerun()
        sure = st.checkbox(t("confirm_delete_conversation"), key=f"sure-{conversation.id}")
        if st.button(t("delete_conversation"), key="delete_conversation", disabled=not sure):
            kura.delete_conversation(who, conversation.id)
            open_conversation(None)
            st.rerun()
elif conversation_id:
    st.warning(t("conversation_missing"))
turns = conversation.turns if conversation else []
for index, turn in enumerate(turns):
    show_turn(turn, latest=index == len(turns) - 1)
again = st.session_state.pop("ask_alone", None)
question = st.chat_input(t("ask_placeholder")) or again
if question and within_rate_limit("ask"):
    answer(question, conversation.id if conversation else None, alone=again is not None)
    st.rerun()  # the new turn is shown from the kept conversation, with its sources and feedback controls
