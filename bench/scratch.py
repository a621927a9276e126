"""Scratch folders for the benches, removed when the bench's process exits.

A bench's store reaches hundreds of megabytes (an erasure bench at 8,000 users: 469 MB); left in
/tmp run after run, they filled this machine's disk.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path


def scratch_dir(prefix: str) -> Path:
    """A new folder under the system's temporary directory, deleted at exit (errors included)."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    return path
