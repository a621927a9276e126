"""Runs the Zapier app's jest suite (zapier_app/test), which starts the real service itself.

The suite covers authentication, every action and search, a full REST-hook round trip against a
local receiver, and the offline definition and publishing checks. See zapier_app/test/*.test.js.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

APP_DIR = Path(__file__).resolve().parents[2] / "zapier_app"
NPM_TIMEOUT_SECONDS = 240
JEST_TIMEOUT_SECONDS = 300

pytestmark = pytest.mark.e2e


def _summary(output: str) -> str:
    """Jest's closing lines ("Test Suites: …", "Tests: …", "Time: …")."""
    lines = [
        line
        for line in output.splitlines()
        if re.match(r"^(Test Suites|Tests|Snapshots|Time):", line.strip())
    ]
    return "\n".join(lines)


def test_zapier_app_jest_suite() -> None:
    if shutil.which("npm") is None or shutil.which("npx") is None:
        pytest.skip("npm is not on PATH: the Zapier app's jest suite needs Node.js and npm")
    env = {**os.environ, "PERSONAPULSE_PYTHON": sys.executable, "CI": "true"}
    if not (APP_DIR / "node_modules").is_dir():
        subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund"],
            cwd=APP_DIR,
            env=env,
            check=True,
            timeout=NPM_TIMEOUT_SECONDS,
        )
    result = subprocess.run(
        ["npx", "jest", "--ci"],
        cwd=APP_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=JEST_TIMEOUT_SECONDS,
    )
    # Jest reports on stderr; keep both for a failing run.
    output = result.stdout + result.stderr
    print(_summary(output))
    assert result.returncode == 0, output[-20000:]
