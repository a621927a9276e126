"""A local stand-in for a Slack incoming webhook (127.0.0.1 only).

Speaks the incoming-webhook protocol: POST a JSON body, get ``200 ok`` (text/html); bad JSON or a
body with neither ``text`` nor ``blocks`` gets ``400 invalid_payload`` / ``no_text``. Queue
``rate_limit(n)`` to answer the next n POSTs with ``429 rate_limited`` and ``Retry-After: 1``, and
``fail(n)`` to answer them with ``500`` (an outage). ``port`` fixes the port (a restart test).
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class SlackReceiver:
    def __init__(self, port: int = 0) -> None:
        self.received: list[tuple[float, dict]] = []  # (monotonic arrival time, payload)
        self.attempts: list[tuple[float, int]] = []  # (arrival, status answered)
        self._rate_limited = 0
        self._failing = 0
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server naming
                length = int(self.headers.get("Content-Length", 0))
                raw = self.rfile.read(length)
                arrived = time.monotonic()
                with receiver._lock:
                    failing = receiver._failing > 0
                    if failing:
                        receiver._failing -= 1
                    limited = not failing and receiver._rate_limited > 0
                    if limited:
                        receiver._rate_limited -= 1
                if failing:
                    receiver.attempts.append((arrived, 500))
                    self._answer(500, "internal_error")
                    return
                if limited:
                    receiver.attempts.append((arrived, 429))
                    self._answer(429, "rate_limited", {"Retry-After": "1"})
                    return
                try:
                    payload = json.loads(raw)
                except ValueError:
                    receiver.attempts.append((arrived, 400))
                    self._answer(400, "invalid_payload")
                    return
                if not payload.get("text") and not payload.get("blocks"):
                    receiver.attempts.append((arrived, 400))
                    self._answer(400, "no_text")
                    return
                receiver.attempts.append((arrived, 200))
                receiver.received.append((arrived, payload))
                self._answer(200, "ok")

            def _answer(self, status, body, headers=None):
                data = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(data)))
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):  # keep test output quiet
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/services/T000/B000/XXXX"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def rate_limit(self, times: int = 1) -> None:
        with self._lock:
            self._rate_limited += times

    def fail(self, times: int = 1) -> None:
        with self._lock:
            self._failing += times

    def __enter__(self) -> SlackReceiver:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(5)
