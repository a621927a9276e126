"""Airtable as the persona store: bootstrap the base, push computed data, pull human edits.

See docs/airtable.md. The service wires it to the store; this package never touches the database.
"""

from airtable_sync.schema import HUMAN_FIELDS, TABLES
from airtable_sync.sync import (
    AirtableConfig,
    AirtableConfigError,
    AirtableRateLimitError,
    AirtableSync,
    AirtableSyncError,
    HumanEdit,
    Snapshot,
    SyncReport,
    TableReport,
)
from airtable_sync.transport import RequestRateLimiter

__all__ = [
    "HUMAN_FIELDS",
    "TABLES",
    "AirtableConfig",
    "AirtableConfigError",
    "AirtableRateLimitError",
    "AirtableSync",
    "AirtableSyncError",
    "HumanEdit",
    "RequestRateLimiter",
    "Snapshot",
    "SyncReport",
    "TableReport",
]
