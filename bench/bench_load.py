"""Load on the real service (gunicorn, 2 workers, SQLite) on loopback, driven by wrk. Bounded.

1. Sustained ingest: single-event POST /v1/events with ``--connections`` for ``--seconds``:
   requests/s held, p50 / p99 latency, and the status mix (all 2xx expected).
2. A 10x burst: ten times the connections for ``--burst-seconds`` with a per-key rate limit set
   to the sustained rate just measured. Reports the share answered 2xx / 429 / 503, that every 429
   and 503 carried Retry-After, and that nothing failed otherwise (other 5xx, socket errors or
   timeouts).
3. Soak: the sustained load again for ``--soak-seconds`` while the resident memory (RSS) of the
   gunicorn master and workers is sampled every few seconds; reports first / last / peak and the
   growth over the second half (flat memory: growth close to zero).

Usage: python bench/bench_load.py [--seconds 20] [--connections 4] [--burst-seconds 20]
                                  [--soak-seconds 600] [--json out.json]
Needs wrk (Debian package) on PATH. Prints the load average next to each figure.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.live_service import free_port, start_service  # noqa: E402

LATENCY = re.compile(r"^\s+(50|90|99)%\s+([\d.]+)(us|ms|s)\s*$", re.M)
STATUS = re.compile(
    r"STATUS 2xx=(\d+) 429=(\d+) 503=(\d+) other5xx=(\d+) other4xx=(\d+) no_retry_after=(\d+)"
)
SOCKET = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def wrk(url: str, token: str, *, seconds: int, connections: int, timeout_s: int = 10) -> dict:
    out = subprocess.run(
        [
            "wrk",
            "-t2",
            f"-c{connections}",
            f"-d{seconds}s",
            f"--timeout={timeout_s}s",
            "--latency",
            "-s",
            str(REPO / "bench/load_event.lua"),
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "BENCH_API_KEY": token},
    ).stdout
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}
    result = {
        "connections": connections,
        "seconds": seconds,
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        **{f"p{p}_ms": round(float(v) * scale[u], 2) for p, v, u in LATENCY.findall(out)},
        "load_average": load_average(),
    }
    codes = STATUS.search(out)
    names = ("2xx", "429", "503", "other_5xx", "other_4xx", "no_retry_after")
    result.update({name: int(v) for name, v in zip(names, codes.groups(), strict=True)})
    sockets = SOCKET.search(out)
    result["socket_errors"] = (
        dict(zip(("connect", "read", "write", "timeout"), map(int, sockets.groups()), strict=True))
        if sockets
        else {"connect": 0, "read": 0, "write": 0, "timeout": 0}
    )
    answered = (
        result["2xx"] + result["429"] + result["503"] + result["other_5xx"] + result["other_4xx"]
    )
    result["answered"] = answered
    for name in ("2xx", "429", "503"):
        result[f"share_{name}"] = round(result[name] / answered, 4) if answered else 0.0
    return result


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def rss_mb(master: int) -> float:
    total = 0
    for pid in [master, *_children(master)]:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return round(total / 1024, 1)


def soak(url: str, token: str, master: int, *, seconds: int, connections: int) -> dict:
    samples: list[tuple[float, float]] = []
    stop = threading.Event()
    started = time.monotonic()

    def sample() -> None:
        while not stop.is_set():
            samples.append((round(time.monotonic() - started, 1), rss_mb(master)))
            stop.wait(5.0)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    run = wrk(url, token, seconds=seconds, connections=connections)
    stop.set()
    sampler.join()
    samples.append((round(time.monotonic() - started, 1), rss_mb(master)))
    half = [mb for t, mb in samples if t >= seconds / 2]
    return {
        **run,
        "rss_first_mb": samples[0][1],
        "rss_last_mb": samples[-1][1],
        "rss_peak_mb": max(mb for _, mb in samples),
        "rss_second_half_growth_mb": round(half[-1] - half[0], 1) if len(half) > 1 else 0.0,
        "rss_samples": samples,
    }


def _start(path: Path, env: dict[str, str]):
    """The service, started again once if a loaded machine kept it from answering in time."""
    try:
        return start_service(path, port=free_port(), extra_env=env)
    except RuntimeError:
        return start_service(path, port=free_port(), extra_env=env)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--burst-seconds", type=int, default=20)
    parser.add_argument("--soak-seconds", type=int, default=120)
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed (apt-get install wrk)")

    results: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        # 1. Sustained, rate limits off: what the service holds.
        service = _start(Path(tmp) / "sustained", {"PERSONAPULSE_RATE_LIMIT_PER_SECOND": "0"})
        try:
            sustained = wrk(
                service.base_url, service.token, seconds=args.seconds, connections=args.connections
            )
        finally:
            service.stop()
        results["sustained"] = sustained
        print(f"sustained: {json.dumps(sustained)}", flush=True)

        # 2. Burst: 10x the connections; each worker admits the key at half the sustained rate.
        per_worker = max(1.0, sustained["rps"] / 2)
        service = _start(
            Path(tmp) / "burst",
            {
                "PERSONAPULSE_RATE_LIMIT_PER_SECOND": f"{per_worker:.1f}",
                "PERSONAPULSE_RATE_LIMIT_BURST": f"{per_worker:.0f}",
            },
        )
        try:
            burst = wrk(
                service.base_url,
                service.token,
                seconds=args.burst_seconds,
                connections=args.connections * 10,
            )
        finally:
            service.stop()
        burst["rate_limit_per_worker"] = round(per_worker, 1)
        results["burst"] = burst
        print(f"burst: {json.dumps(burst)}", flush=True)

        # 3. Soak at the sustained load, memory sampled.
        if args.soak_seconds > 0:
            service = _start(Path(tmp) / "soak", {"PERSONAPULSE_RATE_LIMIT_PER_SECOND": "0"})
            try:
                results["soak"] = soak(
                    service.base_url,
                    service.token,
                    service.process.pid,
                    seconds=args.soak_seconds,
                    connections=args.connections,
                )
            finally:
                service.stop()
            summary = {k: v for k, v in results["soak"].items() if k != "rss_samples"}
            print(f"soak: {json.dumps(summary)}", flush=True)

    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
