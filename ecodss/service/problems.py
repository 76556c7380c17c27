"""Errors as RFC 7807 problem details (``application/problem+json``), never a stack trace.

Every error response has ``type``, ``title``, ``status``, ``detail`` and ``instance``; request
validation failures add ``errors`` — one ``{"field": "body.forecast.0.PM2.5", "message": ...}``
per problem, the field a dotted path into the request. An unexpected exception becomes a 500 with
an ``error_id`` that is also written to the server log, which alone holds the traceback.
"""

from __future__ import annotations

import logging
import uuid

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..errors import ConfigError, EcodssError, ModelNotFoundError
from ..errors import ValidationError as EcodssValidationError

PROBLEM_JSON = "application/problem+json"
_log = logging.getLogger("ecodss.service")

_TITLES = {400: "Bad request", 401: "Unauthorized", 403: "Forbidden", 404: "Not found",
           405: "Method not allowed", 406: "Not acceptable", 409: "Conflict",
           413: "Request body too large", 415: "Unsupported media type",
           422: "Unprocessable request", 429: "Too many requests",
           500: "Internal server error", 503: "Service unavailable"}


class Problem(Exception):
    """Raise to answer with a problem document (``status``, ``detail``, optional extras)."""

    def __init__(self, status: int, detail: str, *, title: str | None = None,
                 headers: dict | None = None, **extra):
        super().__init__(detail)
        self.status, self.detail = status, detail
        self.title = title or _TITLES.get(status, "Error")
        self.headers, self.extra = headers or {}, extra


def problem_response(request: Request | None, status: int, detail: str, *,
                     title: str | None = None, headers: dict | None = None,
                     **extra) -> JSONResponse:
    """A problem+json response; ``type`` is ``about:blank`` per RFC 7807 §4.2."""
    body = {"type": "about:blank", "title": title or _TITLES.get(status, "Error"),
            "status": status, "detail": detail,
            "instance": str(request.url.path) if request is not None else None, **extra}
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_JSON)


def field_errors(errors) -> list[dict]:
    """pydantic errors as ``{"field": "body.a.0.b", "message": ...}`` (dotted paths)."""
    return [{"field": ".".join(str(p) for p in e.get("loc", ())) or "<body>",
             "message": e.get("msg", "invalid"), "type": e.get("type", "value_error")}
            for e in errors]


def install(app: FastAPI) -> None:
    """Register the problem handlers on ``app``."""

    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem):
        return problem_response(request, exc.status, exc.detail, title=exc.title,
                                headers=exc.headers, **exc.extra)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        detail = exc.detail if isinstance(exc.detail, str) else _TITLES.get(exc.status_code, "")
        return problem_response(request, exc.status_code, detail,
                                headers=getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError):
        errors = field_errors(exc.errors())
        first = errors[0] if errors else {"field": "<body>", "message": "invalid"}
        return problem_response(request, 422, f"field {first['field']!r}: {first['message']}",
                                errors=errors)

    @app.exception_handler(ModelNotFoundError)
    async def _not_found(request: Request, exc: ModelNotFoundError):
        return problem_response(request, 404, str(exc))

    @app.exception_handler(EcodssValidationError)
    async def _ecodss_validation(request: Request, exc: EcodssValidationError):
        field = getattr(exc, "field", None)
        return problem_response(request, 422, str(exc),
                                errors=[{"field": field or "<body>", "message": str(exc),
                                         "type": type(exc).__name__}])

    @app.exception_handler(ConfigError)
    async def _config(request: Request, exc: ConfigError):
        return problem_response(request, 422, str(exc))

    @app.exception_handler(EcodssError)
    async def _ecodss(request: Request, exc: EcodssError):
        return problem_response(request, 422, str(exc))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception):
        error_id = uuid.uuid4().hex[:12]
        _log.error("unhandled error %s on %s %s", error_id, request.method, request.url.path,
                   exc_info=exc)
        return problem_response(request, 500, "the server could not complete the request; "
                                f"quote error id {error_id} to the operator", error_id=error_id)
