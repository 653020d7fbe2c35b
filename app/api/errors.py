"""Every error the API returns, in the shape OpenAI clients read: {"error": {"message", "type", "code"}}. No stack
trace ever leaves the server; the message says what happened and what to do."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from app.service import Forbidden
from retrieval import KuraError

log = logging.getLogger("kura.api")


class ApiError(Exception):
    def __init__(self, status: int, message: str, kind: str = "invalid_request_error", headers: dict | None = None):
        super().__init__(message)
        self.status, self.message, self.kind, self.headers = status, message, kind, headers or {}


def body(message: str, kind: str, code: int) -> dict:
    return {"error": {"message": message, "type": kind, "code": code}}


def install(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(body(exc.message, exc.kind, exc.status), exc.status, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'][1:])) or 'body'}: {e['msg']}" for e in exc.errors())
        return JSONResponse(body(f"the request is not valid ({problems})", "invalid_request_error", 400), 400)

    @app.exception_handler(KuraError)
    async def refused(request: Request, exc: KuraError) -> JSONResponse:
        status = 403 if isinstance(exc, Forbidden) else 400
        return JSONResponse(body(str(exc), "permission_error" if status == 403 else "kura_error", status), status)

    @app.exception_handler(Exception)
    async def failed(request: Request, exc: Exception) -> JSONResponse:
        log.exception("request failed: %s %s", request.method, request.url.path)
        message = "kura could not answer this request (an internal error, logged on the server); try again"
        return JSONResponse(body(message, "server_error", 500), 500)
