"""Personas in the store: refresh (fit, match ids, version atomically), read, assign.

A refresh fits outside any transaction and then writes the new version in one transaction that
also retires the old one, so a crash mid-refresh leaves the previous version serving.
"""

from __future__ import annotations

import logging
import subprocess
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import fields
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pandas as pd
from sqlalchemy import Connection, Engine, func, select, update

import personapulse
from personapulse.features import FeatureConfig, FeaturePopulation, build_user_features
from personapulse.personas import PersonaConfig, PersonaModel, PreviousVersion, fit_personas
from personapulse.services.reviews import classified_documents
from personapulse.services.worker import job_handler
from personapulse.store import Store, now_ms, read_connection, serialize, write_transaction
from personapulse.store.frames import load_conversations, load_events, load_reviews
from personapulse.store.people import resolve_person
from personapulse.store.schema import assignments, persona_meta, persona_versions, personas
from personapulse.store.writes import _bulk_insert_ignore

CURRENT, SUPERSEDED = "current", "superseded"
REFRESH_JOB = "personas.refresh"
# Event properties the features read (Feature Used → properties.feature).
EVENT_PROPERTIES = ("feature",)


class NoPersonas(LookupError):
    """No persona version has been fitted yet."""


def _dumps(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_SERIALIZE_NUMPY, default=str).decode()


def _code_version() -> str:
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=Path(__file__).resolve().parent,
            capture_output=True,
            text=True,
            timeout=5,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        commit = ""
    return f"{personapulse.__version__}+{commit}" if commit else personapulse.__version__


def persona_config(params: dict[str, Any] | None) -> PersonaConfig:
    """A PersonaConfig from request / CLI parameters; unknown names are a ValueError."""
    params = dict(params or {})
    allowed = {f.name for f in fields(PersonaConfig)}
    unknown = set(params) - allowed
    if unknown:
        raise ValueError(f"unknown persona parameters: {', '.join(sorted(unknown))}")
    for name in ("covariance_types", "cluster_exclude"):
        if name in params:
            params[name] = tuple(params[name])
    return PersonaConfig(**params)


def compute_features(
    engine: Engine,
    *,
    person_ids: list[str] | None = None,
    now=None,
    population: FeaturePopulation | None = None,
) -> pd.DataFrame:
    """Per-user features from everything stored (see docs/features.md).

    For a few people (``person_ids``) pass the fitted version's ``population`` so each gets the
    row a full run gives them; ``attrs["population"]`` of a full run is what to keep."""
    events = load_events(engine, person_ids=person_ids, properties=EVENT_PROPERTIES)
    if events.empty:
        return pd.DataFrame()
    # One person (real-time assignment) reads only their own records, never whole tables.
    reviews = load_reviews(engine, person_ids=person_ids)
    conversations = load_conversations(engine, person_ids=person_ids)
    documents = classified_documents(engine, person_ids=person_ids)
    review_classes = documents[documents["doc_kind"] == "review"].rename(
        columns={"doc_id": "review_id"}
    )
    return build_user_features(
        events,
        reviews=reviews,
        conversations=conversations,
        review_classes=review_classes[["review_id", "person_id", "sentiment_score", "pain_points"]],
        config=FeatureConfig(),
        now=now,
        population=population,
    )


def _current_row(conn: Connection):
    return conn.execute(
        select(persona_versions).where(persona_versions.c.status == CURRENT)
    ).first()


def refresh(
    store: Store,
    params: dict[str, Any] | None = None,
    *,
    job_id: str | None = None,
    settings: dict | None = None,
    features: pd.DataFrame | None = None,
    score_others: ScoreOthers | None = None,
) -> dict:
    """Fit a new persona version from the store and make it current. Returns its summary.

    ``features``: per-user features computed elsewhere (the Spark engine), instead of
    ``compute_features`` over the store. ``score_others(state, persona_ids, person_ids)``: scores
    the people the fit did not see (elsewhere, e.g. in Spark's executors) as a probability matrix
    (rows in ``person_ids`` order, columns in ``persona_ids`` order); by default the fitted model
    scores them here."""
    engine = store.engine
    config = persona_config(params)
    features = compute_features(engine) if features is None else features
    if len(features) < 20:
        raise ValueError(
            f"{len(features)} people have behavioural data; at least 20 are needed to find personas"
        )
    try:
        _, previous_personas = list_personas(engine)
    except NoPersonas:
        previous_personas = None
    with read_connection(engine) as conn:
        previous_row = _current_row(conn)
        previous = None
        if previous_row is not None:
            centroids = {
                row.persona_id: orjson.loads(row.centroid)
                for row in conn.execute(
                    select(personas).where(personas.c.version_id == previous_row.id)
                )
            }
            previous = PreviousVersion(
                centroids=centroids, state=orjson.loads(previous_row.model_state)
            )
    fit_on = _fitting_population(features, (settings or {}).get("PERSONAS_FIT_ON", "identified"))
    result = fit_personas(fit_on, config=config, previous=previous)
    assignment_frame, proba_matrix = _score_the_rest(result, features, fit_on, score_others)
    created = now_ms()
    current_profiles = [
        {
            "persona_id": p["persona_id"],
            "name": p["label"],
            "label": p["label"],
            "size": int(p["size"]),
            "share": float(p["share"]),
            "profile": p,
        }
        for p in result.profiles
    ]
    found_shifts = _detect_shifts(engine, previous_personas, current_profiles, result, features)
    provenance = {
        "users": int(len(features)),
        "users_fitted": int(len(fit_on)),
        "fitted_on": "identified users" if len(fit_on) < len(features) else "everyone",
        "features": list(map(str, features.columns)),
        # What each person's features depend on beyond their own records, so real-time
        # assignment and rescoring compute the rows this fit saw (absent from old versions).
        "feature_population": features.attrs.get("population"),
        "data_window": _data_window(engine),
        "parameters": result.parameters,
        "selection_reason": result.selection_reason,
        "code_version": _code_version(),
        "previous_version": previous_row.id if previous_row is not None else None,
    }
    with write_transaction(engine) as conn:
        # PostgreSQL: versions are numbered and switched one writer at a time (as on SQLite).
        serialize(conn, "personas.versions")
        seq = (conn.execute(select(func.max(persona_versions.c.seq))).scalar() or 0) + 1
        version_id = f"v{seq}"
        conn.execute(
            update(persona_versions)
            .where(persona_versions.c.status == CURRENT)
            .values(status=SUPERSEDED)
        )
        conn.execute(
            persona_versions.insert().values(
                id=version_id,
                seq=seq,
                status=CURRENT,
                reliable=bool(result.gate.reliable),
                k=len(result.persona_ids),
                method=str(result.state.get("method_", result.state.get("method", ""))),
                gate=_dumps(result.gate.to_dict()),
                candidates=_dumps(result.candidates.to_dict(orient="records")),
                provenance=_dumps(provenance),
                model_state=_dumps(result.state),
                appeared=_dumps(result.appeared),
                vanished=_dumps(result.vanished),
                job_id=job_id,
                created_ms=created,
            )
        )
        conn.execute(
            personas.insert(),
            [
                {
                    "version_id": version_id,
                    "persona_id": profile["persona_id"],
                    "label": profile["label"],
                    "size": int(profile["size"]),
                    "share": float(profile["share"]),
                    "is_negative": bool(profile["negative"]["flag"]),
                    "profile": _dumps(profile),
                    "centroid": _dumps(result.centroids[profile["persona_id"]]),
                }
                for profile in result.profiles
            ],
        )
        _bulk_insert_ignore(
            conn,
            "persona_meta",
            ("persona_id", "first_version_id", "created_ms", "updated_ms"),
            [(pid, version_id, created, created) for pid in result.persona_ids],
        )
        proba = np.round(proba_matrix, 4)
        persona_ids = result.persona_ids
        _bulk_insert_ignore(
            conn,
            "assignments",
            ("version_id", "person_id", "persona_id", "probability", "probabilities"),
            [
                (
                    version_id,
                    person_id,
                    persona_id,
                    float(probability),
                    _dumps(dict(zip(persona_ids, row.tolist(), strict=True))),
                )
                for person_id, persona_id, probability, row in zip(
                    assignment_frame["person_id"],
                    assignment_frame["persona_id"],
                    assignment_frame["probability"],
                    proba,
                    strict=True,
                )
            ],
        )
        summary = {
            "version_id": version_id,
            "k": len(persona_ids),
            "users": int(len(features)),
            "reliable": bool(result.gate.reliable),
            "gate_reasons": list(result.gate.reasons),
            "appeared": result.appeared,
            "vanished": result.vanished,
            "shifts": len(found_shifts),
        }
        _record_shifts_and_emit(conn, version_id, result, current_profiles, found_shifts, summary)
        # Slack alerts go through the durable outbox, committed with the shifts they announce.
        from personapulse.services.slack_outbox import enqueue_alerts

        enqueue_alerts(
            conn,
            found_shifts,
            settings or {},
            persona_names={p["persona_id"]: p["name"] for p in current_profiles},
        )
    summary["narratives"] = _write_narratives(store, settings or {})
    return {
        **summary,
        "shifts": [shift["summary"] for shift in found_shifts],
        "personas": [
            {
                "persona_id": p["persona_id"],
                "label": p["label"],
                "size": int(p["size"]),
                "share": float(p["share"]),
            }
            for p in result.profiles
        ],
    }


def _fitting_population(features: pd.DataFrame, fit_on: str) -> pd.DataFrame:
    """Who shapes the personas. By default identified users: visitors who never signed up leave a
    few anonymous page views each, form a cluster of "too little data" rather than a behaviour,
    and are scored against the personas afterwards instead (``PERSONAPULSE_PERSONAS_FIT_ON=everyone``
    fits on them too)."""
    if fit_on not in ("identified", "everyone"):
        raise ValueError("PERSONAS_FIT_ON must be 'identified' or 'everyone'")
    if fit_on == "everyone":
        return features
    identified = features[~features.index.astype(str).str.startswith("anon:")]
    return identified if len(identified) >= 20 else features


#: ``(model state, persona ids in component order, person ids) -> probabilities``, one row a person.
ScoreOthers = Callable[[dict, list[str], pd.Index], np.ndarray]


def _score_the_rest(
    result, features: pd.DataFrame, fit_on: pd.DataFrame, score_others: ScoreOthers | None = None
) -> tuple[pd.DataFrame, np.ndarray]:
    """Assignments for everyone: the fitted people's from the fit, the others scored by the model."""
    others = features.index.difference(fit_on.index)
    if len(others) == 0:
        return result.assignments, result.proba
    if score_others is None:
        extra = result.model.predict_proba(features.loc[others])
    else:
        extra = np.asarray(score_others(result.state, list(result.persona_ids), others), float)
        if extra.shape != (len(others), len(result.persona_ids)):
            raise ValueError(
                f"score_others returned shape {extra.shape}, "
                f"expected {(len(others), len(result.persona_ids))}"
            )
    best = extra.argmax(axis=1)
    scored = pd.DataFrame(
        {
            "person_id": np.asarray(others),
            "persona_id": np.asarray(result.persona_ids, dtype=object)[best],
            "probability": extra[np.arange(len(best)), best],
        }
    )
    return pd.concat([result.assignments, scored], ignore_index=True), np.vstack(
        [result.proba, extra]
    )


def _data_window(engine: Engine) -> dict:
    with read_connection(engine) as conn:
        first, last, n = conn.exec_driver_sql(
            "SELECT MIN(ts_ms), MAX(ts_ms), COUNT(*) FROM events WHERE flags = 0"
        ).one()
    return {"first_event_ms": first, "last_event_ms": last, "events": int(n)}


def _detect_shifts(
    engine: Engine, previous_personas, current_profiles, result, features
) -> list[dict]:
    """Shifts between the previous version and this fit (see personapulse.outbound.shifts)."""
    from personapulse.outbound.shifts import detect_shifts

    documents = classified_documents(engine)
    new_assignments = result.assignments[["person_id", "persona_id"]]
    found = detect_shifts(
        previous_personas,
        current_profiles,
        match_distances={result.persona_ids[i]: d for i, d in result.matching.distances.items()},
        appeared=result.appeared if previous_personas else [],
        vanished=result.vanished,
        documents=documents,
        assignments=new_assignments,
        now=pd.Timestamp.now(tz="UTC"),
    )
    return [shift.to_dict() for shift in found]


def _record_shifts_and_emit(
    conn, version_id, result, current_profiles, found_shifts, summary
) -> None:
    from personapulse.services.outbound import emit
    from personapulse.store.schema import shifts as shifts_table

    detected = now_ms()
    for shift in found_shifts:
        conn.execute(
            shifts_table.insert().values(
                id=f"{version_id}:{shift['id']}",
                version_id=version_id,
                persona_id=shift.get("persona_id"),
                kind=shift["kind"],
                label=shift.get("label"),
                severity=shift["severity"],
                summary=shift["summary"],
                evidence=_dumps(shift.get("evidence", {})),
                detected_ms=detected,
            )
        )
        data = {**shift, "shift_id": f"{version_id}:{shift['id']}", "version_id": version_id}
        # Every shift is a persona shift; a pain-point spike is also announced on its own.
        emit(conn, "persona.shifted", data)
        if shift["kind"] == "pain_point_spike":
            emit(conn, "pain_point.spiked", data)
    by_id = {p["persona_id"]: p for p in current_profiles}
    for persona_id in result.appeared:
        persona = by_id[persona_id]
        emit(
            conn,
            "persona.created",
            {
                "persona_id": persona_id,
                "version_id": version_id,
                "name": persona["label"],
                "size": persona["size"],
                "share": persona["share"],
            },
        )
    emit(conn, "refresh.completed", summary)


def _write_narratives(store: Store, settings: dict) -> dict:
    """Cards and recommendations for the new version; their failure never undoes the refresh."""
    from personapulse.services.narratives import generate

    try:
        return generate(store.engine, settings)
    except Exception as exc:
        logging.getLogger(__name__).exception("writing persona cards failed")
        return {"error": f"{type(exc).__name__}: {exc}"}


@job_handler(REFRESH_JOB)
def _refresh_job(store: Store, params: dict, settings: dict) -> dict:
    from personapulse.store import broker as job_queue

    summary = refresh(store, params.get("config"), job_id=params.get("job_id"), settings=settings)
    # Every journey counter is recomputed after a full refresh (arrivals update them in between),
    # as a job of its own so the refresh is reported done as soon as the personas are.
    summary["journey_counters_job_id"] = job_queue.enqueue(
        store.engine, JOURNEY_COUNTERS_JOB, {}, dedupe=True
    )["id"]
    from personapulse.services import airtable  # it imports this module

    if airtable.is_configured(settings):
        # Airtable mirrors every new version; the sync is its own job (rate-limited, resumable).
        summary["airtable_job_id"] = job_queue.enqueue(
            store.engine, airtable.SYNC_JOB, {}, dedupe=True
        )["id"]
    return summary


JOURNEY_COUNTERS_JOB = "journeys.rebuild_counters"


@job_handler(JOURNEY_COUNTERS_JOB)
def _rebuild_journey_counters_job(store: Store, _params: dict, _settings: dict) -> dict:
    from personapulse.services import journey_counters

    return journey_counters.rebuild(store)


@job_handler("personas.update_users")
def _update_users_job(store: Store, params: dict, _settings: dict) -> dict:
    from personapulse.services import journey_counters

    people = params.get("people", [])
    result = update_users(store, people)
    resolved = [pid for ref in people if (pid := resolve_person(store.engine, ref)) is not None]
    result["journey_counters"] = journey_counters.update_people(store, resolved)
    return result


def update_users(store: Store, people: list[str]) -> dict:
    """Rescore these people against the current personas without a refit (the incremental path).

    Their features are recomputed from the store, their soft assignment rewritten, and
    ``user.persona_changed`` emitted for each whose most likely persona changed.
    """
    from personapulse.services.outbound import emit

    engine = store.engine
    person_ids = sorted({pid for ref in people if (pid := resolve_person(engine, ref)) is not None})
    try:
        version, model, persona_ids = _model_for(engine)
    except NoPersonas:
        return {"rescored": 0, "changed": 0, "skipped": "no personas yet"}
    features = _scoring_features(engine, version, person_ids) if person_ids else pd.DataFrame()
    if features.empty:
        return {"rescored": 0, "changed": 0}
    proba = model.predict_proba(features)
    changed = 0
    with write_transaction(engine) as conn:
        serialize(conn, "personas.versions")
        current = _current_row(conn)
        if current is None or current.id != version["version_id"]:
            return {
                "rescored": 0,
                "changed": 0,
                "skipped": "a newer persona version was fitted meanwhile",
            }
        stored = {
            row.person_id: row.persona_id
            for row in conn.execute(
                select(assignments.c.person_id, assignments.c.persona_id).where(
                    assignments.c.version_id == current.id,
                    assignments.c.person_id.in_(list(features.index)),
                )
            )
        }
        for person_id, row in zip(features.index, proba, strict=True):
            best = int(np.argmax(row))
            values = {
                "persona_id": persona_ids[best],
                "probability": round(float(row[best]), 4),
                "probabilities": _dumps(
                    dict(zip(persona_ids, np.round(row, 4).tolist(), strict=True))
                ),
            }
            if person_id in stored:
                conn.execute(
                    update(assignments)
                    .where(
                        assignments.c.version_id == current.id, assignments.c.person_id == person_id
                    )
                    .values(**values)
                )
            else:
                conn.execute(
                    assignments.insert().values(
                        version_id=current.id, person_id=person_id, **values
                    )
                )
            if stored.get(person_id) != values["persona_id"]:
                changed += 1
                emit(
                    conn,
                    "user.persona_changed",
                    {
                        "user_id": person_id,
                        "previous_persona_id": stored.get(person_id),
                        "persona_id": values["persona_id"],
                        "probability": values["probability"],
                        "version_id": current.id,
                    },
                )
    return {"rescored": int(len(features)), "changed": changed, "version_id": version["version_id"]}


# --- reading -----------------------------------------------------------------------------------


def _version_dict(row) -> dict:
    gate = orjson.loads(row.gate)
    return {
        "version_id": row.id,
        "seq": row.seq,
        "status": row.status,
        "created_ms": row.created_ms,
        "k": row.k,
        "method": row.method,
        "reliable": bool(row.reliable),
        "gate": gate,
        "appeared": orjson.loads(row.appeared),
        "vanished": orjson.loads(row.vanished),
        "provenance": orjson.loads(row.provenance),
        "candidates": orjson.loads(row.candidates),
        "job_id": row.job_id,
    }


def _persona_dict(row, meta) -> dict:
    profile = orjson.loads(row.profile)
    human = {}
    if meta is not None:
        human = {
            "display_name": meta.display_name,
            "owner": meta.owner,
            "interview_notes": meta.interview_notes,
            "qualitative_insights": meta.qualitative_insights,
            "do_not_target": meta.do_not_target,
            "first_version_id": meta.first_version_id,
        }
    return {
        "persona_id": row.persona_id,
        "version_id": row.version_id,
        "name": (human.get("display_name") or row.label),
        "label": row.label,
        "size": row.size,
        "share": row.share,
        "is_negative": bool(row.is_negative),
        "human": human,
        "profile": profile,
    }


def current_version(engine: Engine) -> dict:
    with read_connection(engine) as conn:
        row = _current_row(conn)
    if row is None:
        raise NoPersonas(
            "no personas yet: run a refresh (POST /v1/personas/refresh or personapulse refresh)"
        )
    return _version_dict(row)


def list_versions(engine: Engine) -> list[dict]:
    with read_connection(engine) as conn:
        rows = conn.execute(select(persona_versions).order_by(persona_versions.c.seq.desc())).all()
    summaries = []
    for row in rows:
        version = _version_dict(row)
        version.pop("candidates")
        summaries.append(version)
    return summaries


def list_personas(engine: Engine, version_id: str | None = None) -> tuple[dict, list[dict]]:
    """The version (current by default) and its personas, largest first."""
    with read_connection(engine) as conn:
        row = (
            _current_row(conn)
            if version_id is None
            else conn.execute(
                select(persona_versions).where(persona_versions.c.id == version_id)
            ).first()
        )
        if row is None:
            raise NoPersonas(
                "no personas yet: run a refresh"
                if version_id is None
                else f"no version {version_id!r}"
            )
        persona_rows = conn.execute(
            select(personas).where(personas.c.version_id == row.id).order_by(personas.c.size.desc())
        ).all()
        metas = {
            m.persona_id: m
            for m in conn.execute(
                select(persona_meta).where(
                    persona_meta.c.persona_id.in_([p.persona_id for p in persona_rows])
                )
            )
        }
    return _version_dict(row), [_persona_dict(p, metas.get(p.persona_id)) for p in persona_rows]


def get_persona(engine: Engine, persona_id: str) -> dict | None:
    version, found = list_personas(engine)
    for persona in found:
        if persona["persona_id"] == persona_id:
            return persona | {
                "version": {k: version[k] for k in ("version_id", "reliable", "gate")}
            }
    return None


def assignments_page(
    engine: Engine, *, after: str | None = None, limit: int = 1000, persona_id: str | None = None
) -> tuple[list[dict], str | None]:
    """Current assignments ordered by person id; pass the returned cursor as ``after`` for more."""
    version = current_version(engine)
    query = select(assignments).where(assignments.c.version_id == version["version_id"])
    if after is not None:
        query = query.where(assignments.c.person_id > after)
    if persona_id is not None:
        query = query.where(assignments.c.persona_id == persona_id)
    with read_connection(engine) as conn:
        rows = conn.execute(query.order_by(assignments.c.person_id).limit(limit + 1)).all()
    page = [
        {
            "user_id": r.person_id,
            "persona_id": r.persona_id,
            "probability": r.probability,
            "probabilities": orjson.loads(r.probabilities),
        }
        for r in rows[:limit]
    ]
    cursor = page[-1]["user_id"] if len(rows) > limit else None
    return page, cursor


def current_assignments(engine: Engine) -> pd.DataFrame:
    """person_id, persona_id of the current version (empty frame when none)."""
    with read_connection(engine) as conn:
        row = _current_row(conn)
        if row is None:
            return pd.DataFrame(columns=["person_id", "persona_id"])
        rows = conn.execute(
            select(assignments.c.person_id, assignments.c.persona_id).where(
                assignments.c.version_id == row.id
            )
        ).all()
    return pd.DataFrame.from_records(rows, columns=["person_id", "persona_id"])


# --- real-time assignment ------------------------------------------------------------------------

# Fitted models by (database, version id, created): a version id such as "v2" names a different
# model in every store, and one process can serve several stores (tests, tools).
_models: OrderedDict[tuple[str, str, int], PersonaModel] = OrderedDict()
_models_lock = threading.Lock()


def _model_for(engine: Engine) -> tuple[dict, PersonaModel, list[str]]:
    with read_connection(engine) as conn:
        row = _current_row(conn)
        if row is None:
            raise NoPersonas("no personas yet: run a refresh")
        # Probability columns follow the model's component order, which the profile records.
        component = {
            r.persona_id: orjson.loads(r.profile)["index"]
            for r in conn.execute(
                select(personas.c.persona_id, personas.c.profile).where(
                    personas.c.version_id == row.id
                )
            )
        }
    persona_ids = sorted(component, key=component.__getitem__)
    cache_key = (engine.url.render_as_string(hide_password=True), row.id, int(row.created_ms))
    with _models_lock:
        model = _models.get(cache_key)
        if model is None:
            model = PersonaModel.from_state(orjson.loads(row.model_state))
            _models[cache_key] = model
            while len(_models) > 4:
                _models.popitem(last=False)
    return {"version_id": row.id, "provenance": row.provenance}, model, persona_ids


def _scoring_features(engine: Engine, version: dict, person_ids: list[str]) -> pd.DataFrame:
    """These people's features as the version's full run computed them, on today's data.

    The population parts (sections, adoption denominator, pain points) come from the fit; the
    recency anchor is the store's latest event, as a refresh now would take it.
    """
    stored = orjson.loads(version["provenance"]).get("feature_population")
    if stored is None:  # versions fitted before the population was recorded
        return compute_features(engine, person_ids=person_ids)
    with read_connection(engine) as conn:
        # Walks the timestamp index from the end: cheap however many events are stored.
        latest = conn.exec_driver_sql(
            "SELECT ts_ms FROM events WHERE flags = 0 ORDER BY ts_ms DESC LIMIT 1"
        ).scalar()
    population = FeaturePopulation.from_dict(stored)
    now = pd.Timestamp(latest, unit="ms", tz="UTC") if latest is not None else population.now
    return compute_features(engine, person_ids=person_ids, now=now, population=population)


def _scored(version: dict, persona_ids: list[str], proba: np.ndarray, **extra) -> dict:
    best = int(np.argmax(proba))
    return {
        **extra,
        "version_id": version["version_id"],
        "persona_id": persona_ids[best],
        "probability": round(float(proba[best]), 4),
        "probabilities": {
            pid: round(float(p), 4) for pid, p in zip(persona_ids, proba, strict=True)
        },
    }


def assign_user(engine: Engine, user_ref: str) -> dict | None:
    """Score a known person in real time from their stored behaviour (any id or email)."""
    person_id = resolve_person(engine, user_ref)
    if person_id is None:
        return None
    version, model, persona_ids = _model_for(engine)
    features = _scoring_features(engine, version, [person_id])
    if features.empty:
        return None
    proba = model.predict_proba(features.loc[[person_id]])[0]
    return _scored(version, persona_ids, proba, user_id=person_id, source="behaviour")


def assign_features(engine: Engine, feature_values: dict[str, float]) -> dict:
    """Score a raw feature vector (missing features are imputed by the model)."""
    version, model, persona_ids = _model_for(engine)
    known = set(map(str, model.feature_names_in_))
    unknown = set(feature_values) - known
    if unknown:
        raise ValueError(
            f"unknown features: {', '.join(sorted(unknown))}; known: {', '.join(sorted(known))}"
        )
    proba = model.predict_proba(
        pd.DataFrame([feature_values]).reindex(columns=list(model.feature_names_in_))
    )[0]
    return _scored(version, persona_ids, proba, source="features")


def stored_assignment(engine: Engine, user_ref: str) -> dict | None:
    """The person's assignment in the current version (from the last refresh)."""
    person_id = resolve_person(engine, user_ref)
    if person_id is None:
        return None
    version = current_version(engine)
    with read_connection(engine) as conn:
        row = conn.execute(
            select(assignments).where(
                assignments.c.version_id == version["version_id"],
                assignments.c.person_id == person_id,
            )
        ).first()
    if row is None:
        return None
    return {
        "user_id": person_id,
        "version_id": version["version_id"],
        "persona_id": row.persona_id,
        "probability": row.probability,
        "probabilities": orjson.loads(row.probabilities),
    }
