"""One JSON error shape for every failure the service answers with.

{"error": {"status": 422, "code": "invalid_fields", "message": "…",
           "fields": [{"field": "rating", "reason": "must be between 1 and 5", "index": 3}]}}
"""

from __future__ import annotations

import logging

from flask import Flask, jsonify, request
from pydantic import ValidationError
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        fields: list[dict] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.fields = fields or []
        self.headers = headers or {}


def error_body(status: int, code: str, message: str, fields: list[dict] | None = None) -> dict:
    error = {"status": status, "code": code, "message": message}
    if fields:
        error["fields"] = fields
    return {"error": error}


def pydantic_fields(exc: ValidationError) -> list[dict]:
    """Pydantic's errors as [{field, reason}] with dotted paths an operator can follow."""
    return [
        {"field": ".".join(str(p) for p in err["loc"]) or "(body)", "reason": err["msg"]}
        for err in exc.errors(include_url=False)
    ]


def invalid_fields(fields: list[dict], message: str = "some fields are invalid") -> ApiError:
    return ApiError(422, "invalid_fields", message, fields=fields)


# Codes for the HTTP errors Werkzeug raises on its own (routing, size limit …).
_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
}


# SQLite's OperationalError also covers mistakes in our own SQL; those stay 500s.
_PROGRAMMING_MISTAKES = ("no such table", "no such column", "syntax error", "has no column")


def database_unavailable(exc: Exception) -> bool:
    """Is ``exc`` the store being busy or out of reach (retry later), not a bug of ours?

    SQLite: the write lock not released within the busy timeout ("database is locked"), a file that
    cannot be opened, an I/O error. Server databases: a refused or dropped connection, a full pool.
    """
    if isinstance(exc, PoolTimeout):
        return True
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    if isinstance(exc, OperationalError):
        message = str(exc.orig if exc.orig is not None else exc).lower()
        return not any(mistake in message for mistake in _PROGRAMMING_MISTAKES)
    return False


def init_app(app: Flask) -> None:
    @app.before_request
    def _refuse_nul_in_url():
        # PostgreSQL text cannot hold U+0000: refused in a path or query alike on every backend.
        if "\x00" in request.path or b"%00" in request.query_string.lower():
            where = "path" if "\x00" in request.path else "query"
            raise invalid_fields(
                [
                    {
                        "field": where,
                        "reason": "contains a NUL character (U+0000), which no field accepts",
                    }
                ]
            )

    @app.errorhandler(ApiError)
    def _api_error(exc: ApiError):
        response = jsonify(error_body(exc.status, exc.code, exc.message, exc.fields))
        response.status_code = exc.status
        response.headers.update(exc.headers)
        return response

    from personapulse.services.personas import NoPersonas

    @app.errorhandler(NoPersonas)
    def _no_personas(exc: NoPersonas):
        # Any view that needs personas before the first refresh answers the same way.
        response = jsonify(error_body(404, "no_personas", str(exc)))
        response.status_code = 404
        return response

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        status = exc.code or 500
        message = exc.description or exc.name
        if status == 413:
            limit = app.config.get("MAX_CONTENT_LENGTH")
            message = f"the request body is larger than the limit of {limit} bytes"
        response = jsonify(error_body(status, _HTTP_CODES.get(status, "http_error"), message))
        response.status_code = status
        return response

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        if database_unavailable(exc):
            # Backpressure: nothing was written (the transaction rolled back whole); the sender
            # retries after Retry-After and the service needs no manual step to recover.
            log.warning("database unavailable: %s", str(getattr(exc, "orig", exc))[:200])
            retry_after = str(app.config.get("RETRY_AFTER_SECONDS", 2))
            response = jsonify(
                error_body(
                    503,
                    "unavailable",
                    "the database is busy or unreachable; nothing was stored, retry after "
                    f"{retry_after} s",
                )
            )
            response.status_code = 503
            response.headers["Retry-After"] = retry_after
            return response
        log.exception("unhandled error")
        response = jsonify(
            error_body(500, "internal_error", "an unexpected error occurred; it was logged")
        )
        response.status_code = 500
        return response
