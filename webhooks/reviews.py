"""POST /v1/reviews: Google, Trustpilot, App Store, Play Store, Amazon, Shopee … reviews."""

from __future__ import annotations

from flask import Blueprint

from webhooks.auth import require_scope
from webhooks.ingestion import handle_ingest
from webhooks.openapi import documented
from webhooks.schemas import ReviewsBody, ReviewsResult

bp = Blueprint("reviews", __name__, url_prefix="/v1/reviews")


@bp.post("")
@require_scope("ingest")
@documented(
    summary="Ingest reviews (one or a batch) and classify them: sentiment, pain points, motivations",
    tag="ingestion",
    body=ReviewsBody,
    responses={200: ReviewsResult},
    description="Each valid review is answered with its classification, in input order; a resent "
    "review gets the classification stored the first time.",
)
def post_reviews():
    return handle_ingest("reviews")
