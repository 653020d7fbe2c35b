"""What every page shares: the one Kura instance, the signed-in user, their language, and citation display.

Presentation only: pages call app.services like the CLI does."""

from __future__ import annotations

import importlib.metadata

import streamlit as st

from app import i18n, owner
from app.guards import RateLimiter
from app.render import in_context
from app.service import Caller, Kura
from app.settings import Settings
from app.users import User
from llm import Citation


def release(kura: Kura) -> None:
    if kura is not owner.shared():  # the serving process's Kura outlives every page
        kura.close()


@st.cache_resource(show_spinner="Loading the index and models…", on_release=release)
def get_kura() -> Kura:
    """The serving process's Kura (`kura app`); one of its own when the app is run by `streamlit run`."""
    return owner.shared() or Kura(Settings()).welcome()


@st.cache_resource
def rate_limiter(per_minute: int) -> RateLimiter:
    """One limiter per app process: every session of a user counts against the same budget."""
    return RateLimiter(per_minute)


def version() -> str:
    try:
        return importlib.metadata.version("kura")
    except importlib.metadata.PackageNotFoundError:
        return "dev"


def user() -> User:
    """The signed-in user; main.py signs people in before any page runs."""
    return st.session_state["user"]


def caller() -> Caller:
    """The signed-in user as the service sees them: every use case a page runs is theirs, and audited so."""
    return Caller.of(user())


def language() -> str:
    if "language" not in st.session_state:
        configured = get_kura().settings.ui_language
        signed_in = st.session_state.get("user")
        st.session_state["language"] = (signed_in.language if signed_in else None) or (
            configured if configured != "auto" else i18n.language_of(st.context.locale)
        )
    return st.session_state["language"]


def t(key: str, **params) -> str:
    return i18n.text(key, language(), **params)


def said(text: object) -> str:
    """A warning, note or reason from the answer path, in the reader's language."""
    return i18n.localized(text, language())


def require_admin() -> None:
    if not user().admin:
        st.error(t("admins_only"))
        st.stop()


def within_rate_limit(action: str) -> bool:
    """Counts one ask/draft for the user; shows why and returns False when they are over the limit."""
    limit = get_kura().settings.rate_limit_per_minute
    wait = rate_limiter(limit).allow(user().name)
    if wait:
        get_kura().rate_limited(caller(), action)
        st.warning(t("rate_limited", limit=limit, seconds=wait))
    return not wait


def show_claims(claims: list) -> None:
    """How much of a generated answer the documents support, and each sentence they do not, with why."""
    if not claims:
        return
    supported = sum(c.supported for c in claims)
    (st.caption if supported == len(claims) else st.warning)(
        t("claims_supported", supported=supported, total=len(claims))
    )
    for claim in claims:
        if not claim.supported:
            st.error(t("claim_unsupported", text=claim.text, reason=said(claim.reason)), icon=":material/report:")


def where(citation: Citation) -> str:
    return t("page_n", page=citation.page) if citation.page else (citation.heading or citation.title)


def show_citations(citations: list[Citation], key: str) -> None:
    """One [n] button per cited source, numbered in the order the answer cites them; each opens the passage with
    the quoted sentence in bold where it stands, where it is, and a download of the original. Document text is
    escaped (app/render.py): it is never interpreted as Markdown or HTML."""
    if not citations:
        return
    st.caption(t("sources_heading"))
    columns = st.columns(min(len(citations), 6))
    for index, citation in enumerate(citations):
        name = citation.source.rsplit("/", 1)[-1]
        with columns[index % len(columns)].popover(f"[{citation.n}] {name}", width="stretch"):
            st.caption(f"{name} — {where(citation)}")
            st.markdown(in_context(citation.context or citation.quote, citation.quote))
            download_original(citation, f"{key}-{index}")
    for citation in citations:
        st.text(f"[{citation.n}] {citation.source.rsplit('/', 1)[-1]} — {where(citation)}: “{citation.quote}”")


def download_original(citation: Citation, key: str) -> None:
    """A download of the cited file. The bytes are read only when the user clicks, after checking their groups
    again at that moment (a group revoked since the answer takes effect), and the download is audited."""
    kura, who = get_kura(), caller()

    def fetch() -> bytes:
        return kura.download(who, citation.source, citation.chunk_id).read_bytes()

    st.download_button(
        t("download_original"), data=fetch, file_name=citation.source.rsplit("/", 1)[-1], key=key, on_click="ignore"
    )
