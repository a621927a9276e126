"""The Flask webhook service: a thin HTTP face over the ``personapulse`` engine.

Run it with ``personapulse serve`` (gunicorn) or ``gunicorn 'webhooks:create_app()'``.
"""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask

from personapulse.config import load_settings


def _persistent_secret(config: Mapping[str, Any]) -> str:
    """Signs dashboard sessions; kept in the data folder so every worker and restart shares it."""
    path = Path(config.get("DATA_DIR") or "var") / "secret_key"
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app: defaults, then ``PERSONAPULSE_*`` environment variables, then ``test_config``."""
    # No default /static route: the dashboard serves its own assets (never node_modules).
    app = Flask(__name__, instance_relative_config=False, static_folder=None)
    app.config.from_mapping(load_settings())
    if test_config is not None:
        app.config.from_mapping(test_config)
    app.json.sort_keys = False
    from personapulse.store.retention import RetentionPolicy

    # A negative retention stops the start here, not the hourly job every hour.
    RetentionPolicy.from_settings(app.config)
    app.config.setdefault("SESSION_COOKIE_SAMESITE", "Lax")
    app.config.setdefault("SESSION_COOKIE_HTTPONLY", True)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _persistent_secret(app.config)
    logging.basicConfig(level=app.config.get("LOG_LEVEL", "INFO"))
    from personapulse import privacy

    # No raw emails or API secrets in any log line (PERSONAPULSE_PII_KEY: keyed pseudonyms).
    privacy.install(app.config.get("PII_KEY"))
    # Alembic narrates every start at INFO; only its warnings matter in the service log.
    logging.getLogger("alembic").setLevel(logging.WARNING)

    from webhooks import errors, limits, security, sessions, store

    errors.init_app(app)
    sessions.init_app(app)
    store.init_app(app)
    limits.init_app(app)
    security.init_app(app)

    # Job handlers register on import, so any web worker can run a queued refresh.
    import personapulse.services.airtable  # noqa: F401
    import personapulse.services.personas  # noqa: F401
    from webhooks import (
        airtable,
        assignments,
        conversations,
        dashboard,
        erasures,
        events,
        health,
        hooks,
        insights,
        jobs,
        me,
        openapi,
        personas,
        profiles,
        quality,
        recommendations,
        reviews,
        shifts,
        suppressions,
        users,
    )

    for module in (
        health,
        openapi,
        me,
        events,
        reviews,
        conversations,
        profiles,
        users,
        quality,
        jobs,
        personas,
        assignments,
        insights,
        hooks,
        recommendations,
        shifts,
        airtable,
        erasures,
        suppressions,
        dashboard,
    ):
        app.register_blueprint(module.bp)

    if app.config.get("RUN_WORKER"):
        from webhooks import worker

        worker.init_app(app)
    return app
