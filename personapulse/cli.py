"""The ``personapulse`` command line: serve, demo, import, keys, data quality (more per issue)."""

from __future__ import annotations

import csv
import sys
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
import orjson

from personapulse.config import load_settings
from personapulse.store import Store

BATCH_SIZE = 5_000


def _store(settings: dict[str, Any]) -> Store:
    store = Store(settings["DATABASE_URL"])
    store.migrate()
    from personapulse.store.broker import configure

    configure(store, settings)  # the job table, or the Redis broker BROKER_URL names
    return store


@click.group()
@click.option(
    "--database-url", envvar="PERSONAPULSE_DATABASE_URL", help="SQLAlchemy URL of the store."
)
@click.pass_context
def main(ctx: click.Context, database_url: str | None) -> None:
    """PersonaPulse: customer personas from real behaviour."""
    overrides = {"DATABASE_URL": database_url} if database_url else None
    ctx.obj = load_settings(overrides)


# --- keys -------------------------------------------------------------------------------------


@main.group()
def keys() -> None:
    """Create, list and revoke API keys."""


@keys.command("create")
@click.option("--name", required=True, help="Who or what uses the key (shown in logs and /v1/me).")
@click.option(
    "--scopes",
    default="ingest,read,admin",
    show_default=True,
    help="Comma-separated: ingest (send data), read (query), admin (everything).",
)
@click.pass_obj
def keys_create(settings: dict, name: str, scopes: str) -> None:
    """Create a key and print it once: it is stored only as a hash."""
    from personapulse.store.keys import create_key

    try:
        key, token = create_key(
            _store(settings).engine, name, tuple(s.strip() for s in scopes.split(",") if s.strip())
        )
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc
    click.echo(f"created {key.id} ({key.name}; scopes: {', '.join(sorted(key.scopes))})", err=True)
    click.echo("this key is shown once; store it now:", err=True)
    click.echo(token)


@keys.command("list")
@click.pass_obj
def keys_list(settings: dict) -> None:
    from personapulse.store.keys import list_keys

    for key in list_keys(_store(settings).engine):
        state = "revoked" if key["revoked"] else "active"
        click.echo(f"{key['id']}\t{key['name']}\t{','.join(key['scopes'])}\t{state}")


@keys.command("revoke")
@click.argument("key_id")
@click.pass_obj
def keys_revoke(settings: dict, key_id: str) -> None:
    from personapulse.store.keys import revoke_key

    if not revoke_key(_store(settings).engine, key_id):
        raise click.ClickException(f"no active key {key_id}")
    click.echo(f"revoked {key_id}")


# --- database ---------------------------------------------------------------------------------


@main.command()
@click.pass_obj
def migrate(settings: dict) -> None:
    """Bring the database schema to the newest revision."""
    store = _store(settings)
    click.echo(f"schema at revision {store.current_revision()} ({store.engine.dialect.name})")


@main.command()
@click.option("--dry-run", is_flag=True, help="Count what would be deleted; delete nothing.")
@click.pass_obj
def prune(settings: dict, dry_run: bool) -> None:
    """Delete bookkeeping rows past their retention (idempotency keys, ingest history, finished
    jobs and deliveries, old versions' assignments; see README, Configuration). Data, persona
    versions and personas are never pruned."""
    from personapulse.store import now_ms
    from personapulse.store.retention import RetentionPolicy
    from personapulse.store.retention import prune as prune_store

    try:
        policy = RetentionPolicy.from_settings(settings)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    store = _store(settings)
    try:
        deleted = prune_store(store.engine, policy, now_ms=now_ms(), dry_run=dry_run)
    finally:
        store.dispose()
    for table, count in deleted.items():
        click.echo(f"{table}: {count} {'to delete' if dry_run else 'deleted'}")


@main.command()
@click.argument("people", nargs=-1)
@click.option(
    "--file",
    "from_file",
    type=click.File("r"),
    help="Also erase the people listed in this file, one id or email per line ('-': stdin).",
)
@click.option(
    "--suppress",
    is_flag=True,
    help="Also put their ids on the suppression list: data sent with them later is dropped.",
)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.pass_obj
def erase(settings: dict, people: tuple[str, ...], from_file, suppress: bool, yes: bool) -> None:
    """Erase people (deletion requests): their data, and their ids and words in derived data.

    PEOPLE are ids or emails, one person each. Each is erased in its own transaction; one JSON
    line per person says what was deleted and scrubbed.
    """
    from personapulse.services.erasure import erase_person

    wanted = list(people)
    if from_file is not None:
        wanted += [line.strip() for line in from_file if line.strip()]
    if not wanted:
        raise click.UsageError("name at least one person, or --file")
    if not yes:
        click.confirm(
            f"Erase everything stored of {len(wanted)} person(s)? This cannot be undone",
            abort=True,
        )
    store = _store(settings)
    try:
        for person in wanted:
            try:
                result = erase_person(
                    store.engine, person, requested_by="cli", settings=settings, suppress=suppress
                )
            except ValueError as exc:
                raise click.ClickException(f"{person!r}: {exc}") from exc
            click.echo(orjson.dumps({"person": person, **result.to_dict()}).decode())
            if not result.found:
                click.echo(f"nothing stored of {person!r}", err=True)
    finally:
        store.dispose()


@main.group()
def suppressions() -> None:
    """The suppression list: ids whose data ingestion drops (see `erase --suppress`)."""


@suppressions.command("add")
@click.argument("people", nargs=-1, required=True)
@click.pass_obj
def suppressions_add(settings: dict, people: tuple[str, ...]) -> None:
    """Suppress PEOPLE without erasing them: every id the store knows of each is listed."""
    from personapulse.services.suppression import suppress_person

    store = _store(settings)
    try:
        for person in people:
            try:
                added = suppress_person(store.engine, person, created_by="cli")
            except ValueError as exc:
                raise click.ClickException(f"{person!r}: {exc}") from exc
            click.echo(orjson.dumps({"person": person, "added": added}).decode())
    finally:
        store.dispose()


@suppressions.command("check")
@click.argument("person")
@click.pass_obj
def suppressions_check(settings: dict, person: str) -> None:
    """Say whether PERSON's id is suppressed (exit status 1 when it is not)."""
    from personapulse.services.suppression import is_suppressed

    store = _store(settings)
    try:
        listed = is_suppressed(store.engine, person)
    finally:
        store.dispose()
    click.echo("suppressed" if listed else "not suppressed")
    if not listed:
        sys.exit(1)


@suppressions.command("lift")
@click.argument("people", nargs=-1, required=True)
@click.pass_obj
def suppressions_lift(settings: dict, people: tuple[str, ...]) -> None:
    """Lift the suppression of PEOPLE's ids (they agreed to be recorded again)."""
    from personapulse.services.suppression import lift

    store = _store(settings)
    try:
        for person in people:
            click.echo(f"{person}: {lift(store.engine, identifier=person)} lifted")
    finally:
        store.dispose()


@suppressions.command("list")
@click.option("--limit", default=100, show_default=True, type=click.IntRange(1, 100_000))
@click.pass_obj
def suppressions_list(settings: dict, limit: int) -> None:
    """The newest entries, one JSON line each (keyed hashes, never ids)."""
    from personapulse.services.suppression import list_entries

    store = _store(settings)
    try:
        for entry in list_entries(store.engine, limit=limit):
            click.echo(orjson.dumps(entry).decode())
    finally:
        store.dispose()


# --- ingestion ---------------------------------------------------------------------------------


def _ingest_batches(
    store: Store, settings: dict, kind: str, batches: Iterable[Any], *, progress
) -> dict:
    from personapulse.services.ingestion import ingest, parse

    totals = {"accepted": 0, "duplicate": 0, "rejected": 0, "flagged": 0, "suppressed": 0}
    first_errors: list[str] = []
    for payload, size in batches:
        received_at = datetime.now(UTC)
        parsed = parse(kind, payload, received_at=received_at)
        outcome, _ = ingest(store, kind, parsed, settings=settings, received_at=received_at)
        for name in totals:
            totals[name] += getattr(outcome, name)
        for error in outcome.errors[: max(0, 5 - len(first_errors))]:
            first_errors.append(f"item {error.index}: {error.field}: {error.reason}")
        progress.update(size)
    totals["first_errors"] = first_errors
    return totals


def _chunks(items: Iterator[Any], size: int) -> Iterator[tuple[list, int]]:
    batch: list = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch, len(batch)
            batch = []
    if batch:
        yield batch, len(batch)


def _guess_kind(path: Path) -> str:
    name = path.name.lower()
    for kind in ("reviews", "conversations", "profiles", "events"):
        if kind.rstrip("s") in name:
            return kind
    return "events"


@main.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--kind",
    type=click.Choice(["events", "reviews", "conversations", "profiles"]),
    help="What the file holds (default: guessed from its name, else events).",
)
@click.pass_obj
def import_file(settings: dict, file: Path, kind: str | None) -> None:
    """Import a CSV or JSONL file of events, reviews, conversations or profiles, with progress."""
    from tqdm import tqdm

    from personapulse.server import relax_gc

    relax_gc()  # as the service's workers run: a large file is mostly parsing and inserting
    kind = kind or _guess_kind(file)
    store = _store(settings)
    if file.suffix.lower() == ".csv":
        if kind == "events":
            batches = _csv_event_batches(file)
        else:
            rows = (dict(row) for row in csv.DictReader(file.open(newline="", encoding="utf-8")))
            batches = _chunks(rows, BATCH_SIZE)
    else:
        lines = (orjson.loads(line) for line in file.open("rb") if line.strip())
        batches = _chunks(lines, BATCH_SIZE)
    with tqdm(desc=f"{kind} from {file.name}", unit=" items", file=sys.stderr) as progress:
        totals = _ingest_batches(store, settings, kind, batches, progress=progress)
    suppressed = f", {totals['suppressed']} suppressed" if totals["suppressed"] else ""
    click.echo(
        f"{kind}: {totals['accepted']} accepted, {totals['duplicate']} duplicate, "
        f"{totals['rejected']} rejected, {totals['flagged']} flagged{suppressed}"
    )
    for line in totals["first_errors"]:
        click.echo(f"  {line}", err=True)


def _csv_event_batches(file: Path) -> Iterator[tuple[str, int]]:
    """CSV events go through the CSV parser (its column mapping) in chunks that keep the header."""
    with file.open(encoding="utf-8", newline="") as handle:
        header = handle.readline()
        chunk: list[str] = []
        for line in handle:
            chunk.append(line)
            if len(chunk) >= BATCH_SIZE:
                yield header + "".join(chunk), len(chunk)
                chunk = []
        if chunk:
            yield header + "".join(chunk), len(chunk)


# --- demo ------------------------------------------------------------------------------------


@main.command()
@click.option("--users", default=2000, show_default=True, type=click.IntRange(1, 1_000_000))
@click.option("--seed", default=7, show_default=True, type=int)
@click.option("--archetypes", default=5, show_default=True, type=click.IntRange(4, 6))
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write JSONL files and the answer file here instead of loading the store.",
)
@click.option(
    "--answers",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("var/demo_answers.csv"),
    show_default=True,
    help="Where the hidden archetype of each user goes (never into the store).",
)
@click.option("--key/--no-key", default=True, help="Create and print an API key for the demo.")
@click.pass_obj
def demo(
    settings: dict,
    users: int,
    seed: int,
    archetypes: int,
    out: Path | None,
    answers: Path,
    key: bool,
) -> None:
    """Generate a realistic product with hidden archetypes and load it (or write it to --out)."""
    from tqdm import tqdm

    from personapulse.demo import DemoConfig, write_jsonl

    config = DemoConfig(users=users, seed=seed, archetypes=archetypes)
    if out is not None:
        paths = write_jsonl(config, out)
        for name, path in paths.items():
            click.echo(f"{name}: {path}")
        return

    from personapulse.services.demo_load import load_demo

    store = _store(settings)
    answers.parent.mkdir(parents=True, exist_ok=True)
    with tqdm(total=users, desc="demo users", unit=" users", file=sys.stderr) as progress:
        totals = load_demo(
            store, config, settings, answers_path=answers, on_user=lambda: progress.update(1)
        )
    for kind, counts in totals.items():
        click.echo(
            f"{kind}: {counts['accepted']} accepted, {counts['duplicate']} duplicate, {counts['rejected']} rejected"
        )
    click.echo(f"answer file (hidden archetypes, not in the store): {answers}")
    if key:
        from personapulse.store.keys import create_key

        _, token = create_key(store.engine, "demo")
        click.echo(f"demo API key (shown once): {token}")


# --- personas ---------------------------------------------------------------------------------


@main.command()
@click.option("--k", type=click.IntRange(2, 20), help="Fix the number of personas.")
@click.option(
    "--k-max", type=click.IntRange(2, 20), help="Cap the number of personas (3-5 is usual)."
)
@click.option("--method", type=click.Choice(["auto", "kmeans", "gmm"]), help="Model family.")
@click.option(
    "--min-share", type=click.FloatRange(0, 0.5), help="Smallest persona share the gate accepts."
)
@click.option("--seed", "random_state", type=int, help="Random seed of the fit.")
@click.option(
    "--engine",
    type=click.Choice(["local", "spark"]),
    default="local",
    show_default=True,
    help="Where the features are computed: this process, or Apache Spark (personapulse[spark]).",
)
@click.option(
    "--master",
    default="local[*]",
    show_default=True,
    help="Spark master with --engine spark: local[N], local[*], spark://host:7077, yarn, k8s://…",
)
@click.option(
    "--events",
    "events_path",
    type=click.Path(path_type=Path),
    help="With --engine spark: Parquet events (personapulse export-events); default: export now.",
)
@click.pass_obj
def refresh(
    settings: dict, k, k_max, method, min_share, random_state, engine, master, events_path
) -> None:
    """Refit personas from everything stored and make them current (runs here, now)."""
    from personapulse.services.personas import refresh as refresh_personas

    if engine == "spark":
        from personapulse.spark.personas import refresh as spark_refresh

        def refresh_personas(store, params, *, settings):  # noqa: F811
            return spark_refresh(
                store, params, master=master, events_path=events_path, settings=settings
            )

    params = {
        name: value
        for name, value in {
            "k": k,
            "k_max": k_max,
            "method": method,
            "min_share": min_share,
            "random_state": random_state,
        }.items()
        if value is not None
    }
    try:
        summary = refresh_personas(_store(settings), params, settings=settings)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    gate = (
        "reliable" if summary["reliable"] else "NOT reliable: " + "; ".join(summary["gate_reasons"])
    )
    click.echo(
        f"persona version {summary['version_id']}: {summary['k']} personas over {summary['users']} users ({gate})"
    )
    for persona in summary["personas"]:
        click.echo(
            f"  {persona['persona_id']}  {persona['share']:6.1%}  {persona['size']:>7}  {persona['label']}"
        )
    if summary["appeared"]:
        click.echo(f"appeared: {', '.join(summary['appeared'])}")
    if summary["vanished"]:
        click.echo(f"vanished: {', '.join(summary['vanished'])}")
    for shift in summary["shifts"]:
        click.echo(f"shift: {shift}")


@main.command("export-events")
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    required=True,
    help="Directory of Parquet files to write (replaced if it exists).",
)
@click.option(
    "--chunk-events",
    type=click.IntRange(1000),
    default=2_000_000,
    show_default=True,
    help="About this many events per file.",
)
@click.pass_obj
def export_events_command(settings: dict, out: Path, chunk_events: int) -> None:
    """Export the store's events to Parquet, the Spark engine's input (needs personapulse[spark])."""
    from personapulse.spark.export import export_events

    result = export_events(_store(settings).engine, out, chunk_events=chunk_events)
    click.echo(
        f"{result['events']} events in {result['files']} Parquet files under {result['path']}"
    )


@main.command()
@click.option("--version", "version_id", help="A version id (default: the current one).")
@click.pass_obj
def personas(settings: dict, version_id: str | None) -> None:
    """Print the personas as a readable table."""
    from personapulse.services.personas import NoPersonas, list_personas

    try:
        version, found = list_personas(_store(settings).engine, version_id)
    except NoPersonas as exc:
        raise click.ClickException(str(exc)) from exc
    gate = version["gate"]
    status = (
        "reliable" if version["reliable"] else "NOT reliable: " + "; ".join(gate.get("reasons", []))
    )
    click.echo(
        f"version {version['version_id']} ({version['method']}, k={version['k']}): {status}\n"
        f"entropy {gate.get('entropy', float('nan')):.2f}, smallest share {gate.get('min_share', float('nan')):.1%}, "
        f"stability {gate.get('stability', float('nan')):.2f}"
    )
    for persona in found:
        profile = persona["profile"]
        flag = (
            "  [do not target: " + ", ".join(profile["negative"]["reasons"]) + "]"
            if persona["is_negative"]
            else ""
        )
        click.echo(
            f"\n{persona['persona_id']}  {persona['name']}  {persona['share']:.1%} ({persona['size']} users){flag}"
        )
        for trait in profile.get("traits", [])[:4]:
            click.echo(f"    - {trait['text']}")
        shortlist = ", ".join(
            item["person_id"] for item in profile.get("interview_shortlist", [])[:5]
        )
        click.echo(f"    interview: {shortlist}")


@main.command()
@click.option(
    "--out", type=click.Path(dir_okay=False, path_type=Path), help="Write here (default: stdout)."
)
@click.pass_obj
def report(settings: dict, out: Path | None) -> None:
    """A Markdown report of every persona: grounded cards, strategy, recommendations."""
    from personapulse.services.narratives import report_markdown
    from personapulse.services.personas import NoPersonas

    try:
        text = report_markdown(_store(settings).engine, settings)
    except NoPersonas as exc:
        raise click.ClickException(str(exc)) from exc
    if out is None:
        click.echo(text)
    else:
        out.write_text(text)
        click.echo(f"report written to {out}", err=True)


@main.group()
def airtable() -> None:
    """Airtable as the persona store (PERSONAPULSE_AIRTABLE_TOKEN, PERSONAPULSE_AIRTABLE_BASE_ID)."""


@airtable.command("bootstrap")
@click.pass_obj
def airtable_bootstrap(settings: dict) -> None:
    """Create or extend the base's tables and fields (idempotent)."""
    from airtable_sync import AirtableSyncError
    from personapulse.services.airtable import bootstrap

    try:
        result = bootstrap(settings)
    except AirtableSyncError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"tables: {', '.join(result['tables'])}")
    click.echo(
        f"created tables: {result['created_tables'] or 'none'}; created fields: {result['created_fields'] or 'none'}"
    )


@airtable.command("sync")
@click.pass_obj
def airtable_sync_command(settings: dict) -> None:
    """Pull human edits into the store, then push personas, pain points, funnels, shifts …"""
    from airtable_sync import AirtableSyncError
    from personapulse.services.airtable import sync

    def progress(table: str, written: int, total: int) -> None:
        click.echo(f"  {table}: {written}/{total}", err=True)

    try:
        result = sync(_store(settings), settings, progress=progress)
    except AirtableSyncError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(
        f"human edits applied: {result['human_edits_applied']}; requests: {result.get('requests')}"
    )


# --- reviews and journeys ---------------------------------------------------------------------


def _read_records(file: Path) -> list[dict]:
    if file.suffix.lower() == ".csv":
        with file.open(newline="", encoding="utf-8") as handle:
            return [dict(row) for row in csv.DictReader(handle)]
    if file.suffix.lower() == ".json":
        data = orjson.loads(file.read_bytes())
        return (
            data
            if isinstance(data, list)
            else next(v for v in data.values() if isinstance(v, list))
        )
    return [orjson.loads(line) for line in file.open("rb") if line.strip()]


@main.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--kind", type=click.Choice(["reviews", "conversations"]), default="reviews", show_default=True
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write JSONL here (default: stdout).",
)
def classify(file: Path, kind: str, out: Path | None) -> None:
    """Classify a CSV / JSON / JSONL file of reviews or conversations (no store needed).

    Each output line: the id, sentiment label and score, pain points and motivations with the
    phrase that triggered each, keywords (and intents for conversations).
    """
    import pandas as pd

    from personapulse.nlp import classify_conversations, classify_reviews
    from personapulse.services.reviews import get_analyzer

    records = _read_records(file)
    if not records:
        raise click.ClickException(f"{file} holds no records")
    frame = pd.DataFrame.from_records(records)
    id_col = "review_id" if kind == "reviews" else "conversation_id"
    if id_col not in frame.columns:
        frame[id_col] = [str(i) for i in range(len(frame))]
    if kind == "conversations" and "text" not in frame.columns:
        from personapulse.nlp import customer_text

        source = "messages" if "messages" in frame.columns else "transcript"
        if source not in frame.columns:
            raise click.ClickException("conversations need a text, messages or transcript column")
        frame["text"] = [customer_text(value) for value in frame[source]]
    if "text" not in frame.columns:
        raise click.ClickException("reviews need a text column")
    classify_frame = classify_reviews if kind == "reviews" else classify_conversations
    classified = classify_frame(frame, analyzer=get_analyzer())
    keep = [c for c in classified.columns if c not in ("text",)]
    lines = (
        orjson.dumps(row, default=str).decode()
        for row in classified[keep].to_dict(orient="records")
    )
    if out is None:
        for line in lines:
            click.echo(line)
    else:
        out.write_text("".join(line + "\n" for line in lines))
        click.echo(f"{len(classified)} {kind} classified into {out}", err=True)


@main.command()
@click.option("--persona", help="Only this persona id.")
@click.option("--top", default=5, show_default=True, type=click.IntRange(1, 100))
@click.option(
    "--funnel",
    "funnel_steps",
    help="Comma-separated funnel steps (event names or /paths), e.g. /pricing,Checkout Started,Order Completed",
)
@click.option("--window", default="7d", show_default=True, help="Funnel conversion window.")
@click.option("--json", "as_json", is_flag=True, help="Print the raw JSON.")
@click.pass_obj
def journeys(
    settings: dict,
    persona: str | None,
    top: int,
    funnel_steps: str | None,
    window: str,
    as_json: bool,
) -> None:
    """Top real journeys, drop-offs and (optionally) a funnel, per persona."""
    from personapulse.services.journeys import journeys as journey_report
    from personapulse.services.journeys import run_funnel

    engine = _store(settings).engine
    if funnel_steps:
        steps = [s.strip() for s in funnel_steps.split(",") if s.strip()]
        try:
            result = run_funnel(engine, {"steps": steps, "window": window, "breakdown": "persona"})
        except ValueError as exc:
            raise click.ClickException(str(exc)) from exc
        if as_json:
            click.echo(orjson.dumps(result, option=orjson.OPT_INDENT_2).decode())
            return
        click.echo(f"funnel ({window} window): {result['persons_entered']} people entered")
        for step in result["steps"]:
            click.echo(
                f"  {step['step']}. {step['name']:<28} {step['count']:>7}  "
                f"{step['conversion_from_first']:6.1%} of first, drop-off {step['dropoff_rate']:6.1%}"
            )
        return
    report = journey_report(engine, persona_id=persona, top=top)
    if as_json:
        click.echo(orjson.dumps(report, option=orjson.OPT_INDENT_2).decode())
        return
    current = None
    for path in report["paths"]:
        if path.get("persona_id") != current:
            current = path.get("persona_id")
            click.echo(f"\n{current}: top journeys")
        click.echo(f"  {path['users']:>5} users {path['share']:6.1%}  {path['path']}")
    click.echo("\ndrop-off points (last step of journeys without a purchase):")
    for row in report["dropoffs"]:
        pains = ", ".join(
            p["label"] if isinstance(p, dict) else str(p) for p in row.get("pain_points") or []
        )
        click.echo(f"  {row['persona_id']}  {row['last_step']:<30} {row['share']:6.1%}  {pains}")


# --- data quality ----------------------------------------------------------------------------


@main.command("data-quality")
@click.option("--days", default=30, show_default=True, type=click.IntRange(1, 3650))
@click.pass_obj
def data_quality(settings: dict, days: int) -> None:
    """Print the garbage-in report."""
    from personapulse.store.quality import data_quality_report

    report = data_quality_report(_store(settings).engine, days=days)
    click.echo(f"events: {report['events']}")
    click.echo(f"reviews: {report['reviews']}  conversations: {report['conversations']}")
    for finding in report["findings"] or ["no problems found"]:
        click.echo(f"- {finding}")


# --- service ---------------------------------------------------------------------------------


@main.command()
@click.option("--bind", default="127.0.0.1:8000", show_default=True, help="host:port for gunicorn.")
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64))
@click.option("--threads", default=4, show_default=True, type=click.IntRange(1, 64))
@click.option("--timeout", default=60, show_default=True, type=int, help="Worker timeout, seconds.")
@click.option("--jobs/--no-jobs", default=True, help="Run background jobs inside the web workers.")
@click.option("--access-log/--no-access-log", default=True, help="One line per request on stdout.")
@click.option(
    "--pin-workers/--no-pin-workers",
    default=True,
    help="Keep each worker on one CPU, workers spread over the CPUs (Linux).",
)
@click.pass_obj
def serve(
    settings: dict,
    bind: str,
    workers: int,
    threads: int,
    timeout: int,
    jobs: bool,
    access_log: bool,
    pin_workers: bool,
) -> None:
    """Serve the API (and the dashboard, once it exists) under gunicorn."""
    from personapulse.server import serve_personapulse

    # Migrate once in the master, before workers start; then let go of the store, so no thread of
    # it (the WAL checkpointer) runs while gunicorn forks the workers, which open their own.
    _store(settings).dispose()
    host = bind.rsplit(":", 1)[0]
    click.echo(
        f"PersonaPulse dashboard: http://{bind}/dashboard  "
        f"(API docs: http://{bind}/docs, health: http://{bind}/healthz)",
        err=True,
    )
    if host not in ("127.0.0.1", "localhost", "::1"):
        click.echo("warning: listening beyond loopback; put TLS in front of it", err=True)
    serve_personapulse(
        settings | {"RUN_WORKER": jobs},
        bind=bind,
        workers=workers,
        threads=threads,
        timeout=timeout,
        access_log=access_log,
        pin_workers=pin_workers,
    )


@main.command()
@click.option("--once", is_flag=True, help="Run queued jobs until none is left, then exit.")
@click.pass_obj
def worker(settings: dict, once: bool) -> None:
    """Run background jobs in this process (instead of, or beside, the web workers)."""
    import time

    import personapulse.services.airtable  # noqa: F401  (registers the Airtable sync job)
    import personapulse.services.personas  # noqa: F401  (registers the refresh job)
    from personapulse.services.worker import BackgroundWorker
    from personapulse.store.retention import RetentionPolicy

    try:
        RetentionPolicy.from_settings(settings)  # refused here, not by the hourly job
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    # The same rounds as the web workers' thread: orphaned jobs re-queued, exhausted ones failed,
    # the refresh and retention schedules, deliveries, then one job.
    store = _store(settings)
    rounds = BackgroundWorker(store, settings)
    try:
        while True:
            job, delivered = rounds.step()
            if job is not None:
                click.echo(f"{job['id']} {job['kind']}: {job['status']}", err=True)
            if job is not None or delivered:
                continue
            if once:
                return
            time.sleep(float(settings.get("WORKER_POLL_SECONDS", 1.0)))
    finally:
        store.dispose()


if __name__ == "__main__":  # pragma: no cover
    main()
