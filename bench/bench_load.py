"""Load on the real service (gunicorn, 2 workers, SQLite) on loopback, driven by wrk. Bounded.

1. Sustained ingest: single-event POST /v1/events with ``--connections`` for ``--seconds``:
   requests/s held, p50 / p99 latency, and the status mix (all 2xx expected).
2. A 10x burst: ten times the connections for ``--burst-seconds`` with a per-key rate limit set
   to the sustained rate just measured. Reports the share answered 2xx / 429 / 503, that every 429
   and 503 carried Retry-After, and that nothing failed otherwise (other 5xx, socket errors or
   timeouts).
2b. Sustained batch ingest: ``--batch-senders`` connections post 10,000-event Segment batches back
   to back for ``--batch-seconds``: events/s over the whole run and over each 10-second window
   (the lowest window is what was *held*), batch latency p50 / p99, against the foundation's
   target of 50,000 events/s. Every batch must be stored whole.
3. Soak: the sustained load again for ``--soak-seconds`` while the resident memory (RSS) of the
   gunicorn master and workers is sampled every few seconds; reports first / last / peak and the
   growth over the second half (flat memory: growth close to zero).

Usage: python bench/bench_load.py [--seconds 20] [--connections 4] [--burst-seconds 20]
                                  [--batch-seconds 60] [--batch-senders 4]
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

from tests.live_service import child_pids, free_port, start_service  # noqa: E402

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


def rss_mb(master: int) -> float:
    total = 0
    for pid in [master, *child_pids(master)]:
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


BATCH_TARGET_EVENTS_PER_S = 50_000
BATCH_SIZE = 10_000
WINDOW_S = 10


def _worker_cpu_seconds(master: int) -> dict[int, float]:
    tick = os.sysconf("SC_CLK_TCK")
    cpu = {}
    for pid in child_pids(master):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        cpu[pid] = (int(fields[11]) + int(fields[12])) / tick
    return cpu


def sustained_batches(url: str, token: str, master: int, *, seconds: int, senders: int) -> dict:
    """Post distinct 10,000-event batches from ``senders`` connections until ``seconds`` pass.

    The service's workers take new connections in turn (``BalancedThreadWorker``); the CPU each
    worker used is reported beside the rate, to show the senders were served by all of them (with
    plain gthread, every keep-alive connection could land on one worker, parsing on one core).
    """
    import requests

    from bench.bench_ingest import _batch

    cpu_before = _worker_cpu_seconds(master)
    headers = {"X-API-Key": token, "Content-Type": "application/json"}
    # One body, its ids made distinct per batch by a byte replace: building 10,000 events per batch
    # in this process would take CPU from the service on a small machine.
    template = _batch(BATCH_SIZE, "TAG")
    done: list[tuple[float, float]] = []  # (finished at, latency), seconds since start
    failures: list[str] = []
    lock = threading.Lock()
    started = time.monotonic()
    deadline = started + seconds

    def send(sender: int) -> None:
        with requests.Session() as session:
            sequence = 0
            while time.monotonic() < deadline and not failures:
                body = template.replace(b'"TAG-', f'"load-{sender}-{sequence}-'.encode())
                sequence += 1
                sent = time.monotonic()
                answer = session.post(f"{url}/v1/events", data=body, headers=headers, timeout=120)
                finished = time.monotonic()
                if answer.status_code != 200 or answer.json()["accepted"] != BATCH_SIZE:
                    with lock:
                        failures.append(f"{answer.status_code} {answer.text[:300]}")
                    return
                with lock:
                    done.append((finished - started, finished - sent))

    threads = [threading.Thread(target=send, args=(k,)) for k in range(senders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    cpu_after = _worker_cpu_seconds(master)
    worker_cpu = sorted(
        (round(cpu_after[pid] - cpu_before.get(pid, 0.0), 1) for pid in cpu_after), reverse=True
    )
    elapsed = max((at for at, _ in done), default=seconds)
    windows = []
    for start in range(0, int(elapsed // WINDOW_S) * WINDOW_S, WINDOW_S):
        stored = sum(1 for at, _ in done if start <= at < start + WINDOW_S)
        windows.append(round(stored * BATCH_SIZE / WINDOW_S))
    latencies = sorted(latency for _, latency in done)

    def percentile(p: float) -> float:
        return round(1000 * latencies[min(len(latencies) - 1, int(p * len(latencies)))], 1)

    return {
        "senders": senders,
        "batch_size": BATCH_SIZE,
        "seconds": round(elapsed, 1),
        "batches": len(done),
        "events_per_s": round(len(done) * BATCH_SIZE / elapsed) if done else 0,
        "window_events_per_s": windows,
        "lowest_window_events_per_s": min(windows) if windows else 0,
        "target_events_per_s": BATCH_TARGET_EVENTS_PER_S,
        "batch_p50_ms": percentile(0.50) if latencies else None,
        "batch_p99_ms": percentile(0.99) if latencies else None,
        "failures": failures[:3],
        "worker_cpu_seconds": worker_cpu,
        "load_average": load_average(),
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
    parser.add_argument("--batch-seconds", type=int, default=60)
    parser.add_argument("--batch-senders", type=int, default=4)
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

        # 2b. Sustained batch ingest at the foundation's target rate.
        if args.batch_seconds > 0:
            service = _start(
                Path(tmp) / "batches",
                # Jobs on, polling at the production interval (the test harness polls 5x as often).
                {
                    "PERSONAPULSE_RATE_LIMIT_PER_SECOND": "0",
                    "PERSONAPULSE_WORKER_POLL_SECONDS": "1.0",
                },
            )
            try:
                batches = sustained_batches(
                    service.base_url,
                    service.token,
                    service.process.pid,
                    seconds=args.batch_seconds,
                    senders=args.batch_senders,
                )
                if service.database_url.startswith("sqlite:///"):
                    # Whether the WAL checkpointer kept up: the WAL's size once the run ends.
                    wal = Path(service.database_url.removeprefix("sqlite:///") + "-wal")
                    batches["wal_mb_at_end"] = (
                        round(wal.stat().st_size / 2**20, 1) if wal.exists() else 0.0
                    )
            finally:
                service.stop()
            results["sustained_batches"] = batches
            print(f"sustained batches: {json.dumps(batches)}", flush=True)

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
