"""The HTTP API: who is calling (a bearer token, or the single user on localhost), then the service.

GET  /v1/models              kura (answers) and kura-draft (ticket replies), for OpenAI clients
POST /v1/chat/completions    OpenAI-compatible; streamed as SSE with `stream: true`; top-level `citations`
POST /v1/search              passages only: {"hits": [...]}
GET  /v1/documents           the documents the caller may read
POST /v1/drafts              a ticket reply, as `kura draft --json`
"""

import math
from typing import Annotated

from fastapi import Depends, FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from app.api import chat
from app.api.errors import ApiError, body, install
from app.guards import RateLimiter, is_local_request
from app.service import Caller, Kura, Via
from llm.draft import Ticket
from retrieval import SearchMode


class SearchRequest(BaseModel):
    query: str = Field(min_length=1, max_length=chat.MAX_QUESTION_CHARS)
    k: int = Field(10, ge=1, le=100)
    mode: SearchMode | None = None


class DraftRequest(BaseModel):
    ticket: str = Field(min_length=1, max_length=50_000)
    subject: str = ""
    customer: str = ""
    product: str = ""
    tone: str | None = None


def too_large(limit: int) -> JSONResponse:
    message = f"the request body is larger than {limit // 1024} KB (KURA_API_MAX_BODY_KB): send less"
    return JSONResponse(body(message, "invalid_request_error", 413), 413)


def create_app(kura: Kura) -> FastAPI:
    app = FastAPI(title="kura", summary="Private, cited answers from your documents.", docs_url=None, redoc_url=None)
    install(app)
    limit = kura.settings.api_max_body_kb * 1024
    if kura.settings.api_cors_origins:  # off unless origins are named: no browser page elsewhere may call kura
        app.add_middleware(CORSMiddleware, allow_origins=kura.settings.api_cors_origins,
                           allow_headers=["Authorization", "Content-Type"], allow_methods=["GET", "POST"])  # fmt: skip

    @app.middleware("http")
    async def bounded(request: Request, call_next):
        """A body over the limit is refused before it is read: by its Content-Length, or while it streams in."""
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > limit:
            return too_large(limit)
        if request.method in ("POST", "PUT"):
            received = bytearray()
            async for part in request.stream():
                received += part
                if len(received) > limit:
                    return too_large(limit)
            request._body = bytes(received)
        return await call_next(request)

    limiter = RateLimiter(kura.settings.rate_limit_per_minute)

    def caller(request: Request) -> Caller:
        """The token's user (single-user mode: the one local user, from localhost only), within the rate limit."""
        if kura.settings.single_user:
            if not is_local_request(request.headers):
                raise ApiError(403, "this personal kura (KURA_SINGLE_USER) answers requests to localhost only")
            who = Caller.of(kura.single_user(), Via.API)
        else:
            scheme, _, token = request.headers.get("authorization", "").partition(" ")
            who = kura.caller_for_token(token.strip()) if scheme.lower() == "bearer" else None
            if who is None:
                raise ApiError(401, "a valid bearer token is needed: an admin creates one with `kura tokens create "
                               "USER`; send it as `Authorization: Bearer TOKEN`", "authentication_error")  # fmt: skip
        wait = limiter.allow(who.token or who.name)
        if wait:
            kura.rate_limited(who, request.url.path)
            raise ApiError(429, f"too many requests: try again in {math.ceil(wait)} s (KURA_RATE_LIMIT_PER_MINUTE)",
                           "rate_limit_error", {"Retry-After": str(math.ceil(wait))})  # fmt: skip
        return who

    Who = Annotated[Caller, Depends(caller)]

    @app.get("/v1/models")
    def models(who: Who) -> dict:
        return {"object": "list", "data": [{"id": name, "object": "model", "owned_by": "kura"} for name in chat.MODELS]}

    @app.post("/v1/chat/completions")
    def completions(request: chat.ChatRequest, who: Who):
        return chat.complete(kura, who, request)

    @app.post("/v1/search")
    def search(request: SearchRequest, who: Who) -> dict:
        hits = [hit.to_json() for hit in kura.search(who, request.query, k=request.k, mode=request.mode)]
        shown = kura.shown_paths(hit["source"] for hit in hits)
        for hit in hits:  # where a passage is, as people see it: never the server's full path
            hit["source"] = shown[hit["source"]]
        return {"hits": hits}

    @app.get("/v1/documents")
    def documents(who: Who) -> dict:
        records = kura.readable_documents(who)
        shown = kura.shown_paths(r.path for r in records)
        return {"documents": [{"id": r.doc_id, "title": r.title, "path": shown[r.path], "passages": r.chunks}
                              for r in records]}  # fmt: skip

    @app.post("/v1/drafts")
    def drafts(request: DraftRequest, who: Who) -> dict:
        ticket = Ticket(request.subject, request.ticket, request.customer, request.product)
        return kura.draft(who, ticket, tone=request.tone, stream=False).response.result().to_json()

    return app
