"""kura as an MCP server: an official `mcp` client session against the real `kura serve` at /mcp, with the same
bearer token as the API. An agent sees three read-only tools whose descriptions say when to use each; `search` finds
passages with the id `fetch` reads whole; `ask` answers with citations or abstains. A staff token gets nothing of a
board document through any tool, not even by guessing its id, and a call without a token never reaches MCP."""

from __future__ import annotations

import asyncio

import httpx
import httpx2
import pytest
from mcp.client.session import ClientSession
from mcp.client.streamable_http import streamable_http_client

from tests.app.conftest import SECRET

pytestmark = pytest.mark.slow  # a real server process


def session(server, user: str, calls):
    """Run `calls(session)` in an MCP session as `user` → what it returns."""
    url, tokens, *_ = server

    async def run():
        headers = {"Authorization": f"Bearer {tokens[user]}"}
        async with (
            httpx2.AsyncClient(headers=headers, timeout=120) as http,
            streamable_http_client(f"{url}/mcp", http_client=http) as (read, write, *_),
            ClientSession(read, write) as opened,
        ):
            await opened.initialize()
            return await calls(opened)

    return asyncio.run(run())


def test_an_agent_sees_three_read_only_tools_that_say_when_to_use_them(server):
    async def calls(s):
        return (await s.list_tools()).tools

    tools = {tool.name: tool for tool in session(server, "sam", calls)}
    assert set(tools) == {"search", "fetch", "ask"}
    assert all(tool.annotations.read_only_hint for tool in tools.values())
    assert "fetch" in tools["search"].description and "abstained" in tools["ask"].description


def test_search_finds_passages_fetch_reads_the_whole_document_and_ask_cites(server):
    async def calls(s):
        found = (await s.call_tool("search", {"query": "parental leave weeks", "k": 3})).structured_content["result"]
        document = (await s.call_tool("fetch", {"id": found[0]["id"]})).structured_content
        answer = (await s.call_tool("ask", {"question": "How many weeks of parental leave?"})).structured_content
        nothing = await s.call_tool("ask", {"question": "What is the boiling point of nitrogen on Neptune?"})
        return found, document, answer, nothing.structured_content

    found, document, answer, nothing = session(server, "sam", calls)
    assert found[0]["source"] == "library/samples/policies/leave-and-time-off.md", "relative, never a server path"
    assert "16 weeks" in document["text"] and "## Sick Days" in document["text"], "the whole document, once"
    assert document["text"].count("16 weeks of fully paid parental leave") == 1, "overlapping passages are joined"
    assert "16 weeks" in answer["answer"] and answer["citations"][0]["quote"] and not answer["abstained"]
    assert nothing["abstained"] and nothing["citations"] == []


def test_a_staff_token_gets_nothing_of_a_board_document_through_any_tool(server):
    async def board_id(s):
        return (await s.call_tool("search", {"query": "board minutes Hoshi Trading"})).structured_content["result"]

    [minutes, *_] = [hit for hit in session(server, "rin", board_id) if hit["source"].endswith("minutes.md")]

    async def calls(s):
        seen = [await s.call_tool("search", {"query": q}) for q in (SECRET, "board minutes Hoshi Trading")]
        seen.append(await s.call_tool("ask", {"question": "What did the board approve about Hoshi Trading?"}))
        guessed = await s.call_tool("fetch", {"id": minutes["id"]})
        missing = await s.call_tool("fetch", {"id": "0" * 32})
        return seen, guessed, missing

    seen, guessed, missing = session(server, "sam", calls)
    said = " ".join(str(result) for result in [*seen, guessed])
    assert SECRET not in said and "Hoshi" not in said and "minutes.md" not in said
    assert guessed.is_error and missing.is_error
    assert guessed.content[0].text.replace(minutes["id"], "ID") == missing.content[0].text.replace("0" * 32, "ID"), (
        "refused exactly like a document that does not exist"
    )


def test_without_a_token_mcp_is_never_reached(server):
    url, *_ = server
    refused = httpx.post(f"{url}/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"})
    assert refused.status_code == 401 and refused.json()["error"]["type"] == "authentication_error"


def test_every_tool_call_is_audited_as_coming_through_mcp(server):
    from app.audit import AuditLog

    _, _, home, _ = server

    async def calls(s):
        return await s.call_tool("search", {"query": "refund policy"})

    session(server, "sam", calls)
    entry = AuditLog(home / "audit.jsonl").read(action="search")[0]
    assert entry["user"] == "sam" and entry["via"] == "mcp" and entry["token"].endswith(" test")
