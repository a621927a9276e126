"""Local HTTP receivers on 127.0.0.1 for end-to-end tests of outbound deliveries."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    status: int

    def json(self):
        return json.loads(self.body)


@dataclass
class Receiver:
    """Records every POST; ``respond`` decides the status (and headers) of each answer."""

    respond: Callable[[Received], tuple[int, dict[str, str]]] = lambda _r: (200, {})
    requests: list[Received] = field(default_factory=list)

    def start(self, port: int = 0) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length", 0))
                record = Received(
                    self.path,
                    {k.lower(): v for k, v in self.headers.items()},
                    self.rfile.read(length),
                    0,
                )
                status, headers = receiver.respond(record)
                record.status = status
                receiver.requests.append(record)
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                body = b"ok"
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def of_type(self, event_type: str, *, status: int | None = 200) -> list[Received]:
        return [
            r
            for r in self.requests
            if r.json().get("type") == event_type and (status is None or r.status == status)
        ]
