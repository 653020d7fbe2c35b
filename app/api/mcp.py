"""kura's MCP endpoint (/mcp, streamable HTTP, the official `mcp` SDK): three read-only tools an agent can pick
from their descriptions: search the passages, fetch a whole document, or ask for a cited answer. The same bearer
token as the API names the caller; every tool runs the same service use case, under that caller's groups, audited
as coming through MCP."""

from __future__ import annotations

from typing import Any

import anyio
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import ToolAnnotations
from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.routing import Route
from typing_extensions import TypedDict

from app.api import chat
from app.api.access import Gate
from app.api.errors import ApiError, body
from app.service import Caller, Kura, Via
from retrieval import KuraError

READ_ONLY = ToolAnnotations(readOnlyHint=True, openWorldHint=False)
INSTRUCTIONS = (
    "kura searches the company's internal documents that the token's user may read and answers with citations. "
    "Use `ask` for a question a person would ask; `search` to find passages yourself; `fetch` to read a whole "
    "document found by `search`."
)


class Passage(TypedDict):
    id: str
    title: str
    source: str
    page: int | None
    heading: str
    text: str


class Document(TypedDict):
    id: str
    title: str
    source: str
    text: str


class Cited(TypedDict):
    answer: str
    abstained: bool
    citations: list[dict]


class GatedMcp:
    """The MCP transport behind the API's door: a request without a valid token is refused with the API's JSON
    error before MCP reads it. (The rate limit counts tool calls, not the protocol's own requests.)"""

    def __init__(self, inner, gate: Gate) -> None:
        self.inner, self.gate = inner, gate

    async def __call__(self, scope, receive, send) -> None:
        try:
            self.gate.identify(Headers(scope=scope), Via.MCP)
        except ApiError as refused:
            await JSONResponse(body(refused.message, refused.kind, refused.status), refused.status,
                               headers=refused.headers)(scope, receive, send)  # fmt: skip
            return
        await self.inner(scope, receive, send)


def create_mcp(kura: Kura, gate: Gate, host: str) -> tuple[Route, MCPServer]:
    """The /mcp route and its server (whose session manager the serving process runs)."""
    server = MCPServer("kura", instructions=INSTRUCTIONS)

    async def run_as_caller(ctx: Context, tool: str, use_case) -> Any:
        try:
            who: Caller = gate.admit(ctx.headers or {}, f"/mcp {tool}", Via.MCP)
            return await anyio.to_thread.run_sync(use_case, who)
        except ApiError as refused:
            raise ToolError(refused.message) from None
        except KuraError as refused:  # Forbidden included: the same words as for a document that is not there
            raise ToolError(str(refused)) from None

    @server.tool(annotations=READ_ONLY)
    async def search(query: str, ctx: Context, k: int = 8) -> list[Passage]:
        """Search the documents you may read for passages about `query` (any wording; a question works). Returns
        up to `k` (1-50) passages, best first, each with the document `id` (give it to `fetch` to read the whole
        document), `title`, `source` (where the document is), `page`/`heading` when known, and the passage `text`."""

        def run(who: Caller) -> list[Passage]:
            hits = kura.search(who, chat.question(query), k=max(1, min(k, 50)))
            shown = kura.shown_paths(hit.chunk.source for hit in hits)
            return [{"id": h.chunk.doc_id, "title": h.chunk.title, "source": shown[h.chunk.source],
                     "page": h.chunk.page, "heading": h.chunk.heading, "text": h.chunk.text} for h in hits]  # fmt: skip

        return await run_as_caller(ctx, "search", run)

    @server.tool(annotations=READ_ONLY)
    async def fetch(id: str, ctx: Context) -> Document:  # noqa: A002 - the name agents expect for this tool
        """Read a whole document by the `id` a `search` result gave. Returns its `title`, `source` and full `text`.
        A document you may not read is reported exactly like one that does not exist."""

        def run(who: Caller) -> Document:
            first, text = kura.read_document(who, id)
            return {"id": id, "title": first.title, "source": kura.shown_paths([first.source])[first.source],
                    "text": text}  # fmt: skip

        return await run_as_caller(ctx, "fetch", run)

    @server.tool(annotations=READ_ONLY)
    async def ask(question: str, ctx: Context) -> Cited:
        """Ask a question about the company's documents and get kura's answer, grounded in the documents you may
        read, with numbered `citations` (title, source, page, heading and the exact quoted passage). When the
        documents do not answer it, `abstained` is true and the answer says so: do not guess beyond it."""

        def run(who: Caller) -> Cited:
            answer = kura.ask(who, chat.question(question), stream=False, keep=False).response.result()
            return {
                "answer": answer.answer,
                "abstained": answer.abstained,
                "citations": chat.citations(answer.citations),
            }

        return await run_as_caller(ctx, "ask", run)

    app = server.streamable_http_app(streamable_http_path="/mcp", stateless_http=True, host=host)
    transport = next(route for route in app.routes if getattr(route, "path", None) == "/mcp")
    return Route("/mcp", endpoint=GatedMcp(transport.endpoint, gate), methods=["GET", "POST", "DELETE"]), server
