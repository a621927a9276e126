"""A local OpenAI-compatible chat-completions server for tests (127.0.0.1, a thread).

It speaks ``POST /v1/chat/completions`` with the real response shape and answers from a script:
each queued reply is ``(status, content, delay_seconds)``; when the queue is empty it answers
``default_content``. Every request body is kept in ``requests`` so tests can count and inspect.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    status: int = 200
    content: str | None = None
    delay: float = 0.0


@dataclass
class ServerState:
    default_content: str = "{}"
    replies: deque[Reply] = field(default_factory=deque)
    requests: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def completion_body(content: str, model: str) -> dict[str, Any]:
    """The JSON of a chat completion as OpenAI returns it."""
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content, "refusal": None},
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }


def _handler(state: ServerState) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
            pass

        def _send(self, status: int, payload: dict[str, Any]) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            # The client may have given up already (timeout tests).
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.wfile.write(data)

        def do_POST(self) -> None:
            if self.path.rstrip("/") != "/v1/chat/completions":
                self._send(404, {"error": {"message": "not found", "type": "invalid_request"}})
                return
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            with state.lock:
                state.requests.append(body)
                reply = state.replies.popleft() if state.replies else None
            reply = reply or Reply(content=state.default_content)
            if reply.delay:
                time.sleep(reply.delay)
            if reply.status != 200:
                self._send(
                    reply.status,
                    {"error": {"message": "scripted failure", "type": "server_error"}},
                )
                return
            content = reply.content if reply.content is not None else state.default_content
            self._send(200, completion_body(content, str(body.get("model", ""))))

    return Handler


class FakeLLMServer:
    """Context manager: ``with FakeLLMServer() as server: server.base_url``."""

    def __init__(self) -> None:
        self.state = ServerState()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self.state))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    @property
    def requests(self) -> list[dict[str, Any]]:
        return self.state.requests

    def answer(self, content: str | dict) -> None:
        """Answer every following request with ``content`` (a dict is sent as JSON)."""
        self.state.default_content = content if isinstance(content, str) else json.dumps(content)

    def queue(self, *replies: Reply) -> None:
        self.state.replies.extend(replies)

    def reset(self) -> None:
        with self.state.lock:
            self.state.requests.clear()
            self.state.replies.clear()

    def __enter__(self) -> FakeLLMServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
