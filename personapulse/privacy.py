"""Keep raw PII and secrets out of logs.

Every log line the service writes (its own, the job worker's, gunicorn's access log) passes through
``PiiFilter``: email addresses become ``pii:<16 hex>`` — an HMAC-SHA256 under ``PERSONAPULSE_PII_KEY``,
so one person's lines still correlate without revealing who — or ``<email>`` when no key is set; API
tokens (``pp_<prefix>_<secret>``) keep only their public prefix.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
from urllib.parse import unquote

EMAIL = re.compile(r"[A-Za-z0-9._%+-]+(?:@|%40)[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
API_TOKEN = re.compile(r"\b(pp_[0-9a-f]{12})_[A-Za-z0-9_-]{20,}")


def pseudonymise(value: str, key: str | bytes) -> str:
    """A stable keyed pseudonym for an identifier (case-insensitive for emails)."""
    secret = key.encode() if isinstance(key, str) else key
    digest = hmac.new(secret, value.strip().lower().encode(), hashlib.sha256).hexdigest()
    return f"pii:{digest[:16]}"


def scrub(text: str, key: str | bytes | None = None) -> str:
    """``text`` with emails pseudonymised (or masked without a key) and API secrets cut off."""
    # Each pattern needs a literal ("pp_", "@" or "%40"): a line without it is left as it is, unscanned
    # (most access-log lines; the regexes would try every position).
    if "pp_" in text:
        text = API_TOKEN.sub(r"\1_…", text)
    if "@" not in text and "%40" not in text:
        return text
    if key:
        return EMAIL.sub(lambda m: pseudonymise(unquote(m.group(0)), key), text)
    return EMAIL.sub("<email>", text)


_SCRUBBED = "_personapulse_scrubbed_with"
_UNSET = object()


class PiiFilter(logging.Filter):
    """Rewrites each record's final message (arguments merged in) through ``scrub``."""

    def __init__(self, key: str | bytes | None = None) -> None:
        super().__init__()
        self.key = key

    def filter(self, record: logging.LogRecord) -> bool:
        # The logger's filter and its handlers' both see a record: scrub it once (scrubbing is
        # idempotent, so a second pass under the same key could change nothing).
        if record.__dict__.get(_SCRUBBED, _UNSET) == self.key:
            return True
        message = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = scrub(record.exc_text, self.key)
        record.msg = scrub(message, self.key)
        record.args = None
        record.__dict__[_SCRUBBED] = self.key
        return True


def install(key: str | bytes | None, *loggers: logging.Logger) -> None:
    """Put one PiiFilter on the handlers of ``loggers`` (the root logger when none is named).

    On handlers, not loggers, so records propagating from any child logger are filtered too.
    """
    for logger in loggers or (logging.getLogger(),):
        for handler in logger.handlers:
            if not any(isinstance(f, PiiFilter) for f in handler.filters):
                handler.addFilter(PiiFilter(key))
        if not any(isinstance(f, PiiFilter) for f in logger.filters):
            logger.addFilter(PiiFilter(key))
