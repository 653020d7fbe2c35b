"""Draft a reply: a support ticket in, a grounded draft out with notes for the agent; the agent edits it and
approves it, and the approved reply becomes knowledge for the next similar ticket."""

from __future__ import annotations

import streamlit as st

from app.ui import caller, get_kura, said, show_citations, show_claims, t, within_rate_limit
from ingest import ParseError
from llm import Effort
from llm.backends import backend_class
from llm.draft import Draft, Ticket

TONES = ("friendly, clear and concise", "formal and polite", "short and direct", "empathetic and reassuring")
TONES_JA = {
    "friendly, clear and concise": "親しみやすく明快に",
    "formal and polite": "丁寧でフォーマルに",
    "short and direct": "短く端的に",
    "empathetic and reassuring": "共感を示し安心感を与える",
}

kura = get_kura()


def ticket_from_inputs() -> Ticket | None:
    uploaded = st.session_state.get("ticket_file")
    if uploaded is not None:
        ticket = Ticket.from_bytes(uploaded.getvalue(), "." + uploaded.name.rsplit(".", 1)[-1])
    else:
        ticket = Ticket(
            st.session_state.get("ticket_subject", "").strip(), st.session_state.get("ticket_body", "").strip()
        )
    customer = st.session_state.get("ticket_customer", "").strip()
    product = st.session_state.get("ticket_product", "").strip()
    ticket = Ticket(ticket.subject, ticket.body, customer or ticket.customer, product or ticket.product)
    return ticket if ticket.body or ticket.subject else None


def make_draft(ticket: Ticket, tone: str, effort: str) -> Draft:
    drafting = kura.draft(caller(), ticket, tone=tone, effort=Effort(effort), stream=False)
    if drafting.notice:
        st.warning(t("model_unavailable", error=drafting.notice))
    with st.spinner():
        return drafting.response.result()


def recheck() -> None:
    """The agent edited the reply: check it again and say the notes anew."""
    ticket, draft = st.session_state["draft"]
    st.session_state["draft"] = (ticket, kura.checked_reply(draft, st.session_state["reply_text"]))


def approve(ticket: Ticket, draft: Draft) -> None:
    reply = st.session_state["reply_text"]
    path, groups = kura.approve(caller(), ticket, draft, reply)
    if groups:
        st.session_state["approved_message"] = ("success", t("approved_ingested", groups=", ".join(groups)))
    else:
        reason = (
            t("ingest_disabled")
            if not kura.settings.ingest_approved_replies
            else t("needs_reviewer")
            if not kura.is_reviewer(caller())
            else t("no_common_group")
        )
        st.session_state["approved_message"] = ("info", t("approved_stored", reason=reason))


st.header(t("page_draft"))
if kura.backend_is_demo():
    st.info(t("demo_model"))
left, right = st.columns(2)
with left:
    st.text_input(t("ticket_subject"), key="ticket_subject")
    st.text_area(t("ticket_body"), key="ticket_body", height=220)
    st.text_input(t("ticket_customer"), key="ticket_customer")
    st.text_input(t("ticket_product"), key="ticket_product")
    st.file_uploader(t("ticket_file"), type=[suffix.lstrip(".") for suffix in Ticket.SUFFIXES], key="ticket_file")
    tone = st.selectbox(
        t("tone"),
        TONES,
        key="tone",
        format_func=lambda tone: TONES_JA[tone] if st.session_state.get("language") == "ja" else tone,
    )
    effort = None
    if backend_class(kura.settings.llm_backend).takes_effort:  # only gpt-oss on a server reasons with an effort
        effort = st.segmented_control(t("effort"), list(Effort), default=Effort.MEDIUM, key="effort")
    if st.button(t("make_draft"), type="primary", key="make_draft"):
        try:
            ticket = ticket_from_inputs()
        except ParseError as exc:
            st.error(t("ticket_unreadable", error=exc))
            st.stop()
        if ticket is None:
            st.warning(t("ticket_empty"))
        elif within_rate_limit("draft"):
            draft = make_draft(ticket, tone, effort or Effort.MEDIUM)
            st.session_state.update(draft=(ticket, draft), reply_text=draft.reply)
            st.session_state.pop("approved_message", None)
with right:
    if "draft" in st.session_state:
        ticket, draft = st.session_state["draft"]
        if draft.abstained:
            st.warning(t("draft_abstained"))
        st.text_area(t("draft_reply"), key="reply_text", height=320, on_change=recheck)
        show_claims(draft.claims)
        unchecked = any(not c.supported for c in draft.claims)
        checked = st.checkbox(t("confirm_unsupported"), key="confirm_unsupported") if unchecked else True
        st.button(t("approve"), key="approve", on_click=approve, args=(ticket, draft), disabled=not checked)
        kind, message = st.session_state.get("approved_message", (None, None))
        if kind:
            getattr(st, kind)(message)
        st.subheader(t("internal_notes"))
        for note in draft.internal_notes:
            st.text(f"• {said(note)}")
        show_citations(draft.citations, key="draft")
