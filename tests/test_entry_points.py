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
from app.service import Caller
from app.settings import REPO_ROOT
from app.users import User
from llm.draft import Ticket
from llm.evaluate import GoldQuestion, evaluate_qa
from retrieval import AccessScope
from retrieval.store.edge import EdgeStore
from tests.conftest import SAMPLES

PACKAGES = ("app", "ingest", "retrieval", "llm")
# what reads passages: the stores' engine calls, Store's own engine primitives, and the service's use cases
READS = {
    "search",
    "query",
    "query_points",
    "scroll",
    "retrieve",
    "count",
    "_query",
    "_scroll",
    "_count",
    "_retrieve",
    "_page",
    "every_chunk",
    "every_id",
    "kept_vectors",
    "kept_payloads",
    "nearest_ids",
    "present",
    "ask",
    "stream",
    "draft",
    "eval_qa",
    "passages",
    "read_document",
}
# Every call that reads from a store or retriever, as (file, enclosing function, method) → why it is filtered.
REVIEWED = {
    # front ends: each passes the service a Caller, whose scope() is the only scope the service searches with
    ("app/cli/reading.py", "search.command", "search"): "kura search: the service's search, Caller from --groups",
    ("app/cli/reading.py", "ask.command.asking", "ask"): "kura ask: the service's ask, Caller from --groups",
    ("app/cli/reading.py", "draft.command", "draft"): "kura draft: the service's draft, Caller from --groups",
    ("app/cli/library.py", "eval_qa.command", "eval_qa"): "kura eval qa: the service's eval_qa, Caller from --groups",
    ("app/api/chat.py", "complete", "ask"): "POST /v1/chat/completions: the service's ask, the token's Caller",
    ("app/api/chat.py", "complete", "draft"): "model kura-draft: the service's draft, the token's Caller",
    ("app/api/server.py", "create_api.search", "search"): "POST /v1/search: the service's search, the token's Caller",
    ("app/api/server.py", "create_api.drafts", "draft"): "POST /v1/drafts: the service's draft, the token's Caller",
    ("app/api/mcp.py", "create_mcp.search.run", "search"): "MCP search: the service's search, the token's Caller",
    ("app/api/mcp.py", "create_mcp.fetch.run", "read_document"): "MCP fetch: the service's read, the token's Caller",
    ("app/api/mcp.py", "create_mcp.ask.run", "ask"): "MCP ask: the service's ask, the token's Caller",
    ("app/views/ask.py", "answer", "ask"): "Ask page: the service's ask, the signed-in user's Caller",
    ("app/views/draft.py", "make_draft", "draft"): "Draft page: the service's draft, the signed-in user's Caller",
    ("app/views/evaluate.py", "<module>", "eval_qa"): "Evaluate page (admins): the signed-in user's Caller",
    # the service: every read goes through caller.scope()
    ("app/service/answers.py", "Answers.ask", "stream"): "Answerer.stream with caller.scope(sources)",
    ("app/service/answers.py", "Answers.draft", "stream"): "Drafter.stream with caller.scope()",
    ("app/service/answers.py", "Answers.search", "search"): "Retriever.search with caller.scope(sources)",
    ("app/service/answers.py", "Answers.download", "count"): "counts the caller's readable chunks of one source",
    ("app/service/answers.py", "Answers.read_document", "passages"): "Store.passages with caller.scope()",
    ("app/service/finetune.py", "Finetune._readable", "passages"): "training data: Store.passages with the "
    "exporting admin's caller.scope(); an example with a passage they cannot read is left out",
    ("app/service/finetune.py", "Finetune.compare_drafts", "stream"): "Drafter.stream with the admin's caller.scope()",
    ("app/service/admin.py", "Admin.status", "count"): "a number for kura status, no passage text",
    ("app/service/conversations.py", "Conversations.conversation", "count"): "the caller's readable chunks of each "
    "source a kept answer cites: an answer citing what they may no longer read is hidden",
    # answers and retrieval: the scope is a required parameter all the way down
    ("llm/answer.py", "Answerer._search", "search"): "Answerer.stream: the caller's scope, required, for each query",
    ("llm/answer.py", "Answerer.ask", "stream"): "the same scope, passed on",
    ("llm/draft.py", "Drafter._steps", "stream"): "Drafter.stream: the caller's scope, required",
    ("llm/draft.py", "Drafter.draft", "stream"): "the same scope, passed on",
    ("llm/evaluate.py", "evaluate_qa", "ask"): "the scope evaluate_qa requires",
    (
        "retrieval/search.py",
        "Retriever.store_passes",
        "search",
    ): "Retriever.search → store_passes: the AccessScope it required",
    ("retrieval/evaluate.py", "run_queries", "search"): "BEIR corpora live in throwaway stores under EVAL_GROUP",
    ("ingest/pipeline.py", "Ingestor._lost_from_store", "count"): "ingest only: numbers of chunks, no passage text",
    # the store: filters.build(scope=...) is the one place access filters are made
    ("retrieval/store/base.py", "Store.search", "_query"): "filter built by filters.build(scope)",
    ("retrieval/store/base.py", "Store.candidates", "_query"): "filter built by filters.build(scope), ids only",
    (
        "retrieval/store/base.py",
        "Store.candidates",
        "_retrieve",
    ): "dense vectors (no text) of ids the scoped query returned",
    # the second stage: vectors and numbers only; the passages a caller sees still come from the scoped search
    ("retrieval/second_stage.py", "VectorRescorer.rerank", "nearest_ids"): "the strong model's own search, "
    "narrowed by the caller's scope on a copy of each passage's access; it gives ids only",
    ("retrieval/second_stage.py", "VectorRescorer.rerank", "kept_vectors"): "strong vectors (no text) of the hits "
    "the caller's scoped reads returned: it re-orders them, never adds one",
    ("retrieval/search.py", "Retriever.search.fetch", "search"): "the second stage's ids read from the index with "
    "the caller's AccessScope: the index decides, a stale copy of access shows nothing",
    ("retrieval/second_stage.py", "Upgrade.run_once", "every_chunk"): "upkeep: every passage's text becomes a "
    "vector in a store that holds no text; nothing is shown to anyone",
    ("retrieval/second_stage.py", "Upgrade._bring_up_to_date", "kept_payloads"): "upkeep: which chunks have a vector",
    ("retrieval/second_stage.py", "Upgrade._forget_gone", "every_id"): "upkeep: ids of kept vectors",
    ("retrieval/second_stage.py", "Upgrade._forget_gone", "present"): "upkeep: which of them are still indexed",
    ("retrieval/second_stage.py", "Upgrade.progress", "count"): "numbers for kura status",
    ("retrieval/store/base.py", "Store.kept_vectors", "_retrieve"): "vectors and payloads of given ids, no text",
    ("retrieval/store/base.py", "Store.present", "_retrieve"): "ids only",
    ("retrieval/store/base.py", "Store.kept_payloads", "_retrieve"): "text keys and access copies of given ids",
    ("retrieval/store/base.py", "Store.nearest_ids", "_query"): "filter built by filters.build(scope), ids only",
    ("retrieval/store/base.py", "Store.every_chunk", "_page"): "upkeep only (the upgrade above), never searched",
    ("retrieval/store/base.py", "Store.every_id", "_page"): "ids only",
    ("retrieval/store/base.py", "Store.count", "_count"): "filter built by filters.build(scope) when a scope is given",
    ("retrieval/store/base.py", "Store.made_by_others", "_count"): "a number for kura status and search's hint",
    ("retrieval/store/base.py", "Store.passages", "_count"): "filter built by filters.build(scope, …) it requires",
    ("retrieval/store/base.py", "Store.passages", "_scroll"): "the same filter",
    (
        "retrieval/store/base.py",
        "Store.vectors_for",
        "_scroll",
    ): "ingest only: dense vectors and text keys, never passage text",
    ("retrieval/store/edge.py", "EdgeStore._query", "query"): "carries out the filtered request it is given",
    ("retrieval/store/edge.py", "EdgeStore._count", "count"): "the same",
    ("retrieval/store/edge.py", "EdgeStore._scroll", "scroll"): "the same",
    ("retrieval/store/edge.py", "EdgeStore._retrieve", "retrieve"): "the same",
    ("retrieval/store/edge.py", "EdgeStore._page", "scroll"): "the same",
    ("retrieval/store/server.py", "ServerStore._query", "query_points"): "the same",
    ("retrieval/store/server.py", "ServerStore._count", "count"): "the same",
    ("retrieval/store/server.py", "ServerStore._scroll", "scroll"): "the same",
    ("retrieval/store/server.py", "ServerStore._retrieve", "retrieve"): "the same",
    ("retrieval/store/server.py", "ServerStore._page", "scroll"): "the same",
}
STAFF = ("staff", "everyone")


# regexes and the BM25 encoders also have .search/.query; module constants in capitals (compiled patterns) are
# never stores
# request/httpx.stream(): HTTP bodies; _engine.query(): multilingual-e5 embedding a question
NOT_STORES = {"re", "sparse", "_bm25", "analyzer", "request", "httpx", "_engine"}


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


def functions(tree: ast.AST, outer: str = ""):
    """Every function with its qualified name: `search.command` is the closure of the `search` command, so a new
    command's closure is a new name, and `Store.search` is told from `Retriever.search`."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            name = f"{outer}.{node.name}" if outer else node.name
            if not isinstance(node, ast.ClassDef):
                yield name, node
            yield from functions(node, name)
        else:
            yield from functions(node, outer)


def store_reads() -> set[tuple[str, str, str]]:
    found = set()
    for package in PACKAGES:
        for path in sorted((REPO_ROOT / package).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for name, function in [("<module>", tree), *functions(tree)]:  # a page runs at module level
                for call in calls_in(function):
                    if (
                        isinstance(call.func, ast.Attribute)
                        and call.func.attr in READS
                        and receiver(call) not in NOT_STORES
                        and not receiver(call).lstrip("_").isupper()
                    ):
                        found.add((str(path.relative_to(REPO_ROOT)), name, call.func.attr))
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
    from app.service import Kura
    from app.settings import Settings

    instance = Kura(Settings(home=home, llm_backend="extractive", _env_file=None))
    instance.__dict__["embedder"] = kura.embedder
    staff = AccessScope(STAFF)
    try:
        instance.retriever.search("parental leave", staff)
        instance.answerer().ask("parental leave", staff)
        instance.drafter().draft(Ticket("Refund", "Can I get a refund?"), staff)
        evaluate_qa(instance.answerer(), [GoldQuestion("parental leave", "leave")], staff)
        sam = Caller("sam", STAFF)
        instance.search(sam, "parental leave")
        instance.ask(sam, "parental leave").response.result()
        instance.draft(sam, Ticket("Refund", "Can I get a refund?")).response.result()
        source = next(r.path for r in instance.manifest.all())
        instance.download(sam, source)
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
        page.switch_page("views/draft.py").run()
        page.text_area(key="ticket_body").input("Can I get a refund?")
        page.button(key="make_draft").click().run()
        assert not page.exception, page.exception
    finally:
        st.cache_resource.clear()
    assert len(recorded) >= 2 and only_staff(recorded)
