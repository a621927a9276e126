"""Rate limiting, 429 handling and the request log, as a requests transport adapter.

pyairtable sends every call through ``Api.session``; mounting :class:`RateLimitedAdapter` on that
session puts the limiter, the 429 wait and the log around every request pyairtable makes (records
and Meta API alike), including the resends after a 429.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote, urlparse

import requests
from requests.adapters import HTTPAdapter


class _Slot:
    __slots__ = ("done_at",)

    def __init__(self) -> None:
        self.done_at: float | None = None


class RequestRateLimiter:
    """At most ``capacity`` requests in any window of ``window`` seconds, thread-safe.

    A token bucket whose tokens come back one window after the request that spent them has
    *finished*, not when it started. A classic bucket refilled at 5/s lets a sixth request through
    0.2 s after a burst of five, and the server, which timestamps requests on arrival, can see
    slow and fast requests bunch up; counting from the response makes "no more than 5 in any
    second at the server" hold whatever the latency.

    ``requests_per_second`` = 5 gives 5 requests per 1 s; below 1 it gives 1 request per
    ``1 / requests_per_second`` seconds.
    """

    def __init__(
        self,
        requests_per_second: float,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not requests_per_second > 0:
            raise ValueError(f"requests_per_second must be > 0, got {requests_per_second!r}")
        self.capacity = max(1, math.floor(requests_per_second))
        self.window = self.capacity / requests_per_second
        self._clock = clock
        self._slots: list[_Slot] = []
        self._paused_until = 0.0
        self._cond = threading.Condition()

    def acquire(self) -> _Slot:
        """Block until a request may start; pass the returned slot to :meth:`release`."""
        with self._cond:
            while True:
                now = self._clock()
                self._slots = [
                    s for s in self._slots if s.done_at is None or now - s.done_at < self.window
                ]
                waits = []
                if now < self._paused_until:
                    waits.append(self._paused_until - now)
                if len(self._slots) >= self.capacity:
                    finished = [s.done_at for s in self._slots if s.done_at is not None]
                    # All in flight: wait for a release to notify us.
                    waits.append(min(finished) + self.window - now if finished else None)
                if not waits:
                    slot = _Slot()
                    self._slots.append(slot)
                    return slot
                timed = [w for w in waits if w is not None]
                self._cond.wait(max(timed) if timed else None)

    def release(self, slot: _Slot) -> None:
        """Mark the request done; its token returns one window from now."""
        with self._cond:
            slot.done_at = self._clock()
            self._cond.notify_all()

    def pause(self, seconds: float) -> None:
        """Hold every request (all threads) for ``seconds``: Airtable's penalty after a 429."""
        with self._cond:
            self._paused_until = max(self._paused_until, self._clock() + seconds)
            self._cond.notify_all()


def describe_request(request: requests.PreparedRequest) -> dict[str, Any]:
    """Table, action and record count of an Airtable API request, for the sync log."""
    path = unquote(urlparse(request.url or "").path)
    parts = [p for p in path.split("/") if p][1:]  # drop the "v0" version segment
    method = (request.method or "GET").upper()
    body: dict[str, Any] = {}
    if request.body:
        try:
            raw = request.body.decode() if isinstance(request.body, bytes) else request.body
            body = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            body = {}
    records = len(body.get("records", [])) if isinstance(body, dict) else 0
    if parts[:1] == ["meta"]:
        # meta/bases/{base}/tables[/{table}/fields]
        if len(parts) >= 6 and parts[5] == "fields":
            return {
                "table": parts[4],
                "action": "create_field",
                "field": body.get("name"),
                "records": 0,
            }
        if method == "POST":
            return {"table": body.get("name"), "action": "create_table", "records": 0}
        return {"table": None, "action": "read_schema", "records": 0}
    table = parts[1] if len(parts) > 1 else None
    if method == "GET" or (len(parts) > 2 and parts[2] == "listRecords"):
        action = "list"
    elif method in ("PATCH", "PUT") and "performUpsert" in body:
        action = "upsert"
    elif method == "POST":
        action = "create"
    elif method == "DELETE":
        action = "delete"
    else:
        action = "update"
    return {"table": table, "action": action, "records": records}


class RateLimitedAdapter(HTTPAdapter):
    """Sends through a shared :class:`RequestRateLimiter`, waits out 429s, logs every attempt.

    A 429 means Airtable did not apply the request, so resending the same body is safe; every
    resend pays for its own token. After ``max_rate_limit_retries`` consecutive 429s the 429
    response is returned and the caller raises.
    """

    def __init__(
        self,
        limiter: RequestRateLimiter,
        *,
        retry_wait_seconds: float = 30.0,
        max_rate_limit_retries: int = 10,
        on_request: Callable[[dict[str, Any]], None] | None = None,
    ) -> None:
        # No urllib3 retries: they would resend behind the limiter's back.
        super().__init__(max_retries=0)
        self.limiter = limiter
        self.retry_wait_seconds = retry_wait_seconds
        self.max_rate_limit_retries = max_rate_limit_retries
        self.on_request = on_request

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        description = describe_request(request)
        attempt = 0
        while True:
            slot = self.limiter.acquire()
            started = time.monotonic()
            try:
                response = super().send(request, **kwargs)
            except requests.RequestException as exc:
                self.limiter.release(slot)
                self._log(description, request, None, started, attempt, error=repr(exc))
                raise
            self.limiter.release(slot)
            listed = self._listed_records(response) if description["action"] == "list" else None
            self._log(description, request, response.status_code, started, attempt, listed=listed)
            if response.status_code != 429 or attempt >= self.max_rate_limit_retries:
                return response
            attempt += 1
            response.close()
            self.limiter.pause(self.retry_wait_seconds)

    @staticmethod
    def _listed_records(response: requests.Response) -> int | None:
        if response.status_code != 200:
            return None
        try:
            return len(response.json().get("records", []))
        except (ValueError, AttributeError):
            return None

    def _log(
        self,
        description: dict[str, Any],
        request: requests.PreparedRequest,
        status: int | None,
        started: float,
        attempt: int,
        *,
        listed: int | None = None,
        error: str | None = None,
    ) -> None:
        if self.on_request is None:
            return
        entry = {
            "at_ms": int(time.time() * 1000),
            **description,
            "method": request.method,
            "status": status,
            "attempt": attempt,
            "elapsed_ms": round((time.monotonic() - started) * 1000, 1),
        }
        if listed is not None:
            entry["records"] = listed
        if error is not None:
            entry["error"] = error
        self.on_request(entry)
