"""Reading request bodies at the view boundary: content type, JSON, pydantic validation."""

from __future__ import annotations

import re
from typing import Any, TypeVar

import orjson
from flask import request
from pydantic import BaseModel, ValidationError

from webhooks.errors import ApiError, invalid_fields, pydantic_fields

Model = TypeVar("Model", bound=BaseModel)
# A JSON string escape for U+0000 (not preceded by an escaped backslash).
_JSON_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")


def refuse_nul(body: bytes) -> None:
    """422 for a body carrying U+0000: PostgreSQL text cannot hold it, so no backend accepts it."""
    if b"\x00" in body or (b"\\u0000" in body and _JSON_NUL.search(body)):
        raise invalid_fields(
            [
                {
                    "field": "body",
                    "reason": "contains a NUL character (U+0000), which no field accepts",
                }
            ]
        )


def require_content_type(*allowed: str) -> str:
    """Return the request's media type, or answer 415 naming the accepted ones."""
    media_type = (request.mimetype or "").lower()
    if media_type not in allowed:
        raise ApiError(
            415,
            "unsupported_media_type",
            f"send the body as {' or '.join(allowed)} (got {media_type or 'no content type'})",
        )
    return media_type


def json_body() -> Any:
    """The decoded JSON body (orjson: fast, strict UTF-8, bounded nesting); 400 when malformed."""
    require_content_type("application/json")
    return decode_json_body()


def decode_json_body() -> Any:
    """:func:`json_body` for a view that has checked the content type itself."""
    raw = request.get_data(cache=True)
    if not raw.strip():
        raise ApiError(400, "bad_request", "the request body is empty; send a JSON document")
    refuse_nul(raw)
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ApiError(400, "bad_request", f"the body is not valid JSON: {exc}") from exc


def validated(model: type[Model]) -> Model:
    """The JSON body validated by ``model``; 422 naming each invalid field."""
    payload = json_body()
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        raise invalid_fields(pydantic_fields(exc)) from exc


def int_arg(name: str, default: int | None, low: int, high: int) -> int | None:
    """The whole-number query parameter ``name`` (``default`` when absent); 422 outside low..high."""
    raw = request.args.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise invalid_fields(
            [{"field": name, "reason": f"must be a whole number from {low} to {high}"}]
        )
    return int(raw)
