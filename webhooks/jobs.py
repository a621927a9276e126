"""GET /v1/jobs/{id}: background work (persona refreshes …) and its outcome."""

from __future__ import annotations

from flask import Blueprint, url_for

from personapulse.store import broker as job_queue
from webhooks.auth import require_scope
from webhooks.errors import ApiError
from webhooks.openapi import documented
from webhooks.store import get_store

bp = Blueprint("jobs", __name__, url_prefix="/v1/jobs")


@bp.get("/<job_id>")
@require_scope("read")
@documented(
    summary="A background job's status and result",
    tag="jobs",
    responses={200: None, 404: "no such job"},
)
def get_job(job_id: str):
    job = job_queue.get(get_store().engine, job_id)
    if job is None:
        raise ApiError(404, "not_found", f"no job with id {job_id!r}")
    return job


def accepted(job: dict):
    """The 202 answer for queued work: the job, and where to follow it (also in Location)."""
    status_url = url_for("jobs.get_job", job_id=job["id"])
    body = {"job_id": job["id"], "status": job["status"], "status_url": status_url}
    return body, 202, {"Location": status_url}
