"""Local stand-ins for the SaaS hosts n8n's native nodes call, reached through a real TLS proxy.

n8n 2.41 sends node traffic through ``HTTPS_PROXY`` (``@n8n/backend-network`` routes every
request through ``proxy-from-env``). :class:`InterceptingProxy` answers ``CONNECT slack.com:443``
and the like, terminates TLS with a certificate for that host issued by a test CA made at run time
(``trustme``; n8n trusts it through ``NODE_EXTRA_CA_CERTS``) and relays the decrypted bytes to a
plain-HTTP server on 127.0.0.1 that speaks the host's protocol: :class:`SlackWebApi` and
:class:`HubSpotApi` below, and the fake Airtable of ``tests/airtable_sync``. Hosts it does not
know are refused with 403, so nothing leaves the machine.
"""

from __future__ import annotations

import itertools
import json
import select
import socket
import socketserver
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import trustme


class InterceptingProxy(socketserver.ThreadingTCPServer):
    """An HTTP CONNECT proxy on 127.0.0.1 that terminates TLS for the hosts in ``routes``.

    ``routes`` maps a host name to the ``(host, port)`` of a plain-HTTP server on 127.0.0.1.
    ``connects`` records every CONNECT target, known or not.
    """

    allow_reuse_address = True
    daemon_threads = True

    def __init__(self, routes: dict[str, tuple[str, int]], folder: Path) -> None:
        self.routes = dict(routes)
        self.connects: list[str] = []
        self.ca = trustme.CA()
        self.ca_file = folder / "test-ca.pem"
        self.ca.cert_pem.write_to_path(str(self.ca_file))
        self.tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.ca.issue_cert(*self.routes).configure_cert(self.tls)
        super().__init__(("127.0.0.1", 0), _ProxyHandler)
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)

    def start(self) -> InterceptingProxy:
        self.thread.start()
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def stop(self) -> None:
        self.shutdown()
        self.server_close()


class _ProxyHandler(socketserver.StreamRequestHandler):
    server: InterceptingProxy

    def handle(self) -> None:
        request = self.rfile.readline(65536).decode("latin-1").split()
        while self.rfile.readline(65536) not in (b"\r\n", b"\n", b""):
            pass  # the CONNECT request's own headers
        if len(request) < 2 or request[0].upper() != "CONNECT":
            self.wfile.write(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
            return
        host = request[1].rsplit(":", 1)[0]
        self.server.connects.append(request[1])
        backend = self.server.routes.get(host)
        if backend is None:
            self.wfile.write(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
            return
        self.wfile.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        self.wfile.flush()
        try:
            client = self.server.tls.wrap_socket(self.connection, server_side=True)
        except (ssl.SSLError, OSError):
            return
        with client, socket.create_connection(backend, timeout=60) as upstream:
            _relay(client, upstream)


def _relay(a: socket.socket, b: socket.socket) -> None:
    """Copy bytes both ways until either side closes."""
    sockets = [a, b]
    while True:
        # An SSL socket can hold decrypted bytes that select() does not see.
        ready = [a] if isinstance(a, ssl.SSLSocket) and a.pending() else []
        if not ready:
            ready, _, _ = select.select(sockets, [], [], 60)
            if not ready:
                return
        for source in ready:
            target = b if source is a else a
            try:
                data = source.recv(65536)
            except (ssl.SSLError, OSError):
                return
            if not data:
                return
            target.sendall(data)


class _JsonApi:
    """A threaded HTTP server on 127.0.0.1 that records requests and answers JSON."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        api = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                parsed = urlparse(self.path)
                record = {
                    "method": self.command,
                    "path": unquote(parsed.path),
                    "query": parsed.query,
                    "headers": {k.lower(): v for k, v in self.headers.items()},
                    "body": json.loads(raw) if raw else None,
                }
                with api._lock:
                    status, answer = api.answer(record)
                    record.update(status=status, answer=answer)
                    api.requests.append(record)
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PATCH = do_PUT = _serve

            def log_message(self, *_args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def answer(self, record: dict[str, Any]) -> tuple[int, Any]:
        raise NotImplementedError

    def start(self):
        self.thread.start()
        return self

    @property
    def address(self) -> tuple[str, int]:
        return self.server.server_address[:2]

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class SlackWebApi(_JsonApi):
    """``chat.postMessage`` of Slack's Web API: bot token required, channel and text checked."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self.token = token
        self._ts = itertools.count(1)

    def answer(self, record: dict[str, Any]) -> tuple[int, Any]:
        if record["headers"].get("authorization") != f"Bearer {self.token}":
            return 200, {"ok": False, "error": "invalid_auth"}
        if record["path"] != "/api/chat.postMessage" or record["method"] != "POST":
            return 200, {"ok": False, "error": "unknown_method"}
        body = record["body"] or {}
        if not body.get("channel"):
            return 200, {"ok": False, "error": "channel_not_found"}
        if not (body.get("text") or body.get("blocks")):
            return 200, {"ok": False, "error": "no_text"}
        ts = f"1700000000.{next(self._ts):06d}"
        return 200, {
            "ok": True,
            "channel": "C0PERSONAS",
            "ts": ts,
            "message": {"type": "message", "text": body.get("text", ""), "ts": ts},
        }

    def messages(self) -> list[dict[str, Any]]:
        return [r["body"] for r in self.requests if r["answer"].get("ok")]


class HubSpotApi(_JsonApi):
    """The legacy contacts API the HubSpot node's contact upsert uses (private-app token)."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self.token = token
        self.contacts: dict[int, dict[str, Any]] = {}
        self._vids = itertools.count(1001)

    def answer(self, record: dict[str, Any]) -> tuple[int, Any]:
        if record["headers"].get("authorization") != f"Bearer {self.token}":
            return 401, {"status": "error", "message": "Authentication credentials not found"}
        parts = [p for p in record["path"].split("/") if p]
        if record["method"] == "POST" and parts[:5] == [
            "contacts",
            "v1",
            "contact",
            "createOrUpdate",
            "email",
        ]:
            email = parts[5]
            properties = {p["property"]: p["value"] for p in record["body"]["properties"]}
            for vid, contact in self.contacts.items():
                if contact["email"] == email:
                    contact["properties"].update(properties)
                    return 200, {"vid": vid, "isNew": False}
            vid = next(self._vids)
            self.contacts[vid] = {"email": email, "properties": properties}
            return 200, {"vid": vid, "isNew": True}
        if record["method"] == "GET" and parts[:4] == ["contacts", "v1", "contact", "vid"]:
            contact = self.contacts.get(int(parts[4]))
            if contact is None:
                return 404, {"status": "error", "message": "contact does not exist"}
            props = {"email": contact["email"], **contact["properties"]}
            return 200, {
                "vid": int(parts[4]),
                "properties": {k: {"value": str(v)} for k, v in props.items()},
            }
        return 404, {"status": "error", "message": f"no route {record['path']}"}
