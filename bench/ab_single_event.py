"""Interleaved A/B of single-event ingest: another revision's service against this checkout's.

Both services (2 gunicorn workers each, the settings of ``bench_ingest.py``) and the bare Flask app
are up at once; each round drives the bare app, both services (alternating which goes first) and
the bare app again with wrk, so a slow minute on this noisy machine lands on every side of a round
instead of on one run. Reports each round's ratio to the bare app and B/A (B: this checkout), and
their medians. A change worth a few per cent shows here where separate runs of ``bench_ingest.py``
differ by more than that.

Usage: python bench/ab_single_event.py --base REVISION [--rounds 10] [--seconds 6]
The base revision is checked out with ``git worktree`` into a scratch folder (removed at exit) and
runs on this checkout's virtual environment. Needs wrk (Debian package) on PATH.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import statistics
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.bench_ingest import SERVICE_ENV, _start_bare, _wrk  # noqa: E402
from bench.scratch import scratch_dir  # noqa: E402
from tests.live_service import start_service  # noqa: E402


def _live_service_module_of(checkout: Path):
    # The base revision's own harness: it starts `personapulse serve` from its checkout.
    spec = importlib.util.spec_from_file_location(
        "base_live_service", checkout / "tests/live_service.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", required=True, help="git revision to compare against (A)")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--seconds", type=int, default=6)
    parser.add_argument("--connections", type=int, default=8)
    args = parser.parse_args()

    workdir = scratch_dir("pp-ab-")
    checkout = workdir / "base"
    subprocess.run(
        ["git", "-C", str(REPO), "worktree", "add", "--detach", "-q", str(checkout), args.base],
        check=True,
    )
    services = []
    bare = None
    try:
        base_harness = _live_service_module_of(checkout)
        service_a = base_harness.start_service(workdir / "a", workers=2, extra_env=SERVICE_ENV)
        services.append(service_a)
        service_b = start_service(workdir / "b", workers=2, extra_env=SERVICE_ENV)
        services.append(service_b)
        bare, bare_url = _start_bare(2, workdir / "bare.log")

        def drive(url: str, token: str = "") -> float:
            run = _wrk(
                url + "/v1/events",
                seconds=args.seconds,
                connections=args.connections,
                token=token,
            )
            if run["non_2xx"]:
                raise RuntimeError(f"{url} answered {run['non_2xx']} requests with non-2xx")
            return run["rps"]

        for service in services:  # warm-up: caches, the first WAL pages
            _wrk(service.base_url + "/v1/events", seconds=2, connections=8, token=service.token)
        _wrk(bare_url + "/v1/events", seconds=2, connections=8)
        rounds = []
        for number in range(args.rounds):
            order = services if number % 2 == 0 else services[::-1]
            before = drive(bare_url)
            rps = {id(service): drive(service.base_url, service.token) for service in order}
            bare_rps = (before + drive(bare_url)) / 2
            a, b = rps[id(service_a)], rps[id(service_b)]
            rounds.append({"bare": bare_rps, "a": a, "b": b})
            print(
                f"round {number}: bare {bare_rps:.0f}  A {a:.0f} ({a / bare_rps:.3f})"
                f"  B {b:.0f} ({b / bare_rps:.3f})  B/A {b / a:.3f}",
                file=sys.stderr,
                flush=True,
            )
        result = {
            "base": args.base,
            "rounds": rounds,
            "median_ratio_a": round(statistics.median(r["a"] / r["bare"] for r in rounds), 3),
            "median_ratio_b": round(statistics.median(r["b"] / r["bare"] for r in rounds), 3),
            "median_b_over_a": round(statistics.median(r["b"] / r["a"] for r in rounds), 3),
            "rounds_b_better": sum(r["b"] > r["a"] for r in rounds),
        }
        print(json.dumps(result, indent=2))
    finally:
        for service in services:
            service.stop()
        if bare is not None:
            bare.terminate()
            bare.wait()
        subprocess.run(
            ["git", "-C", str(REPO), "worktree", "remove", "--force", str(checkout)], check=False
        )


if __name__ == "__main__":
    main()
