"""The HTTP API, mounted at /v1 (app/serving.py): who is calling (app/api/access.py), then the service.

GET    /models                 kura (answers) and kura-draft (ticket replies), for OpenAI clients
POST   /chat/completions       OpenAI-compatible; streamed as SSE with `stream: true`; top-level `citations`
POST   /search                 passages only: {"hits": [...]}
GET    /documents              the documents the caller may read
POST   /drafts                 a ticket reply, as `kura draft --json`
admins:
POST   /documents              upload files (multipart), ingested in the background → a job
DELETE /documents/{id}         a document out of the index (and an uploaded original out of KURA_HOME)
POST   /sync                   re-sync a folder on the server, in the background → a job
GET    /jobs/{id}              a job's progress, then its report
GET    /docs, /openapi.json    this API described, served offline (no CDN)
"""

from pathlib import Path
from typing import Annotated

from fastapi import Depends, File, Form, Request, UploadFile
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from fastapi_offline import FastAPIOffline
from pydantic import BaseModel, Field

from app import i18n
from app.api import chat
from app.api.access import Gate
from app.api.errors import ApiError, body, install
from app.api.jobs import Jobs
from app.service import Caller, Kura
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


class SyncRequest(BaseModel):
    folder: str = Field(min_length=1, description="A folder on the server, as on the Library page.")
    groups: str | None = Field(None, description="Comma-separated groups; the default groups when absent.")
    allow_widening: bool = False


def too_large(limit: int, setting: str) -> JSONResponse:
    message = f"the request body is larger than {limit // 1024} KB ({setting}): send less"
    return JSONResponse(body(message, "invalid_request_error", 413), 413)


def create_api(kura: Kura, gate: Gate) -> FastAPIOffline:
    s = kura.settings
    app = FastAPIOffline(
        title="kura",
        summary="Private, cited answers from your documents.",
        redoc_url=None,
        swagger_ui_parameters={"validatorUrl": None},
    )  # fmt: skip  (no call to swagger.io)
    install(app)
    uploads = (s.upload_max_mb + 1) * 1024 * 1024  # an upload's own limit is checked per file, with its reason
    if s.api_cors_origins:  # off unless origins are named: no browser page elsewhere may call kura
        app.add_middleware(CORSMiddleware, allow_origins=s.api_cors_origins,
                           allow_headers=["Authorization", "Content-Type"], allow_methods=["GET", "POST", "DELETE"])  # fmt: skip

    @app.middleware("http")
    async def bounded(request: Request, call_next):
        """A body over the limit is refused before it is read: by its Content-Length, or while it streams in."""
        upload = request.url.path.endswith("/documents")
        limit, setting = (
            (uploads, "KURA_UPLOAD_MAX_MB") if upload else (s.api_max_body_kb * 1024, "KURA_API_MAX_BODY_KB")
        )
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > limit:
            return too_large(limit, setting)
        if request.method in ("POST", "PUT"):
            received = bytearray()
            async for part in request.stream():
                received += part
                if len(received) > limit:
                    return too_large(limit, setting)
            request._body = bytes(received)
        return await call_next(request)

    def caller(request: Request) -> Caller:
        return gate.admit(request.headers, request.url.path)

    Who = Annotated[Caller, Depends(caller)]
    jobs = Jobs()

    @app.get("/models")
    def models(who: Who) -> dict:
        kura.record(who, "models_listed")
        return {"object": "list", "data": [{"id": name, "object": "model", "owned_by": "kura"} for name in chat.MODELS]}

    @app.post("/chat/completions")
    def completions(request: chat.ChatRequest, who: Who):
        return chat.complete(kura, who, request)

    @app.post("/search")
    def search(request: SearchRequest, who: Who) -> dict:
        hits = [hit.to_json() for hit in kura.search(who, request.query, k=request.k, mode=request.mode)]
        shown = kura.shown_paths(hit["source"] for hit in hits)
        for hit in hits:  # where a passage is, as people see it: never the server's full path
            hit["source"] = shown[hit["source"]]
        return {"hits": hits}

    @app.get("/documents")
    def documents(who: Who) -> dict:
        records = kura.readable_documents(who)
        shown = kura.shown_paths(r.path for r in records)
        return {"documents": [{"id": r.doc_id, "title": r.title, "path": shown[r.path], "passages": r.chunks}
                              for r in records]}  # fmt: skip

    @app.post("/drafts")
    def drafts(request: DraftRequest, who: Who) -> dict:
        ticket = Ticket(request.subject, request.ticket, request.customer, request.product)
        return kura.draft(who, ticket, tone=request.tone, stream=False).response.result().to_json()

    @app.post("/documents", status_code=202)
    async def upload(
        who: Who, files: Annotated[list[UploadFile], File()], groups: Annotated[str | None, Form()] = None
    ) -> dict:
        """Files checked like the Library page's uploads (type, size, archives), then ingested in the background."""
        who.require_admin("upload documents")
        received = [(f.filename or "upload", await f.read()) for f in files]
        readers = kura.groups(groups)

        def work(progress) -> dict:
            result = kura.upload(who, received, readers, progress=progress)
            return {"rejected": [{"name": r.params.get("name"), "reason": i18n.text(r.key, "en", **r.params)}
                                 for r in result.rejected],
                    "report": result.report.to_json() if result.report else None}  # fmt: skip

        return jobs.start("upload", who.name, work).to_json()

    @app.delete("/documents/{doc_id}")
    def delete(doc_id: str, who: Who) -> dict:
        record = kura.delete_document(who, doc_id)
        if record is None:
            raise ApiError(404, f"no document {doc_id!r}: see GET /v1/documents", "not_found_error")
        return {"deleted": record.doc_id, "title": record.title}

    @app.post("/sync", status_code=202)
    def sync(request: SyncRequest, who: Who) -> dict:
        """A folder on the server brought in line with the index, as the Library page's re-sync."""
        who.require_admin("re-sync folders")
        folder = Path(request.folder).expanduser()
        if not folder.is_dir():
            raise ApiError(400, f"{request.folder} is not a folder on the server: give the folder's full path")
        readers = kura.groups(request.groups)

        def work(progress) -> dict:
            report = kura.resync(who, folder, readers, allow_widening=request.allow_widening, progress=progress)
            return {"report": report.to_json()}

        return jobs.start("sync", who.name, work).to_json()

    @app.get("/jobs/{job_id}")
    def job(job_id: str, who: Who) -> dict:
        found = jobs.get(job_id)
        if found is None or (found.user != who.name and not who.admin):  # another's job is as absent as none
            raise ApiError(404, f"no job {job_id!r}: jobs are kept while the server runs", "not_found_error")
        kura.record(who, "job_read", job=job_id, kind=found.kind, state=found.state)
        return found.to_json()

    return app
