"""kura's web app: sign in, then Ask, Draft a reply, Status, and for admins Library, Evaluate and Audit log.

Presentation only: every page goes through app.services, like the CLI. Who may see what is decided by the
signed-in user's groups, which every search is filtered by."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from app import i18n
from app.guards import is_local_request
from app.ui import get_kura, language, rate_limiter, t, user
from app.users import User, user_from_claims
from retrieval import KuraError

# Not "pages": a folder of that name next to main.py is listed by Streamlit, by file name, before navigation runs.
PAGES = Path(__file__).with_name("views")
LOGIN_ATTEMPTS_PER_MINUTE = 10


def oidc_configured() -> bool:
    """st.login needs an [auth] section in .streamlit/secrets.toml (Keycloak, Entra ID, Google Workspace…)."""
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets file at all
        return False


def sign_in_locally(kura) -> User | None:
    if not kura.users.names():
        st.info(t("no_users"))
        return None
    with st.form("login"):
        name = st.text_input(t("user_name"), key="login_name")
        password = st.text_input(t("password"), type="password", key="login_password")
        submitted = st.form_submit_button(t("sign_in"))
    if not submitted:
        return None
    wait = rate_limiter(LOGIN_ATTEMPTS_PER_MINUTE).allow(f"login:{name}")
    if wait:
        st.error(t("login_throttled", seconds=wait))
        return None
    signed_in = kura.sign_in(name, password)
    if signed_in is None:
        st.error(t("login_failed"))
    return signed_in


def sign_in(kura) -> User | None:
    """The user of this session: single-user mode, an OIDC login, or the local users file."""
    s = kura.settings
    if s.single_user:
        return kura.single_user()
    if oidc_configured():
        if not st.user.get("is_logged_in", False):
            st.button(t("sign_in_sso"), on_click=st.login)
            return None
        identity = user_from_claims(st.user.to_dict(), s.oidc_groups_claim, s.admin_groups, s.default_groups)
        return kura.signed_in_elsewhere(identity, "oidc")
    return sign_in_locally(kura)


def sign_out() -> None:
    st.session_state.clear()
    if oidc_configured():
        st.logout()


def sidebar() -> None:
    with st.sidebar:
        choice = st.radio(
            t("language"),
            list(i18n.LANGUAGES),
            format_func=i18n.LANGUAGES.get,
            horizontal=True,
            index=list(i18n.LANGUAGES).index(language()),
        )
        if choice != st.session_state["language"]:
            st.session_state["language"] = choice
            st.rerun()
        st.caption(t("signed_in_as", name=user().name))
        st.caption(t("groups_label", groups=", ".join(user().groups)))
        if not get_kura().settings.single_user:
            st.button(t("sign_out"), on_click=sign_out)


def main() -> None:
    st.set_page_config(page_title="kura", page_icon=":material/warehouse:", layout="wide")
    try:
        kura = get_kura()
    except KuraError as exc:
        st.error(t("store_unavailable", error=exc))
        st.stop()
    if kura.settings.single_user and not is_local_request(st.context.headers):
        st.error(t("foreign_host"))
        st.stop()
    if "user" not in st.session_state:
        st.title("kura 蔵")
        st.caption(t("tagline"))
        signed_in = sign_in(kura)
        if signed_in is None:
            st.stop()
        st.session_state["user"] = signed_in
        st.session_state.pop("language", None)  # the user's own language preference now applies
        st.rerun()
    sidebar()
    pages = [
        st.Page(PAGES / "ask.py", title=t("page_ask"), icon=":material/chat:", default=True),
        st.Page(PAGES / "draft.py", title=t("page_draft"), icon=":material/mail:"),
    ]
    if user().admin:
        pages += [
            st.Page(PAGES / "library.py", title=t("page_library"), icon=":material/library_books:"),
            st.Page(PAGES / "evaluate.py", title=t("page_evaluate"), icon=":material/rule:"),
            st.Page(PAGES / "audit.py", title=t("page_audit"), icon=":material/receipt_long:"),
        ]
    pages.append(st.Page(PAGES / "status.py", title=t("page_status"), icon=":material/monitor_heart:"))
    st.navigation(pages).run()


main()
