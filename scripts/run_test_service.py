"""Run a real PersonaPulse service with small demo data for the Zapier and n8n suites.

Prints one JSON line ``{"base_url", "api_key", "read_only_key"}`` on stdout, then serves until
stdin closes or SIGTERM / SIGINT arrives, and stops the service. Hooks may target http on
127.0.0.1 and retry quickly, so a test can receive deliveries on a local port.

Usage: .venv/bin/python scripts/run_test_service.py [--workdir DIR]
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import tempfile
import threading
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.live_service import start_service  # noqa: E402

TEST_ENV = {
    "PERSONAPULSE_ALLOW_HTTP_HOOKS": "true",
    "PERSONAPULSE_ALLOW_PRIVATE_HOOK_TARGETS": "true",
    "PERSONAPULSE_HOOK_RETRY_SCHEDULE": "0.5,0.5,0.5",
}


def _wait_for_stop() -> None:
    """Block until stdin reaches end of file or a termination signal arrives."""
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())

    def read_stdin() -> None:
        # Reading to the end: the parent closing our stdin (or dying) means stop.
        for _ in sys.stdin:
            pass
        stop.set()

    threading.Thread(target=read_stdin, daemon=True).start()
    stop.wait()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, help="where the SQLite file and logs go")
    args = parser.parse_args(argv)
    temporary = None
    if args.workdir is None:
        temporary = tempfile.TemporaryDirectory(prefix="personapulse-test-service-")
        workdir = Path(temporary.name)
    else:
        workdir = args.workdir
    service = start_service(workdir, extra_env=TEST_ENV)
    try:
        service.cli(
            "demo",
            "--users",
            "300",
            "--seed",
            "4",
            "--no-key",
            "--answers",
            str(workdir / "answers.csv"),
        )
        service.cli("refresh")
        read_only_key = service.cli("keys", "create", "--name", "ro", "--scopes", "read")
        line = {
            "base_url": service.base_url,
            "api_key": service.token,
            "read_only_key": read_only_key.strip().splitlines()[-1],
        }
        print(json.dumps(line), flush=True)
        _wait_for_stop()
    finally:
        service.stop()
        if temporary is not None:
            temporary.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
