"""Review and conversation intelligence in the store: classify on arrival, query per persona."""

from __future__ import annotations

import threading
from typing import Any

import orjson
import pandas as pd
from sqlalchemy import Connection, Engine, select

from personapulse.nlp import (
    SentimentAnalyzer,
    classify_conversations,
    classify_review,
    pain_points_by_persona,
)
from personapulse.store import now_ms, read_connection
from personapulse.store.frames import load_conversations, load_reviews
from personapulse.store.schema import conversation_classes, review_classes
from personapulse.store.writes import stored_record_id

MODEL_VERSION = "sentiment-ridge-1+taxonomy-1"
CLASS_FIELDS = ("sentiment_label", "sentiment_score", "pain_points", "motivations", "keywords")

_analyzer: SentimentAnalyzer | None = None
_analyzer_lock = threading.Lock()


def get_analyzer() -> SentimentAnalyzer:
    """The process-wide analyser: its model loads once (about 2 s), then scores in under 1 ms."""
    global _analyzer
    if _analyzer is None:
        with _analyzer_lock:
            if _analyzer is None:
                analyzer = SentimentAnalyzer()
                analyzer.score("warm up")
                _analyzer = analyzer
    return _analyzer


def _dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def classify_new(
    conn: Connection, kind: str, new_items: list[dict], all_items: list[dict]
) -> dict[str, Any]:
    """After-write hook of ingestion: classify new reviews / conversations in the same transaction.

    The answer lists a class for every valid item in input order: resent items get the class stored
    the first time, so a retry is answered like the original.
    """
    if kind == "reviews":
        fresh = _classify_reviews(conn, new_items)
        _emit_review_events(conn, new_items, fresh)
        id_of = lambda i: stored_record_id(i["source"], i["review_id"])  # noqa: E731
        table, key = review_classes, "review_id"
    elif kind == "conversations":
        fresh = _classify_conversations(conn, new_items)
        id_of = lambda i: stored_record_id(i["source"], i["conversation_id"])  # noqa: E731
        table, key = conversation_classes, "conversation_id"
    else:
        return {}
    by_id = {answer[key]: answer for answer in fresh}
    missing = [id_of(i) for i in all_items if id_of(i) not in by_id]
    if missing:
        for row in conn.execute(select(table).where(table.c[key].in_(missing))).mappings():
            by_id[row[key]] = _answer_from_row(dict(row), key)
    return {"classifications": [by_id[id_of(i)] for i in all_items if id_of(i) in by_id]}


def _emit_review_events(conn: Connection, items: list[dict], classes: list[dict]) -> None:
    from personapulse.services.outbound import emit_many

    emit_many(
        conn,
        "review.classified",
        [
            {
                **found,
                "source": item["source"],
                "rating": item.get("rating"),
                "product": item.get("product"),
                "user_id": item.get("user_id"),
                "email": item.get("email"),
                "text": item["text"],
                "created_at": item["created_at"].isoformat() if item.get("created_at") else None,
                "is_negative": found["sentiment_label"] == "negative",
                "has_pain_point": bool(found["pain_points"]),
            }
            for item, found in zip(items, classes, strict=True)
        ],
    )


def _answer_from_row(row: dict, key: str) -> dict:
    answer = {
        key: row[key],
        "sentiment_label": row["sentiment_label"],
        "sentiment_score": row["sentiment_score"],
    }
    for column in ("pain_points", "motivations", "keywords", "intents"):
        if column in row:
            answer[column] = orjson.loads(row[column])
    return answer


def _classify_reviews(conn: Connection, items: list[dict]) -> list[dict]:
    if not items:
        return []
    analyzer = get_analyzer()
    rows, answers = [], []
    classified_ms = now_ms()
    for item in items:
        review_id = stored_record_id(item["source"], item["review_id"])
        result = classify_review(item, analyzer)
        rows.append(
            {
                "review_id": review_id,
                "sentiment_label": result["sentiment_label"],
                "sentiment_score": result["sentiment_score"],
                "pain_points": _dumps(result["pain_points"]),
                "motivations": _dumps(result["motivations"]),
                "keywords": _dumps(result["keywords"]),
                "model_version": MODEL_VERSION,
                "classified_ms": classified_ms,
            }
        )
        answers.append({"review_id": review_id, **{f: result[f] for f in CLASS_FIELDS}})
    conn.execute(review_classes.insert(), rows)
    return answers


def _classify_conversations(conn: Connection, items: list[dict]) -> list[dict]:
    if not items:
        return []
    frame = pd.DataFrame(
        {
            "conversation_id": [stored_record_id(i["source"], i["conversation_id"]) for i in items],
            "text": [i.get("customer_text") or "" for i in items],
            "subject": [i.get("subject") for i in items],
        }
    )
    classified = classify_conversations(frame, analyzer=get_analyzer())
    classified_ms = now_ms()
    rows, answers = [], []
    for record in classified.to_dict("records"):
        rows.append(
            {
                "conversation_id": record["conversation_id"],
                "sentiment_label": record["sentiment_label"],
                "sentiment_score": float(record["sentiment_score"]),
                "pain_points": _dumps(record["pain_points"]),
                "motivations": _dumps(record["motivations"]),
                "keywords": _dumps(record["keywords"]),
                "intents": _dumps(record["intents"]),
                "model_version": MODEL_VERSION,
                "classified_ms": classified_ms,
            }
        )
        answers.append(
            {
                "conversation_id": record["conversation_id"],
                "sentiment_label": record["sentiment_label"],
                "sentiment_score": float(record["sentiment_score"]),
                "pain_points": record["pain_points"],
                "motivations": record["motivations"],
                "keywords": record["keywords"],
                "intents": record["intents"],
            }
        )
    conn.execute(conversation_classes.insert(), rows)
    return answers


def _classes_frame(
    engine: Engine, table, id_col: str, ids: list[str] | None = None
) -> pd.DataFrame:
    """The stored classes, of every document or only of ``ids``."""
    with read_connection(engine) as conn:
        if ids is None:
            rows = conn.execute(select(table)).mappings().all()
        else:
            rows = [
                row
                for start in range(0, len(ids), 900)
                for row in conn.execute(
                    select(table).where(table.c[id_col].in_(ids[start : start + 900]))
                ).mappings()
            ]
    frame = (
        pd.DataFrame.from_records(rows) if rows else pd.DataFrame(columns=[id_col, *CLASS_FIELDS])
    )
    for column in ("pain_points", "motivations", "keywords", "intents"):
        if column in frame.columns:
            frame[column] = [orjson.loads(v) for v in frame[column]]
    return frame


def classified_documents(
    engine: Engine, *, since_ms: int | None = None, person_ids: list[str] | None = None
) -> pd.DataFrame:
    """Reviews and conversations with their classes, one row per document.

    Columns: doc_id, doc_kind (review | conversation), person_id, created_at, text, sentiment_label,
    sentiment_score, pain_points, motivations, keywords.
    """
    # For a few people, read only their documents' classes.
    reviews = load_reviews(engine, since_ms=since_ms, person_ids=person_ids)
    review_ids = reviews["review_id"].tolist() if person_ids is not None else None
    reviews = reviews.merge(
        _classes_frame(engine, review_classes, "review_id", review_ids), on="review_id", how="inner"
    )
    reviews = reviews.rename(columns={"review_id": "doc_id"}).assign(doc_kind="review")
    conversations = load_conversations(engine, since_ms=since_ms, person_ids=person_ids)
    conversation_ids = conversations["conversation_id"].tolist() if person_ids is not None else None
    conversations = conversations.merge(
        _classes_frame(engine, conversation_classes, "conversation_id", conversation_ids),
        on="conversation_id",
        how="inner",
    )
    conversations = conversations.rename(columns={"conversation_id": "doc_id"}).assign(
        doc_kind="conversation"
    )
    columns = ["doc_id", "doc_kind", "person_id", "created_at", "text", *CLASS_FIELDS]
    frames = [f[columns] for f in (reviews, conversations) if len(f)]
    if not frames:
        return pd.DataFrame(columns=columns)
    return pd.concat(frames, ignore_index=True)


def pain_points(
    engine: Engine,
    assignments: pd.DataFrame | None,
    *,
    persona_id: str | None = None,
    since: pd.Timestamp | None = None,
) -> pd.DataFrame:
    """Pain-point and motivation shares per persona (see ``pain_points_by_persona``).

    Without personas yet, everyone counts under persona ``"all"``.
    """
    documents = classified_documents(engine)
    documents = documents[documents["person_id"].notna()]
    if assignments is None or assignments.empty:
        assignments = pd.DataFrame(
            {"person_id": documents["person_id"].unique(), "persona_id": "all"}
        )
    if persona_id is not None:
        assignments = assignments[assignments["persona_id"] == persona_id]
    if documents.empty or assignments.empty:
        return pd.DataFrame(
            columns=["persona_id", "kind", "label", "count", "persons", "share", "examples"]
        )
    return pain_points_by_persona(documents, assignments[["person_id", "persona_id"]], since=since)
