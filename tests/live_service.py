"""Start the real service under gunicorn on a free loopback port, for end-to-end tests.

Used by the pytest fixtures and by scripts/run_test_service.py (which the Zapier and n8n suites call).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import requests

from tests.databases import database_url_for

REPO = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _cli(*args: str, env: dict[str, str]) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "personapulse.cli", *args],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    return result.stdout


@dataclass
class LiveService:
    base_url: str
    token: str
    database_url: str
    process: subprocess.Popen
    env: dict[str, str]
    log_path: Path

    def cli(self, *args: str) -> str:
        return _cli(*args, env=self.env)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def child_pids(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (gunicorn's workers, for its master)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid …: comm may hold spaces, so split after the last ')'.
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry.name))
    return found


def start_service(
    workdir: Path,
    *,
    workers: int = 2,
    extra_env: dict[str, str] | None = None,
    port: int | None = None,
    serve_args: tuple[str, ...] = (),
) -> LiveService:
    workdir.mkdir(parents=True, exist_ok=True)
    database_url = database_url_for(workdir)
    env = {
        **os.environ,
        "PERSONAPULSE_DATABASE_URL": database_url,
        "PERSONAPULSE_WORKER_POLL_SECONDS": "0.2",
        # Tests decide when personas are refreshed (a test of the schedule turns it on).
        "PERSONAPULSE_REFRESH_EVERY_HOURS": "0",
        "PERSONAPULSE_REFRESH_CRON": "off",
        **(extra_env or {}),
    }
    token = _cli("keys", "create", "--name", "e2e", env=env).strip().splitlines()[-1]
    port = port or free_port()
    log_path = workdir / "gunicorn.log"
    with log_path.open("w") as log_file:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "personapulse.cli",
                "serve",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                str(workers),
                *serve_args,
            ],
            env=env,
            cwd=REPO,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the service exited early:\n{log_path.read_text()}")
        try:
            if requests.get(f"{base_url}/healthz", timeout=10).status_code == 200:
                return LiveService(base_url, token, database_url, process, env, log_path)
        except requests.RequestException:
            # Not listening yet, or a worker still booting on a busy machine.
            pass
        time.sleep(0.2)
    process.kill()
    process.wait(timeout=10)
    raise RuntimeError(f"the service did not become healthy:\n{log_path.read_text()}")
