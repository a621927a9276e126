"""gunicorn, embedded: ``personapulse serve`` runs the Flask face under it with our settings."""

from __future__ import annotations

import contextlib
import gc
import logging
import mmap
import os
import time
import traceback
from collections import Counter
from collections.abc import Callable
from typing import Any

from gunicorn.app.base import BaseApplication
from gunicorn.config import AccessLogFormat
from gunicorn.glogging import Logger
from gunicorn.http import wsgi as gunicorn_wsgi
from gunicorn.workers.gthread import ThreadWorker


def _quoted(value: Any) -> str:
    # What gunicorn's SafeAtoms does to each atom before "%s" formats it.
    return value.replace('"', '\\"') if isinstance(value, str) else str(value)


class ScrubbingLogger(Logger):
    """gunicorn's logger with emails pseudonymised and API secrets cut from every line (access
    log included: a path such as /v1/users/ann@example.com never reaches the log raw).

    With gunicorn's default access-log format, a line is built from the nine atoms it names
    instead of gunicorn's table of every atom, header and environ variable (a third of the cost of
    logging a request); the line is the same, and it passes through the same handlers and filters.
    """

    _now: tuple[int, str] = (0, "")

    def setup(self, cfg) -> None:
        super().setup(cfg)
        from personapulse import privacy

        privacy.install(os.environ.get("PERSONAPULSE_PII_KEY"), self.error_log, self.access_log)

    def now(self) -> str:
        second = int(time.time())
        cached = self._now
        if cached[0] != second:
            cached = self._now = (second, super().now())
        return cached[1]

    def access(self, resp, req, environ, request_time) -> None:
        if self.cfg.access_log_format != AccessLogFormat.default:
            super().access(resp, req, environ, request_time)
            return
        log = self.access_log
        if not self.access_log_enabled or not log.isEnabledFor(logging.INFO):
            return
        try:
            status = resp.status
            if isinstance(status, str):
                status = status.split(None, 1)[0]
            sent = getattr(resp, "sent", None)
            user = self._get_user(environ) if "HTTP_AUTHORIZATION" in environ else None
            request_line = (
                f"{environ['REQUEST_METHOD']} {environ['RAW_URI']} {environ['SERVER_PROTOCOL']}"
            )
            # '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s"'
            line = (
                f"{_quoted(environ.get('REMOTE_ADDR', '-'))} - {_quoted(user or '-')} {self.now()}"
                f' "{_quoted(request_line)}" {_quoted(status)}'
                f" {_quoted(str(sent)) if sent is not None and str(sent) else '-'}"
                f' "{_quoted(environ.get("HTTP_REFERER", "-"))}"'
                f' "{_quoted(environ.get("HTTP_USER_AGENT", "-"))}"'
            )
            # What Logger.info does, less the walk up the stack for a caller no format shows.
            log.handle(log.makeRecord(log.name, logging.INFO, "(unknown file)", 0, line, (), None))
        except Exception:
            self.error(traceback.format_exc())


GC_YOUNG_THRESHOLD = 50_000


def relax_gc() -> None:
    """Collect the young generation once per 50,000 allocations instead of 700.

    Ingestion allocates many objects but seldom cycles (refcounting frees them): at the default
    threshold a 10,000-event batch sets off collections that each walk every event parsed so far,
    costing more than the parsing. A pass per 50,000 allocations still collects any cycle soon.
    """
    gc.set_threshold(GC_YOUNG_THRESHOLD, *gc.get_threshold()[1:])


class _Application(BaseApplication):
    def __init__(self, load_app: Callable[[], Any], options: dict[str, Any]) -> None:
        self._load_app = load_app
        self._options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            self.cfg.set(key, value)

    def load(self):
        app = self._load_app()
        # Everything the app holds once loaded (modules, the engine, pandas, scikit-learn …) lives as
        # long as the worker: move it out of the collector's sight, so a full collection (which a
        # 10,000-event batch sets off) walks only the objects requests create. Garbage first, so none
        # is frozen with it.
        gc.collect()
        gc.freeze()
        relax_gc()
        return app


def least_held_cpu(cpus: list[int], held: list[int | None]) -> int:
    """The CPU of ``cpus`` that fewest entries of ``held`` name (the lowest on a tie)."""
    counts = Counter(held)
    return min(cpus, key=lambda cpu: (counts[cpu], cpu))


# In the connection table: a free slot, or a worker not accepting (still loading the app, or
# stopping). Never the fewest, so no sibling leaves a connection to it.
NO_WORKER = 2**31 - 1


class WorkerPlacement:
    """Where gunicorn's workers run, and the table they share their connection counts in.

    Made in the master before it forks, so every worker shares the table (anonymous shared
    memory, one int per slot). Its methods are gunicorn's ``pre_fork`` (master: a slot and a CPU
    for the new worker), ``post_fork`` (worker: pin it) and ``child_exit`` (master: free the slot)
    hooks; :class:`BalancedThreadWorker` reads and writes the table.
    """

    SLOTS = 64

    def __init__(self, *, pin: bool) -> None:
        self.pin = pin
        self._memory = mmap.mmap(-1, 4 * self.SLOTS)
        self.connections = memoryview(self._memory).cast("i")
        for slot in range(self.SLOTS):
            self.connections[slot] = NO_WORKER

    def pre_fork(self, server, worker) -> None:
        siblings = list(server.WORKERS.values())
        taken = {getattr(sibling, "pp_slot", None) for sibling in siblings}
        worker.pp_slot = next((slot for slot in range(self.SLOTS) if slot not in taken), None)
        worker.pp_connections = self.connections
        if worker.pp_slot is not None:
            # Not counted until it accepts: loading the app can take seconds on a busy machine,
            # and siblings would meanwhile defer each new connection to it in vain.
            self.connections[worker.pp_slot] = NO_WORKER
        cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
        worker.pp_cpu = (
            least_held_cpu(cpus, [getattr(sibling, "pp_cpu", None) for sibling in siblings])
            if self.pin and len(cpus) >= 2
            else None
        )

    def post_fork(self, server, worker) -> None:
        """Keep this worker, and the threads it starts, on its CPU.

        A worker's threads hand the GIL and the write lock to each other several times a request
        (every SQLite call releases the GIL). Spread over several CPUs, each hand-off wakes a
        thread on another core: measured in-process, two threads then spend 1.65 times the CPU per
        request of one thread, and 1.03 times when both share a core. Python runs one thread of a
        process at a time anyway; the workers, spread over the CPUs, still use them all. What is
        given up: numpy's threads in a worker that refits personas (``--jobs``) share its CPU.
        """
        cpu = getattr(worker, "pp_cpu", None)
        if cpu is not None:
            with contextlib.suppress(OSError):  # e.g. the CPU left the cgroup's set meanwhile
                os.sched_setaffinity(0, {cpu})

    def child_exit(self, server, worker) -> None:
        slot = getattr(worker, "pp_slot", None)
        if slot is not None:
            self.connections[slot] = NO_WORKER


class OneSendResponse(gunicorn_wsgi.Response):
    """gunicorn's HTTP/1 response, sending the head and a whole body of known length in one send.

    gunicorn writes the head, then the body: with TCP_NODELAY that is two segments and two
    wake-ups of the client for a 150-byte JSON answer. A body written in one piece whose length is
    the Content-Length (what Flask returns) leaves with its head here; anything else (chunked,
    streamed, no body, a file) takes gunicorn's path unchanged.
    """

    def write(self, arg):
        if (
            self.headers_sent
            or self.chunked
            or getattr(self, "_omits_body", False)  # gunicorn >= 27: HEAD, 1xx, 204, 304
            or type(arg) is not bytes
            or not arg
            or len(arg) != self.response_length
        ):
            super().write(arg)
            return
        # The head exactly as Response.send_headers renders it (tests compare the two).
        lines = self.default_headers()
        lines.extend([f"{name}: {value}\r\n" for name, value in self.headers])
        head = ("".join(lines) + "\r\n").encode("latin-1")
        self.headers_sent = True
        self.sent += len(arg)
        self.sock.sendall(head + arg)


class BalancedThreadWorker(ThreadWorker):
    """gunicorn's gthread worker that leaves a new connection to a sibling holding fewer.

    gunicorn's workers share the listening socket and whichever wakes first accepts, so a client
    opening its connections at once (wrk, a pool in n8n) can land them all on one worker, which
    then serves them from one core while the other idles. Here a worker that holds more
    connections than its least-loaded sibling stops accepting for up to ``ACCEPT_DEFER_S``: the
    sibling, woken by the same connection, takes it. If nobody has when the time is up (a sibling
    busy or stuck), this worker accepts what is waiting after all. A worker counts from its first
    turn of accepting until it stops; one loading the app or stopping is never waited for.
    """

    ACCEPT_DEFER_S = 0.2
    RECHECK_S = 0.005

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._accept_deferred_until: float | None = None

    def init_process(self) -> None:
        # gthread builds HTTP/1 responses with gunicorn's wsgi.create, which takes the module's
        # Response unless told otherwise (only HTTP/2 is): in this worker process, ours.
        gunicorn_wsgi.Response = OneSendResponse
        super().init_process()

    def _publish(self) -> None:
        slot = getattr(self, "pp_slot", None)
        if slot is not None:
            # A stopping worker accepts no more: it must not look like the one to leave them to.
            self.pp_connections[slot] = self.nr_conns if self.alive else NO_WORKER

    def _behind(self) -> bool:
        slot = getattr(self, "pp_slot", None)
        return slot is not None and self.nr_conns > min(self.pp_connections)

    def accept(self, listener) -> None:
        if self._behind():
            self._accept_deferred_until = time.monotonic() + self.ACCEPT_DEFER_S
            self.set_accept_enabled(False)
            return
        super().accept(listener)
        self._publish()

    def set_accept_enabled(self, enabled: bool) -> None:
        # run() re-enables accepting on every turn of its loop; not while a deferral runs.
        if enabled and self._accept_deferred_until is not None:
            enabled = False
        super().set_accept_enabled(enabled)

    def wait_for_and_dispatch_events(self, timeout: float) -> None:
        self._publish()  # connections closed since the last turn
        deferred_until = self._accept_deferred_until
        if deferred_until is not None and (not self.alive or not self._behind()):
            # A sibling caught up (or this worker's connections closed): accept again now. A
            # stopping worker only drops the deferral (its run() has stopped accepting).
            deferred_until = self._accept_deferred_until = None
            if self.alive:
                self.set_accept_enabled(self.nr_conns < self.worker_connections)
        if deferred_until is not None:
            # Look again soon: siblings' counts change without waking this worker.
            timeout = min(timeout, self.RECHECK_S, max(deferred_until - time.monotonic(), 0.0))
        super().wait_for_and_dispatch_events(timeout)
        if deferred_until is not None and time.monotonic() >= deferred_until:
            self._accept_deferred_until = None
            if self.alive:
                self._accept_waiting()

    def _accept_waiting(self) -> None:
        """Accept the connections no sibling took during the deferral (none: nothing happens).

        A sibling that let them wait that long is busy or stuck: take all, not one per deferral.
        """
        for listener in self.sockets:
            while self.nr_conns < self.worker_connections:
                before = self.nr_conns
                super().accept(listener)  # non-blocking: nothing waiting is EAGAIN, ignored
                if self.nr_conns == before:
                    break
        self._publish()


def gunicorn_options(
    *,
    bind: str,
    workers: int,
    threads: int,
    timeout: int,
    access_log: bool = True,
    pin_workers: bool = True,
) -> dict:
    """The one set of gunicorn settings the service runs with (the benchmark reuses it).

    Workers take new connections in turn (:class:`BalancedThreadWorker`). ``pin_workers``: each
    worker stays on one CPU, the workers spread over the CPUs (Linux with two or more CPUs; see
    :meth:`WorkerPlacement.post_fork`). Call it in the process that becomes gunicorn's master.
    """
    placement = WorkerPlacement(pin=pin_workers)
    return {
        "bind": bind,
        "workers": workers,
        "threads": threads,
        "worker_class": BalancedThreadWorker,
        "timeout": timeout,
        "graceful_timeout": 20,
        "accesslog": "-" if access_log else None,
        # Longer than common clients' idle timeouts (Node 20: 5 s), so they never reuse a closing socket.
        "keepalive": 30,
        "logger_class": ScrubbingLogger,
        "pre_fork": placement.pre_fork,
        "post_fork": placement.post_fork,
        "child_exit": placement.child_exit,
    }


def run_gunicorn(load_app: Callable[[], Any], options: dict[str, Any]) -> None:
    """Serve the WSGI app returned by ``load_app`` (called in each worker) until stopped."""
    _Application(load_app, options).run()


def serve_personapulse(settings: dict[str, Any], **options: Any) -> None:
    def load():
        from webhooks import create_app

        return create_app(settings)

    run_gunicorn(load, gunicorn_options(**options))
