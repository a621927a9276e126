"""A Redis job broker for scale (``PERSONAPULSE_BROKER_URL=redis://…``; extra ``personapulse[redis]``).

The same guarantees as the job table (``personapulse.store.jobs``), kept by Lua scripts so each
step is atomic on the server:

- **At least once.** Claiming moves a job id from the ready list into the ``running`` sorted set
  scored by its lease deadline (the reliable-queue pattern), in one script. A worker that dies
  stops sending heartbeats (which push the deadline forward), and the next claim by any worker
  puts the expired job back at the head of the queue, or marks it failed after ``max_attempts``.
  Handlers are idempotent, so a job run twice does no harm.
- **Nothing lost on commit.** A job queued inside a database transaction (``jobs.enqueue_in``,
  e.g. rescoring the people behind an ingested batch) is written to the job table in that
  transaction, the transactional outbox; ``relay`` copies such rows to Redis after the commit and
  then deletes them. Pushing is idempotent (a job id already in Redis is left alone), so a crash
  between the push and the delete only means the push is repeated. Jobs not tied to a transaction
  (a refresh on demand, the schedule) go to Redis directly.
- **Delayed jobs.** ``enqueue(..., delay_ms=…)`` parks a job in a sorted set by due time; every
  claim first moves the due ones to the ready list.
- **Status.** Each job is a hash (``<prefix>job:<id>``) answering ``GET /v1/jobs/{id}``; finished
  jobs expire after ``result_ttl_ms`` (7 days). A queued job not yet relayed is still answered
  from the job table.
"""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

import orjson
from sqlalchemy import Engine, delete, select

from personapulse.store import now_ms, read_connection, write_transaction
from personapulse.store.jobs import FAILED, MAX_ATTEMPTS, QUEUED, STALE_AFTER_MS, SUCCEEDED
from personapulse.store.schema import jobs

_ENQUEUE = """
-- KEYS: job hash, ready list, delayed zset, last-created key, dedupe key
-- ARGV: id, kind, params, created_ms, now_ms, due_ms, dedupe (0/1), prefix, min_gap_ms
local now = tonumber(ARGV[5])
if tonumber(ARGV[9]) > 0 then
  local last = redis.call('GET', KEYS[4])
  if last and tonumber(last) > now - tonumber(ARGV[9]) then return false end
end
if ARGV[7] == '1' then
  local existing = redis.call('GET', KEYS[5])
  if existing then
    local status = redis.call('HGET', ARGV[8] .. 'job:' .. existing, 'status')
    if status == 'queued' or status == 'running' then return existing end
  end
end
if redis.call('EXISTS', KEYS[1]) == 1 then return ARGV[1] end
redis.call('HSET', KEYS[1], 'id', ARGV[1], 'kind', ARGV[2], 'status', 'queued',
  'params', ARGV[3], 'attempts', 0, 'created_ms', ARGV[4],
  'dedupe', ARGV[7] == '1' and KEYS[5] or '')
if tonumber(ARGV[6]) > now then
  redis.call('ZADD', KEYS[3], ARGV[6], ARGV[1])
else
  redis.call('LPUSH', KEYS[2], ARGV[1])
end
redis.call('SET', KEYS[4], ARGV[4])
if ARGV[7] == '1' then redis.call('SET', KEYS[5], ARGV[1]) end
return ARGV[1]
"""

_CLAIM = """
-- KEYS: ready list, delayed zset, running zset
-- ARGV: now_ms, lease_ms, max_attempts, worker id, prefix
local now = tonumber(ARGV[1])
for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, 100)) do
  redis.call('ZREM', KEYS[2], id)
  redis.call('LPUSH', KEYS[1], id)
end
for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now, 'LIMIT', 0, 100)) do
  redis.call('ZREM', KEYS[3], id)
  local key = ARGV[5] .. 'job:' .. id
  if tonumber(redis.call('HGET', key, 'attempts') or '0') >= tonumber(ARGV[3]) then
    redis.call('HSET', key, 'status', 'failed', 'finished_ms', now,
      'error', 'the worker stopped while running it, too many times')
    local dedupe = redis.call('HGET', key, 'dedupe')
    if dedupe and dedupe ~= '' and redis.call('GET', dedupe) == id then
      redis.call('DEL', dedupe)
    end
  else
    redis.call('HSET', key, 'status', 'queued')
    redis.call('RPUSH', KEYS[1], id)
  end
end
while true do
  local id = redis.call('RPOP', KEYS[1])
  if not id then return false end
  local key = ARGV[5] .. 'job:' .. id
  if redis.call('EXISTS', key) == 1 then
    redis.call('ZADD', KEYS[3], now + tonumber(ARGV[2]), id)
    redis.call('HINCRBY', key, 'attempts', 1)
    redis.call('HSET', key, 'status', 'running', 'locked_by', ARGV[4],
      'started_ms', now, 'heartbeat_ms', now)
    return id
  end
end
"""

_RELEASE = """
-- KEYS: job hash, ready list, running zset; ARGV: id
if redis.call('ZREM', KEYS[3], ARGV[1]) == 1 then
  redis.call('HINCRBY', KEYS[1], 'attempts', -1)
  redis.call('HSET', KEYS[1], 'status', 'queued')
  redis.call('LPUSH', KEYS[2], ARGV[1])
end
return 1
"""

_HEARTBEAT = """
-- KEYS: job hash, running zset; ARGV: id, now_ms, lease_ms
if redis.call('ZADD', KEYS[2], 'XX', 'CH', tonumber(ARGV[2]) + tonumber(ARGV[3]), ARGV[1]) == 1 then
  redis.call('HSET', KEYS[1], 'heartbeat_ms', ARGV[2])
  return 1
end
return 0
"""

_FINISH = """
-- KEYS: job hash, running zset; ARGV: id, status, result, error, now_ms, ttl_ms
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('HSET', KEYS[1], 'status', ARGV[2], 'result', ARGV[3], 'error', ARGV[4],
  'finished_ms', ARGV[5])
local dedupe = redis.call('HGET', KEYS[1], 'dedupe')
if dedupe and dedupe ~= '' and redis.call('GET', dedupe) == ARGV[1] then
  redis.call('DEL', dedupe)
end
redis.call('PEXPIRE', KEYS[1], ARGV[6])
return 1
"""


def _params_json(params: dict | None) -> str:
    return orjson.dumps(params or {}, option=orjson.OPT_SORT_KEYS).decode()


class RedisBroker:
    """The job queue in Redis; the methods mirror ``personapulse.store.jobs``."""

    def __init__(
        self,
        client,
        *,
        prefix: str = "personapulse:",
        lease_ms: int = STALE_AFTER_MS,
        max_attempts: int = MAX_ATTEMPTS,
        result_ttl_ms: int = 7 * 24 * 3600 * 1000,
    ) -> None:
        self.client = client
        self.prefix = prefix
        self.lease_ms = int(lease_ms)
        self.max_attempts = int(max_attempts)
        self.result_ttl_ms = int(result_ttl_ms)
        self._enqueue = client.register_script(_ENQUEUE)
        self._claim = client.register_script(_CLAIM)
        self._release = client.register_script(_RELEASE)
        self._heartbeat = client.register_script(_HEARTBEAT)
        self._finish = client.register_script(_FINISH)

    @classmethod
    def from_url(cls, url: str, **options: Any) -> RedisBroker:
        import redis

        return cls(redis.Redis.from_url(url, decode_responses=True), **options)

    # --- keys -----------------------------------------------------------------------------------

    def _key(self, name: str) -> str:
        return self.prefix + name

    def _job_key(self, job_id: str) -> str:
        return self._key("job:" + job_id)

    # --- queueing -------------------------------------------------------------------------------

    def _push(
        self,
        kind: str,
        params_json: str,
        *,
        job_id: str | None = None,
        created_ms: int | None = None,
        delay_ms: int = 0,
        dedupe: bool = False,
        min_gap_ms: int = 0,
    ) -> str | None:
        job_id = job_id or "job_" + uuid.uuid4().hex[:20]
        now = now_ms()
        dedupe_key = self._key(
            f"dedupe:{kind}:{hashlib.sha256(params_json.encode()).hexdigest()[:32]}"
        )
        return self._enqueue(
            keys=[
                self._job_key(job_id),
                self._key("ready"),
                self._key("delayed"),
                self._key("last:" + kind),
                dedupe_key,
            ],
            args=[
                job_id,
                kind,
                params_json,
                created_ms if created_ms is not None else now,
                now,
                now + int(delay_ms),
                "1" if dedupe else "0",
                self.prefix,
                int(min_gap_ms),
            ],
        )

    def enqueue(
        self, kind: str, params: dict | None = None, *, dedupe: bool = False, delay_ms: int = 0
    ) -> dict:
        """Queue a job (after ``delay_ms``). With ``dedupe``, an identical job still queued or
        running is returned instead."""
        job_id = self._push(kind, _params_json(params), dedupe=dedupe, delay_ms=delay_ms)
        return self.get(job_id)

    def enqueue_if_due(self, kind: str, every_ms: int, params: dict | None = None) -> dict | None:
        """Queue ``kind`` unless one was queued within ``every_ms`` (atomic across workers)."""
        job_id = self._push(kind, _params_json(params), min_gap_ms=max(1, int(every_ms)))
        return None if job_id is None else self.get(job_id)

    def relay(self, engine: Engine, limit: int = 500) -> int:
        """Copy the jobs queued in the job table (inside a committed transaction) to Redis, then
        delete them there; return how many were moved."""
        with read_connection(engine) as conn:
            rows = conn.execute(
                select(jobs.c.id, jobs.c.kind, jobs.c.params, jobs.c.created_ms)
                .where(jobs.c.status == QUEUED)
                .order_by(jobs.c.created_ms)
                .limit(limit)
            ).all()
        if not rows:
            return 0
        for row in rows:
            self._push(row.kind, row.params or "{}", job_id=row.id, created_ms=row.created_ms)
        with write_transaction(engine) as conn:
            conn.execute(
                delete(jobs).where(jobs.c.id.in_([r.id for r in rows]), jobs.c.status == QUEUED)
            )
        return len(rows)

    # --- reading --------------------------------------------------------------------------------

    def get(self, job_id: str) -> dict | None:
        raw = self.client.hgetall(self._job_key(job_id))
        if not raw:
            return None

        def number(name: str) -> int | None:
            value = raw.get(name)
            return int(value) if value not in (None, "") else None

        return {
            "id": raw["id"],
            "kind": raw["kind"],
            "status": raw["status"],
            "params": orjson.loads(raw["params"]) if raw.get("params") else {},
            "result": orjson.loads(raw["result"]) if raw.get("result") else None,
            "error": raw.get("error") or None,
            "attempts": number("attempts") or 0,
            "created_ms": number("created_ms"),
            "started_ms": number("started_ms"),
            "finished_ms": number("finished_ms"),
        }

    # --- working --------------------------------------------------------------------------------

    def claim(self, worker_id: str, kinds: tuple[str, ...] | None = None) -> dict | None:
        """Take the oldest ready job (due delayed jobs and those of dead workers first)."""
        job_id = self._claim(
            keys=[self._key("ready"), self._key("delayed"), self._key("running")],
            args=[now_ms(), self.lease_ms, self.max_attempts, worker_id, self.prefix],
        )
        if job_id is None:
            return None
        job = self.get(job_id)
        if job is not None and kinds and job["kind"] not in kinds:
            # Not a kind this worker runs: back to the queue for one that does.
            self._release(
                keys=[self._job_key(job_id), self._key("ready"), self._key("running")],
                args=[job_id],
            )
            return None
        return job

    def heartbeat(self, job_id: str) -> bool:
        """Push the job's lease forward; False when it is no longer held (taken as dead)."""
        return bool(
            self._heartbeat(
                keys=[self._job_key(job_id), self._key("running")],
                args=[job_id, now_ms(), self.lease_ms],
            )
        )

    def finish(self, job_id: str, *, result: dict | None = None, error: str | None = None) -> None:
        self._finish(
            keys=[self._job_key(job_id), self._key("running")],
            args=[
                job_id,
                FAILED if error else SUCCEEDED,
                orjson.dumps(result, default=str).decode() if result is not None else "",
                error or "",
                now_ms(),
                self.result_ttl_ms,
            ],
        )

    def fail_exhausted(self) -> int:
        """Dead workers' jobs are requeued or failed by every claim; nothing separate to do."""
        return 0

    def counts(self) -> dict[str, int]:
        """How many jobs are ready, delayed and running (for health checks and tests)."""
        return {
            "ready": int(self.client.llen(self._key("ready"))),
            "delayed": int(self.client.zcard(self._key("delayed"))),
            "running": int(self.client.zcard(self._key("running"))),
        }
