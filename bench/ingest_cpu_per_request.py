"""Single-event ingest as CPU per request, a load-robust companion to bench_ingest.py's ratio.

On a shared, overloaded machine requests/s mostly measure how much CPU the scheduler gave the
servers. This drives the same two servers (PersonaPulse and the bare Flask 204 endpoint, both
gunicorn with 2 workers) with the same wrk script, and divides the CPU time their process trees
used (utime + stime from /proc) by the requests they answered. ``cpu_ratio`` = bare CPU per request
/ PersonaPulse CPU per request: the throughput ratio the two would reach when CPU-bound.

``--workers 1`` (not the issue's setting) runs both servers with one worker, to see what a second
writing process costs: SQLite drops a connection's page cache whenever another process has
committed, so two processes taking turns re-read the pages each write touches.

Usage: python bench/ingest_cpu_per_request.py [--seconds 4] [--workers 2]   (Linux; needs wrk)
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.bench_ingest import SERVICE_ENV, _start_bare, _wrk  # noqa: E402
from bench.scratch import scratch_dir  # noqa: E402
from tests.live_service import start_service  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")


def tree_cpu_seconds(root: int) -> float:
    children: dict[int, list[tuple[int, float]]] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            fields = Path(f"/proc/{name}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        cpu = (int(fields[11]) + int(fields[12])) / TICK
        children.setdefault(int(fields[1]), []).append((int(name), cpu))
    total, stack = 0.0, [root]
    while stack:
        for pid, cpu in children.get(stack.pop(), []):
            total += cpu
            stack.append(pid)
    return total


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=4)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers of both servers")
    args = parser.parse_args()
    workdir = scratch_dir("pp-cpu-")
    service = start_service(workdir, workers=args.workers, extra_env=SERVICE_ENV)
    bare, bare_url = _start_bare(args.workers, workdir / "bare.log")

    non_2xx = []

    def measure(url: str, pid: int, token: str = "") -> tuple[float, float]:
        before = tree_cpu_seconds(pid)
        run = _wrk(url, seconds=args.seconds, connections=args.connections, token=token)
        used = tree_cpu_seconds(pid) - before
        if token:
            non_2xx.append(run["non_2xx"])
        return run["rps"], 1e6 * used / (run["rps"] * args.seconds)

    try:
        _wrk(bare_url + "/v1/events", seconds=2, connections=args.connections)
        _wrk(
            service.base_url + "/v1/events",
            seconds=2,
            connections=args.connections,
            token=service.token,
        )
        bare_runs, real_runs = [], []
        for _ in range(2):
            bare_runs.append(measure(bare_url + "/v1/events", bare.pid))
            real_runs.append(
                measure(service.base_url + "/v1/events", service.process.pid, service.token)
            )
    finally:
        service.stop()
        bare.terminate()
        bare.wait(timeout=20)
    bare_cpu = sum(cpu for _, cpu in bare_runs) / len(bare_runs)
    real_cpu = sum(cpu for _, cpu in real_runs) / len(real_runs)
    print(
        json.dumps(
            {
                "bare_rps": round(sum(r for r, _ in bare_runs) / len(bare_runs), 1),
                "personapulse_rps": round(sum(r for r, _ in real_runs) / len(real_runs), 1),
                "bare_cpu_us_per_request": round(bare_cpu),
                "personapulse_cpu_us_per_request": round(real_cpu),
                "cpu_ratio": round(bare_cpu / real_cpu, 3),
                "personapulse_non_2xx": sum(non_2xx),
                "workers": args.workers,
                "load_average": os.getloadavg(),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
