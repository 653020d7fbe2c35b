"""There is no way into the index that skips the caller's groups.

First the code itself: every place in kura that reads passages from a store (a search, a query, a scroll) is
listed here with why it is safe, so a new one fails this test until it is reviewed. Then each public entry
point that searches (Python API, CLI, app pages, downloads, evaluation) is driven as a staff member while the
store records the scope of every read: each one carries exactly the caller's groups."""

from __future__ import annotations

import ast
import json

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest
from typer.testing import CliRunner

from app.cli import cli
from app.settings import REPO_ROOT
from app.users import User
from llm.draft import Ticket
from llm.evaluate import GoldQuestion, evaluate_qa
from retrieval import AccessScope
from retrieval.store.edge import EdgeStore
from tests.conftest import SAMPLES

PACKAGES = ("app", "ingest", "retrieval", "llm")
READS = {"search", "query", "query_points", "scroll", "retrieve", "count"}
# Every call that reads from a store or retriever, as (file, enclosing function, method) → why it is filtered.
REVIEWED = {
    ("app/cli.py", "command", "search"): "kura search: Retriever.search with kura.scope(--groups)",
    ("app/services.py", "source_file", "count"): "counts the caller's readable chunks of one source",
    ("app/health.py", "check_health", "count"): "a number for kura status, no passage text",
    ("retrieval/search.py", "store_passes", "search"): "Retriever.search → store_passes: the AccessScope it required",
    ("retrieval/evaluate.py", "run_queries", "search"): "BEIR corpora live in throwaway stores under EVAL_GROUP",
    ("retrieval/store.py", "search", "query"): "EdgeStore.search: filter built by conditions(scope)",
    ("retrieval/store.py", "count", "count"): "filter built by conditions(scope) when a scope is given",
    ("ingest/pipeline.py", "_lost_from_store", "count"): "ingest only: numbers of chunks, no passage text",
    ("retrieval/store.py", "search", "query_points"): "ServerStore.search: filter built by conditions(scope)",
    ("retrieval/store.py", "candidates", "query"): "EdgeStore.candidates: filter built by conditions(scope), ids only",
    ("retrieval/store.py", "candidates", "query_points"): "ServerStore.candidates: the same, ids only",
    ("retrieval/store.py", "candidates", "retrieve"): "dense vectors (no text) of ids the scoped query returned",
    ("llm/answer.py", "stream", "search"): "Answerer.stream: the caller's scope, required",
    ("retrieval/store.py", "scroll", "scroll"): "vectors_for (ingest only): returns dense vectors and text keys, "
    "never passage text or sources",
}
STAFF = ("staff", "everyone")


# regexes and the BM25 encoders also have .search/.query; module constants in capitals (compiled patterns) are
# never stores
NOT_STORES = {"re", "sparse", "_bm25", "analyzer"}


def calls_in(function: ast.AST):
    """Calls made by this function's own body, not by functions nested in it (those are visited on their own)."""
    stack = list(ast.iter_child_nodes(function))
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            continue
        if isinstance(node, ast.Call):
            yield node
        stack.extend(ast.iter_child_nodes(node))


def receiver(call: ast.Call) -> str:
    value = call.func.value
    return value.attr if isinstance(value, ast.Attribute) else getattr(value, "id", "")


def store_reads() -> set[tuple[str, str, str]]:
    found = set()
    for package in PACKAGES:
        for path in sorted((REPO_ROOT / package).rglob("*.py")):
            for function in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    for call in calls_in(function):
                        if (
                            isinstance(call.func, ast.Attribute)
                            and call.func.attr in READS
                            and receiver(call) not in NOT_STORES
                            and not receiver(call).lstrip("_").isupper()
                        ):
                            found.add((str(path.relative_to(REPO_ROOT)), function.name, call.func.attr))
    return found


def test_every_store_read_in_the_code_is_reviewed():
    assert store_reads() == set(REVIEWED), "a store read was added or removed: review it and update REVIEWED"


def test_searches_have_no_default_scope():
    import inspect

    from llm import Answerer
    from llm.draft import Drafter
    from retrieval import Retriever
    from retrieval.store.server import ServerStore

    for function in (
        Retriever.search,
        Answerer.stream,
        Answerer.ask,
        Drafter.stream,
        Drafter.draft,
        EdgeStore.search,
        ServerStore.search,
        EdgeStore.candidates,
        ServerStore.candidates,
    ):
        parameter = inspect.signature(function).parameters["scope"]
        assert parameter.default is inspect.Parameter.empty, f"{function.__qualname__} must not default its scope"


@pytest.fixture
def recorded(monkeypatch):
    """Every EdgeStore.search, candidates and count in this process, with the scope it was given."""
    scopes: list[AccessScope | None] = []
    search, candidates, count = EdgeStore.search, EdgeStore.candidates, EdgeStore.count

    def recording_search(self, **kwargs):
        scopes.append(kwargs["scope"])
        return search(self, **kwargs)

    def recording_candidates(self, **kwargs):
        scopes.append(kwargs["scope"])
        return candidates(self, **kwargs)

    def recording_count(self, scope=None, doc_id=None):
        scopes.append(scope)
        return count(self, scope, doc_id)

    monkeypatch.setattr(EdgeStore, "search", recording_search)
    monkeypatch.setattr(EdgeStore, "candidates", recording_candidates)
    monkeypatch.setattr(EdgeStore, "count", recording_count)
    return scopes


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    home = tmp_path_factory.mktemp("entry") / "home"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("KURA_HOME", str(home))
        assert CliRunner().invoke(cli, ["ingest", str(SAMPLES)]).exit_code == 0
    return home


def only_staff(scopes: list[AccessScope | None]) -> bool:
    return bool(scopes) and all(s is not None and s.groups == STAFF for s in scopes)


def test_python_api_entry_points_pass_the_callers_scope(home, kura, recorded):
    from app.services import Kura
    from app.settings import Settings

    instance = Kura(Settings(home=home, llm_backend="extractive", _env_file=None))
    instance.__dict__["embedder"] = kura.embedder
    staff = AccessScope(STAFF)
    try:
        instance.retriever.search("parental leave", staff)
        instance.answerer().ask("parental leave", staff)
        instance.drafter().draft(Ticket("Refund", "Can I get a refund?"), staff)
        evaluate_qa(instance.answerer(), [GoldQuestion("parental leave", "leave")], staff)
        source = next(r.path for r in instance.manifest.all())
        instance.source_file(source, staff)
    finally:
        instance.close()
    assert len(recorded) >= 5 and only_staff(recorded)


def test_cli_entry_points_pass_the_callers_scope(home, recorded, monkeypatch, tmp_path):
    monkeypatch.setenv("KURA_HOME", str(home))
    monkeypatch.setenv("KURA_LLM_BACKEND", "extractive")
    ticket = tmp_path / "ticket.txt"
    ticket.write_text("Subject: refund\n\nCan I get a refund?")
    gold = tmp_path / "gold.jsonl"
    gold.write_text(json.dumps({"question": "parental leave", "expected_source": "leave"}))
    groups = ",".join(STAFF)
    for args in (
        ["search", "leave", "--groups", groups],
        ["ask", "leave", "--groups", groups],
        ["draft", str(ticket), "--groups", groups],
        ["eval", "qa", str(gold), "--groups", groups],
    ):
        before = len(recorded)
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 0, result.output
        assert len(recorded) > before and only_staff(recorded[before:]), args


def test_app_pages_pass_the_signed_in_users_scope(home, recorded, monkeypatch):
    monkeypatch.setenv("KURA_HOME", str(home))
    monkeypatch.setenv("KURA_LLM_BACKEND", "extractive")
    st.cache_resource.clear()
    try:
        page = AppTest.from_file(str(REPO_ROOT / "app" / "main.py"), default_timeout=180)
        page.session_state["user"] = User("sam", STAFF)
        page.run()
        page.chat_input[0].set_value("How many weeks of parental leave do parents get?").run()
        page.switch_page("pages/draft.py").run()
        page.text_area(key="ticket_body").input("Can I get a refund?")
        page.button(key="make_draft").click().run()
        assert not page.exception, page.exception
    finally:
        st.cache_resource.clear()
    assert len(recorded) >= 2 and only_staff(recorded)
