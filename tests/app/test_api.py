"""kura as a service: a real `kura serve` on a loopback port, used with the official `openai` client and plain
HTTP. A token acts as its user (groups, audit); chat answers carry their citations, streamed or not; follow-ups,
abstentions, search, documents and drafts work; bad requests get a clear 4xx and the server keeps serving; a staff
token never receives a byte of a board-only document."""

from __future__ import annotations

import httpx
import pytest
from openai import OpenAI

from tests.app.conftest import SECRET

pytestmark = pytest.mark.slow  # a real server process


def client(server, user: str) -> OpenAI:
    url, tokens, *_ = server
    return OpenAI(base_url=f"{url}/v1", api_key=tokens[user], max_retries=0)


def test_the_openai_client_asks_and_gets_the_answer_with_its_citations(server):
    reply = client(server, "sam").chat.completions.create(
        model="kura", messages=[{"role": "user", "content": "How many weeks of parental leave do parents get?"}]
    )
    assert "16 weeks" in reply.choices[0].message.content
    [first, *_] = reply.model_extra["citations"]
    assert first["source"] == "leave-and-time-off.md" and "16 weeks" in first["quote"] and first["n"] == 1
    assert [m.id for m in client(server, "sam").models.list()] == ["kura", "kura-draft"]


def test_a_streamed_answer_arrives_in_chunks_and_the_last_carries_the_citations(server):
    stream = client(server, "sam").chat.completions.create(
        model="kura",
        messages=[
            {"role": "user", "content": "How many weeks of parental leave do parents get?"},
            {"role": "assistant", "content": "16 weeks."},
            {"role": "user", "content": "Can it be split?"},
        ],
        stream=True,
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert len(chunks) > 2 and "blocks" in text, "the follow-up was searched with the question it follows"
    assert chunks[-1].choices[0].finish_reason == "stop" and chunks[-1].model_extra["citations"]


def test_an_abstention_is_a_normal_answer_without_citations(server):
    reply = client(server, "sam").chat.completions.create(
        model="kura", messages=[{"role": "user", "content": "What is the boiling point of nitrogen on Neptune?"}]
    )
    assert reply.model_extra["abstained"] and reply.model_extra["citations"] == []


def test_search_documents_and_drafts(server):
    url, tokens, *_ = server
    headers = {"Authorization": f"Bearer {tokens['sam']}"}
    hits = httpx.post(f"{url}/v1/search", json={"query": "refund", "k": 3}, headers=headers).json()["hits"]
    assert hits and all(not hit["source"].startswith("/") for hit in hits), "no server paths"
    documents = httpx.get(f"{url}/v1/documents", headers=headers).json()["documents"]
    assert "library/samples/support/refunds-and-billing.md" in {d["path"] for d in documents}, "relative to its root"
    draft = httpx.post(f"{url}/v1/drafts", json={"ticket": "Kumo Sync is stuck on Preparing", "customer": "Mei"},
                       headers=headers, timeout=60).json()  # fmt: skip
    assert draft["reply"].startswith("Hello Mei,") and draft["citations"]


def test_no_token_or_a_bad_one_is_refused_and_every_call_is_audited_with_its_token(server):
    url, _, home, _ = server
    for headers in ({}, {"Authorization": "Bearer kura_not-a-token"}, {"Authorization": "Basic c2FtOnNhbQ=="}):
        refused = httpx.get(f"{url}/v1/models", headers=headers)
        assert refused.status_code == 401 and refused.json()["error"]["type"] == "authentication_error"
    from app.audit import AuditLog

    entry = AuditLog(home / "audit.jsonl").read(action="search")[0]
    assert entry["user"] == "sam" and entry["via"] == "api" and entry["token"].endswith(" test")


def test_bad_requests_get_a_clear_4xx_and_the_server_keeps_serving(server):
    url, tokens, *_ = server
    headers = {"Authorization": f"Bearer {tokens['sam']}", "Content-Type": "application/json"}
    chat = f"{url}/v1/chat/completions"
    cases = {
        "{not json": 400,
        '{"model": "kura", "messages": "hello"}': 400,
        '{"model": "kura", "messages": []}': 400,
        '{"model": "kura", "messages": [{"role": "user", "content": ""}]}': 400,
        '{"model": "gpt-4", "messages": [{"role": "user", "content": "hi"}]}': 404,
        '{"model": "kura", "messages": [{"role": "user", "content": "' + "x" * 1_000_000 + '"}]}': 413,
    }
    for payload, status in cases.items():
        response = httpx.post(chat, content=payload, headers=headers, timeout=60)
        assert response.status_code == status, (payload[:60], response.text[:200])
        assert response.json()["error"]["message"] and "Traceback" not in response.text
    chunked = httpx.post(chat, content=(b"x" * 65536 for _ in range(8)), headers=headers, timeout=60)
    assert chunked.status_code == 413 and "KURA_API_MAX_BODY_KB" in chunked.text, "a streamed body is bounded too"
    assert httpx.get(f"{url}/v1/models", headers=headers).status_code == 200
    assert (
        "access-control-allow-origin"
        not in httpx.options(
            chat, headers={"Origin": "http://evil.example", "Access-Control-Request-Method": "POST"}
        ).headers
    ), "no CORS by default"


def test_a_staff_token_never_receives_a_byte_of_a_board_document(server):
    url, tokens, *_ = server
    staff = {"Authorization": f"Bearer {tokens['sam']}"}
    for question in (SECRET, "What did the board approve about Hoshi Trading?", "board minutes acquisition"):
        seen = [
            httpx.post(f"{url}/v1/search", json={"query": question}, headers=staff).text,
            httpx.post(f"{url}/v1/chat/completions", headers=staff, timeout=60,
                       json={"model": "kura", "messages": [{"role": "user", "content": question}]}).text,
            httpx.post(f"{url}/v1/drafts", json={"ticket": question}, headers=staff, timeout=60).text,
        ]  # fmt: skip
        seen.append(httpx.get(f"{url}/v1/documents", headers=staff).text)
        assert not any(SECRET in s or "Hoshi" in s or "minutes.md" in s for s in seen), question
    board = client(server, "rin").chat.completions.create(
        model="kura", messages=[{"role": "user", "content": "What did the board approve about Hoshi Trading?"}]
    )
    assert SECRET in board.choices[0].message.content, "the board member does get it"
