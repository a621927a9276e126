"""Schemathesis against /openapi.json of the real service: every operation, no 5xx, responses that
match their schema. Bounded for CI (``SCHEMATHESIS_EXAMPLES`` cases per operation, default 5, about
200 cases); the bigger run is ``python bench/bench_fuzz.py``.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from tests.live_service import start_service

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

CHECKS = "not_a_server_error,response_schema_conformance,content_type_conformance"


def run_schemathesis(
    service,
    *,
    examples: int,
    phases: str,
    seed: int = 1,
    workers: int = 2,
    report: Path | None = None,
) -> tuple[subprocess.CompletedProcess, dict]:
    """Run the schemathesis CLI against ``service``; return the process and the parsed summary."""
    command = [
        str(Path(sys.executable).with_name("schemathesis")),
        "run",
        f"{service.base_url}/openapi.json",
        "-H",
        f"X-API-Key: {service.token}",
        "--checks",
        CHECKS,
        "--phases",
        phases,
        "--max-examples",
        str(examples),
        "--workers",
        str(workers),
        "--seed",
        str(seed),
        "--request-timeout",
        "60",
        "--no-color",
        "--generation-database",
        "none",
    ]
    if report is not None:
        command += ["--report", "junit", "--report-junit-path", str(report)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=3600, check=False)
    out = result.stdout
    summary = {
        "selected": int(re.search(r"Operations:\s+(\d+) selected", out).group(1)),
        "tested": int(re.search(r"Tested:\s+(\d+)", out).group(1)),
        "cases": int(re.search(r"(\d+) generated", out).group(1)),
    }
    return result, summary


def seed_some_data(service) -> None:
    headers = {"X-API-Key": service.token}
    events = [
        {
            "type": "track",
            "userId": f"u{i % 7}",
            "event": ["Product Viewed", "Order Completed"][i % 2],
            "messageId": f"fuzz-seed-{i}",
            "timestamp": "2026-11-01T10:00:00Z",
        }
        for i in range(50)
    ]
    assert requests.post(
        f"{service.base_url}/v1/events", json=events, headers=headers, timeout=60
    ).ok


def test_every_operation_fuzzed_without_5xx_or_schema_violations(tmp_path):
    service = start_service(tmp_path)
    try:
        seed_some_data(service)
        examples = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "5"))
        result, summary = run_schemathesis(service, examples=examples, phases="examples,fuzzing")
        print(f"\nschemathesis: {summary}")
        assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
        assert summary["tested"] == summary["selected"] >= 30
        assert summary["cases"] > 0
        log = service.log_path.read_text()
        assert "unhandled error" not in log, "a 500 was logged"
    finally:
        service.stop()
