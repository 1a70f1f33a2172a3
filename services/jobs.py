"""Background jobs on Celery + Redis: Dash background callbacks and the portfolio recompute split across workers.

Without ``REDIS_URL`` nothing here is used: Dash's background callbacks run with diskcache and the recompute runs in
the calling process (``services.recompute``). With it:

- :func:`celery_app` is the project's Celery application (broker and result backend = ``REDIS_URL``). ``app.py``
  hands it to ``dash.CeleryManager``; ``python cli.py worker`` builds the Dash app too (so every background callback
  is registered as a task) and starts a worker on it.
- :func:`compute_distributed` is the recompute's compute step spread over the workers. The coordinator (the process
  running :func:`services.recompute.recompute`: the CLI, the API, or a worker running the Watchtower's background
  callback) has already loaded the inputs and recorded the run. It cuts them into the same fixed batches as the
  in-process path, stores each batch's inputs in Redis and sends one ``icc.recompute.batch`` task per batch to the
  queue (a Celery group). Each batch is *claimed* (``SET NX``) by whoever computes it -- a worker, or the
  coordinator itself when ``local_share`` is on and a batch is still unclaimed, so a run never waits on a busy
  queue -- and its result is stored back in Redis. The coordinator collects the results in batch order, runs
  :func:`core.portfolio.finalize_portfolio` and stores the whole run in one transaction
  (:func:`services.recompute.store_run`). Batches depend only on their own inputs, so the snapshot is identical to
  the in-process run for any number of workers.
- **Failure**: a worker computing a batch refreshes a heartbeat key (TTL ``stall_seconds``) from a thread; the
  coordinator refreshes its own. A claimed batch whose heartbeat expired means its worker died: the coordinator
  aborts the run (the batch tasks still queued skip it), ``services.recompute`` rolls back and marks the run
  ``failed``, and the previous snapshot stays the latest. A run whose *coordinator* died, or that outlived its
  deadline, is marked failed by :func:`reap_stale_runs` (called by the next run's ``start_run``, by
  :func:`retry_run` and by ``python cli.py watchdog``). :func:`retry_run` starts a fresh run after a failed one.

Data in Redis (:mod:`services.job_store`; db of ``REDIS_URL``; every key under
``icc:jobs:<namespace>:run:<id>:``, the namespace a hash of the database URL so several databases can share one
Redis): ``meta`` (hash: phase, batches, queue, stall and deadline seconds), ``window`` and ``alive`` (TTL keys: the
deadline and the coordinator's heartbeat), ``abort``, ``settings``, ``inputs:<i>``, ``claim:<i>``, ``hb:<i>``,
``result:<i>``. Inputs and results are pickles signed with an HMAC of the app's ``SECRET_KEY`` (web and workers must
share it); an unsigned or forged blob is refused. Everything but ``meta`` is deleted when the compute step ends;
``meta`` expires a day after the deadline.

This module keeps no data between calls: the Celery app and the Redis connection pool are cached per URL (like the
database engine), run state lives in Redis and the database only.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import math
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from core.portfolio import EngineSettings, PortfolioResult, finalize_portfolio
from db.models import RecomputeRun, utcnow
from db.session import session_scope
from services import audit
from services.engine_inputs import PortfolioInputs
from services.errors import UserFacingError
from services.job_store import RunAbortedError, RunStore, run_key, worker_name
from services.recompute import (
    LOCAL,
    STALE_RUNNING,
    ComputeJob,
    RecomputeCancelledError,
    RecomputeError,
    RunSummary,
    compute_one,
    plan_batches,
    recompute,
)
from settings import Settings, get_settings

if TYPE_CHECKING:  # Celery and redis are imported where they are used, so importing this module stays light
    import redis
    from celery import Celery

log = logging.getLogger(__name__)

DEFAULT_QUEUE = "icc-jobs"
"""The queue of every task (Dash background callbacks and recompute batches) unless told otherwise."""
BATCH_TASK = "icc.recompute.batch"
RUN_TASK = "icc.recompute.run"
META_TTL_S = 24 * 3600
"""How long a run's ``meta`` hash outlives its deadline (for the watchdog and ``run_state``)."""
PING_TIMEOUT_S = 1.0

_APPS: dict[str, Celery] = {}  # one Celery app per broker URL and process (holds no data: code + connection pools)
_REDIS: dict[str, redis.Redis] = {}  # one connection pool per URL and process
_LOCK = threading.Lock()


class JobsUnavailableError(UserFacingError):
    """Background jobs need Redis (``REDIS_URL``) and it is not set or not reachable."""


@dataclass(frozen=True)
class DistributedOptions:
    """How :func:`compute_distributed` runs.

    Attributes
    ----------
    queue
        Celery queue the batch tasks go to (every worker of ``python cli.py worker`` consumes ``icc-jobs``).
    local_share
        The coordinator computes still-unclaimed batches itself (from the last one backwards) while it waits, so a
        run finishes even when every worker is busy; False leaves every batch to the workers.
    stall_seconds
        A claimed batch whose worker sent no heartbeat for this long (or a coordinator silent for this long) is
        taken as dead and fails the run. Heartbeats come from a thread every ``stall_seconds / 4``.
    deadline_seconds
        The compute step's deadline (None: 600 s + 0.1 s per SKU); past it the run fails.
    poll_seconds
        How often the coordinator looks at the batches.
    """

    queue: str = DEFAULT_QUEUE
    local_share: bool = True
    stall_seconds: float = 90.0
    deadline_seconds: float | None = None
    poll_seconds: float = 0.2

    def __post_init__(self) -> None:
        if not self.queue:
            raise ValueError("queue must not be empty")
        for name in ("stall_seconds", "poll_seconds"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)!r}")
        if self.deadline_seconds is not None and not self.deadline_seconds > 0:
            raise ValueError(f"deadline_seconds must be > 0, got {self.deadline_seconds!r}")

    def deadline_for(self, n_skus: int) -> float:
        """Seconds the compute step of ``n_skus`` SKUs may take."""
        return float(self.deadline_seconds) if self.deadline_seconds is not None else 600.0 + 0.1 * n_skus


# --- Celery and Redis ------------------------------------------------------------------------------------------------


def celery_app(settings: Settings | None = None) -> Celery:
    """The project's Celery app on ``settings.redis_url`` (broker and result backend), with the recompute tasks.

    One app per URL and process, so the tasks Dash's ``CeleryManager`` registers on it are the ones a worker runs.

    Raises
    ------
    JobsUnavailableError
        ``REDIS_URL`` is not set.
    """
    settings = settings or get_settings()
    url = settings.redis_url
    if not url:
        raise JobsUnavailableError("background jobs need REDIS_URL (e.g. redis://127.0.0.1:6379/0)")
    with _LOCK:
        if url not in _APPS:
            _APPS[url] = _make_app(url)
        return _APPS[url]


def _make_app(url: str) -> Celery:
    from celery import Celery

    app = Celery("icc", broker=url, backend=f"{__name__}:RedisResultBackend+{url}", set_as_current=False)
    app.conf.update(
        task_default_queue=DEFAULT_QUEUE,
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        result_expires=24 * 3600,
        task_track_started=True,
        worker_prefetch_multiplier=1,  # long tasks: a worker reserves only what it runs
        worker_hijack_root_logger=False,
        broker_connection_retry_on_startup=True,
        broker_connection_timeout=2,
        broker_transport_options={"visibility_timeout": 3600, "socket_connect_timeout": 2},
        redis_socket_connect_timeout=2,
        redis_socket_timeout=30,
        result_backend_transport_options={
            "retry_policy": {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5}
        },
        # a request that enqueues a job fails fast (503 with a clear message) when Redis is down
        task_publish_retry_policy={"max_retries": 2, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5},
    )
    _register_tasks(app)
    for hook in list(_APP_HOOKS):
        hook(app)
    return app


_APP_HOOKS: list[Callable[[Celery], None]] = []


def on_celery_app(hook: Callable[[Celery], None]) -> None:
    """Call ``hook(app)`` on every Celery app of this process, made now or later: how a module above this one adds
    its own tasks and beat entries (services.schedules: the e-mailed briefings, issue 19) without services.jobs
    importing it (docs/architecture.md). A hook is added once."""
    with _LOCK:
        if hook in _APP_HOOKS:
            return
        _APP_HOOKS.append(hook)
        made = list(_APPS.values())
    for app in made:
        hook(app)


def _result_backend_class() -> type:
    from celery.backends.redis import RedisBackend

    class RedisResultBackend(RedisBackend):
        """Celery's Redis result backend, without the pub/sub subscription it opens when a task is *sent*.

        Nothing in the web tier waits on a result with ``AsyncResult.get()`` (Dash polls the stored value; the
        recompute uses its own keys), and that subscription turns a Redis outage into "Retry limit exceeded ...
        the Celery application must be restarted" after ~20 s. Without it a send fails fast with the broker's
        connection error (answered 503 by app.py) and works again as soon as Redis is back. ``get()`` still
        subscribes when it is called.
        """

        def on_task_call(self, producer, task_id) -> None:
            return None

    return RedisResultBackend


def __getattr__(name: str) -> Any:
    if name == "RedisResultBackend":  # built on first use so importing this module does not import Celery
        cls = _result_backend_class()
        globals()[name] = cls
        return cls
    raise AttributeError(name)


def redis_client(settings: Settings | None = None) -> redis.Redis:
    """A Redis client on ``settings.redis_url`` (short connect timeout; pool cached per URL and process)."""
    import redis

    settings = settings or get_settings()
    url = settings.redis_url
    if not url:
        raise JobsUnavailableError("background jobs need REDIS_URL (e.g. redis://127.0.0.1:6379/0)")
    with _LOCK:
        if url not in _REDIS:
            _REDIS[url] = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=30)
        return _REDIS[url]


def redis_reachable(settings: Settings | None = None, *, timeout: float = 1.0) -> tuple[bool, str]:
    """(True, "ok") when Redis answers PING within ``timeout`` s, else (False, the error's type and first line)."""
    import redis

    settings = settings or get_settings()
    if not settings.redis_url:
        return False, "REDIS_URL is not set"
    client = redis.Redis.from_url(settings.redis_url, socket_connect_timeout=timeout, socket_timeout=timeout)
    try:
        client.ping()
        return True, "ok"
    except Exception as exc:  # noqa: BLE001 - any failure means not reachable
        return False, f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}".strip()
    finally:
        client.close()


def workers_listening(*, queue: str = DEFAULT_QUEUE, settings: Settings | None = None) -> list[str]:
    """Names of the live workers consuming ``queue`` (asked over the broker; waits up to ``PING_TIMEOUT_S``)."""
    app = celery_app(settings)
    replies = app.control.inspect(timeout=PING_TIMEOUT_S).active_queues() or {}
    return sorted(name for name, queues in replies.items() if any(q.get("name") == queue for q in queues or []))


def resolve_options(distributed: bool | DistributedOptions | None, *, n_batches: int) -> DistributedOptions | None:
    """Whether and how a recompute of ``n_batches`` batches runs on the workers.

    ``False``: never. ``True`` / options: always (``JobsUnavailableError`` without ``REDIS_URL``). ``None`` (the
    default of :func:`recompute_portfolio`): when ``REDIS_URL`` is set, there are several batches and a worker
    consumes the default queue.
    """
    if distributed is False:
        return None
    if isinstance(distributed, DistributedOptions):
        celery_app()  # raises without REDIS_URL
        return distributed
    if distributed is True:
        celery_app()
        return DistributedOptions()
    if not get_settings().redis_url or n_batches <= 1:
        return None
    try:
        listening = workers_listening(queue=DEFAULT_QUEUE)
    except Exception:
        log.warning("Redis is not reachable; the recompute runs in-process", exc_info=True)
        return None
    return DistributedOptions() if listening else None


# --- the compute step ------------------------------------------------------------------------------------------------


def compute_distributed(
    *,
    run_id: int,
    inputs: PortfolioInputs,
    settings: EngineSettings,
    batch_size: int,
    options: DistributedOptions | None = None,
    progress: Callable[[float, str], None] | None = None,
    cancel: Callable[[], bool] | None = None,
    progress_span: tuple[float, float] = (0.0, 1.0),
) -> tuple[PortfolioResult, dict[str, float], int]:
    """:func:`services.recompute.compute` on the Celery workers: same batches, same result, same return value.

    Returns the portfolio result, timings (``compute`` wall time, engine stages summed over batches, ``finalize``,
    ``batches_local`` / ``batches_remote``) and the number of distinct processes that computed batches.

    Raises
    ------
    RunAbortedError
        A worker died (no heartbeat for ``stall_seconds``), the deadline passed, or the run was aborted.
    services.recompute.RecomputeCancelledError
        ``cancel()`` returned True.
    """
    from celery import group  # Celery only where the workers are used

    options = options or DistributedOptions()
    app = celery_app()
    client = redis_client()
    store = RunStore(run_key(run_id), client)
    parts = plan_batches(count=len(inputs), batch_size=batch_size)
    n = len(parts)
    deadline = options.deadline_for(len(inputs))
    ttl = math.ceil(deadline) + 600
    lo, hi = progress_span
    start = time.perf_counter()
    me = worker_name()
    client.delete(store.k("abort"))
    client.hset(
        store.k("meta"),
        mapping={
            "phase": "loading",
            "batches": n,
            "skus": len(inputs),
            "queue": options.queue,
            "stall": options.stall_seconds,
            "deadline": deadline,
            "ttl": ttl,
            "coordinator": me,
        },
    )
    client.expire(store.k("meta"), ttl + META_TTL_S)
    client.set(store.k("window"), "1", ex=math.ceil(deadline))
    results: list[Any] = [None] * n
    local = remote = 0
    owners: set[str] = set()
    try:
        with store.heartbeat(store.k("alive"), stall=options.stall_seconds):
            store.put("settings", settings)
            for i, part in enumerate(parts):
                store.put(f"inputs:{i}", inputs.batch(part))
            store.set_phase("compute")
            batch = app.tasks[BATCH_TASK]
            group(batch.si(store.key, i) for i in range(n)).apply_async(queue=options.queue, expires=deadline)
            seen_done = 0
            while True:
                if cancel is not None and cancel():
                    raise RecomputeCancelledError
                reason = store.aborted()
                if reason:
                    raise RunAbortedError(f"run {run_id} was aborted: {reason}")
                if not client.exists(store.k("window")):
                    raise RunAbortedError(
                        f"run {run_id} passed its deadline of {deadline:.0f} s with batches unfinished "
                        "(are the workers running? python cli.py worker)"
                    )
                done, claimed_by, alive = store.status(n)
                for i in range(n):
                    if claimed_by[i] and not done[i] and not alive[i]:
                        raise RunAbortedError(
                            f"the worker computing batch {i + 1} of {n} ({claimed_by[i]}) stopped responding "
                            f"(no heartbeat for {options.stall_seconds:.0f} s)"
                        )
                finished = sum(done)
                if finished != seen_done and progress is not None:
                    seen_done = finished
                    progress(
                        lo + (hi - lo) * finished / n,
                        f"forecast and policies: batch {finished} of {n} on the workers",
                    )
                if finished == n:
                    break
                free = [i for i in range(n - 1, -1, -1) if claimed_by[i] is None] if options.local_share else []
                if free and store.claim(free[0], me, stall=options.stall_seconds):
                    i = free[0]
                    result = compute_one(store.get(f"inputs:{i}"), settings)
                    store.put(f"result:{i}", {"owner": me, "result": result})
                    continue
                time.sleep(options.poll_seconds)
            for i in range(n):
                payload = store.get(f"result:{i}")
                results[i] = payload["result"]
                owners.add(payload["owner"])
                if payload["owner"] == me:
                    local += 1
                else:
                    remote += 1
            store.set_phase("store")
    except BaseException as exc:
        with contextlib.suppress(Exception):
            store.abort(f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)
            store.set_phase("failed")
        raise
    finally:
        with contextlib.suppress(Exception):
            store.cleanup(n)
            # the store step gets the rest of the deadline window (at least 10 minutes) before the watchdog reaps it
            client.set(store.k("window"), "1", ex=max(600, math.ceil(deadline - (time.perf_counter() - start))))
    timings: dict[str, float] = {"compute": time.perf_counter() - start}
    portfolio = finalize_portfolio(results, settings=settings)
    for key, value in portfolio.timings.items():
        timings[key] = float(value)
    timings.pop("total", None)
    if "cpu" in timings:
        timings["compute_cpu"] = timings.pop("cpu")
    timings["batches_local"] = float(local)
    timings["batches_remote"] = float(remote)
    return portfolio, timings, len(owners)


def run_batch(key: str, index: int) -> dict[str, Any]:
    """Compute batch ``index`` of the run whose data is under ``key`` (the body of the ``icc.recompute.batch`` task).

    Skips (returns ``{"skipped": reason}``) when the run was aborted or someone else claimed the batch.
    """
    store = RunStore(key, redis_client())
    reason = store.aborted()
    if reason:
        return {"index": index, "skipped": "aborted"}
    meta = store.meta()
    if meta.get("phase") != "compute":
        return {"index": index, "skipped": f"phase {meta.get('phase') or 'gone'}"}
    stall = float(meta.get("stall", "90"))
    me = worker_name()
    if not store.claim(index, me, stall=stall):
        return {"index": index, "skipped": "taken"}
    mark = time.perf_counter()
    with store.heartbeat(store.k("hb", index), stall=stall):
        try:
            batch, engine_settings = store.get(f"inputs:{index}"), store.get("settings")
        except RunAbortedError:  # the coordinator ended the run and cleaned up meanwhile
            return {"index": index, "skipped": "gone"}
        result = compute_one(batch, engine_settings)
        if store.aborted():
            return {"index": index, "skipped": "aborted"}
        store.put(f"result:{index}", {"owner": me, "result": result})
    return {"index": index, "owner": me, "seconds": round(time.perf_counter() - mark, 3)}


def _register_tasks(app: Celery) -> None:
    @app.task(name=BATCH_TASK, shared=False, acks_late=True, reject_on_worker_lost=True, ignore_result=True)
    def _batch(key: str, index: int) -> dict[str, Any]:
        return run_batch(key, index)

    @app.task(name=RUN_TASK, shared=False)
    def _run(
        triggered_by: str | None = None,
        retry_of: int | None = None,
        options: dict | None = None,
        batch_size: int | None = None,
        run_id: int | None = None,
    ) -> dict:
        return run_recompute_job(
            triggered_by=triggered_by, retry_of=retry_of, options=options, batch_size=batch_size, run_id=run_id
        )


# --- the compute strategy of services.recompute ---------------------------------------------------------------------


@dataclass(frozen=True)
class WorkerCompute:
    """:func:`services.recompute.recompute`'s compute step on the Celery workers (:func:`compute_distributed`) or in
    this process (:data:`services.recompute.LOCAL`), and its check for dead runs (:func:`reap_stale_runs`).

    ``distributed``: True or options, always on the workers (``JobsUnavailableError`` without ``REDIS_URL``); False,
    never; None, when ``REDIS_URL`` is set, there are several batches and a worker listens
    (:func:`resolve_options`). The snapshot is the same either way.
    """

    distributed: bool | DistributedOptions | None = None

    def reap(self, *, session: Session) -> None:
        """Runs on the Celery workers: Redis knows their deadlines and heartbeats (only when ``REDIS_URL`` is set)."""
        if get_settings().redis_url:
            reap_stale_runs(session=session)

    def __call__(self, job: ComputeJob) -> tuple[PortfolioResult, dict[str, float], int]:
        options = resolve_options(
            self.distributed, n_batches=len(plan_batches(count=len(job.inputs), batch_size=job.batch_size))
        )
        if options is None:
            return LOCAL(job)
        return compute_distributed(
            run_id=job.run_id,
            inputs=job.inputs,
            settings=job.settings,
            batch_size=job.batch_size,
            options=options,
            progress=job.progress,
            cancel=job.cancel,
            progress_span=job.progress_span,
        )


def recompute_portfolio(*, distributed: bool | DistributedOptions | None = None, **kwargs: Any) -> RunSummary:
    """:func:`services.recompute.recompute` (same keyword arguments) with the compute strategy this deployment
    has: the Celery workers when ``distributed`` says so (:class:`WorkerCompute`; by default when ``REDIS_URL`` is
    set, there are several batches and a worker listens), else this process. What the app, the CLI and the API
    call.

    A recompute a person started (``triggered_by`` is an e-mail address: "Recompute now" on the Watchtower, the
    Risk page's apply) is written to the audit log as ``recompute.run``: who, when, the run, its outcome and size
    (issue 23); automatic ones (an import, an override, a retry: "who (reason)") are audited by their own action."""
    summary = recompute(strategy=WorkerCompute(distributed), **kwargs)
    who = kwargs.get("triggered_by")
    if isinstance(who, str) and _EMAIL.fullmatch(who):
        _audit_run(who, summary)
    return summary


_EMAIL = re.compile(r"[^@\s()]+@[^@\s()]+")


def _audit_run(who: str, summary: RunSummary) -> None:
    """The audit entry of a recompute a person started (its own transaction: the run is already committed)."""
    details: dict[str, Any] = {"status": summary.status, "skus": summary.sku_count}
    details["seconds"] = round(summary.seconds, 1)
    if summary.scope and summary.scope.get("partial"):
        details["partial"] = True
    if summary.error:
        details["error"] = summary.error[:200]
    with session_scope() as session:
        audit.record(
            session=session,
            action="recompute.run",
            user_email=who,
            target=f"run:{summary.run_id}" if summary.run_id is not None else None,
            outcome="error" if summary.status == "failed" else "ok",
            details=details,
        )


# --- runs: enqueue, watchdog, retry ----------------------------------------------------------------------------------


def run_recompute_job(
    *,
    triggered_by: str | None = None,
    retry_of: int | None = None,
    options: dict | None = None,
    batch_size: int | None = None,
    run_id: int | None = None,
) -> dict[str, Any]:
    """The ``icc.recompute.run`` task: a whole recompute (or a retry) coordinated from a worker; a small summary.

    ``run_id``: the run row recorded when the job was queued (the API's 202 answer points at it).
    """
    distributed = DistributedOptions(**options) if options else True
    try:
        with session_scope() as session:
            if retry_of is not None:
                summary = retry_run(
                    session=session,
                    run_id=retry_of,
                    triggered_by=triggered_by,
                    distributed=distributed,
                    batch_size=batch_size,
                )
            else:
                summary = recompute_portfolio(
                    session=session,
                    triggered_by=triggered_by,
                    distributed=distributed,
                    batch_size=batch_size,
                    run_id=run_id,
                )
    except RecomputeError as exc:
        return {"run_id": exc.run_id, "status": "failed", "error": str(exc)}
    return {"run_id": summary.run_id, "status": summary.status, "sku_count": summary.sku_count}


def enqueue_recompute(
    *,
    triggered_by: str | None = None,
    retry_of: int | None = None,
    options: DistributedOptions | None = None,
    batch_size: int | None = None,
    run_id: int | None = None,
) -> str:
    """Send a whole recompute (or a retry of ``retry_of``) to the workers; returns the Celery task id.

    The run row appears when a worker starts it (``services.recompute.current_run``), unless ``run_id`` names a run
    already recorded with :func:`services.recompute.start_run`, which the worker then fills.
    """
    options = options or DistributedOptions()
    app = celery_app()
    payload = dataclasses.asdict(options)
    result = app.tasks[RUN_TASK].apply_async(
        kwargs={
            "triggered_by": triggered_by,
            "retry_of": retry_of,
            "options": payload,
            "batch_size": batch_size,
            "run_id": run_id,
        },
        queue=options.queue,
    )
    return str(result.id)


def run_state(*, run_id: int) -> dict[str, str]:
    """What Redis knows of a distributed run: its ``meta`` plus ``window`` / ``alive`` (empty: nothing known)."""
    store = RunStore(run_key(run_id), redis_client())
    meta = store.meta()
    if meta:
        meta["window"] = "open" if store.client.exists(store.k("window")) else "closed"
        meta["alive"] = "yes" if store.client.exists(store.k("alive")) else "no"
        aborted = store.aborted()
        if aborted:
            meta["abort"] = aborted
    return meta


def stale_reason(*, run_id: int) -> str | None:
    """Why a ``running`` run is dead according to Redis, or None (alive, or nothing known)."""
    meta = run_state(run_id=run_id)
    if not meta:
        return None
    if meta.get("window") == "closed":
        return f"deadline passed ({float(meta.get('deadline', 0)):.0f} s for the compute step, then storing)"
    if meta.get("phase") in ("loading", "compute") and meta.get("alive") == "no":
        return f"the process coordinating it ({meta.get('coordinator', '?')}) stopped"
    if meta.get("phase") == "failed":
        return meta.get("abort") or "its compute step failed"
    return None


def reap_stale_runs(*, session: Session) -> list[int]:
    """Mark ``running`` runs that are dead as failed; commits; returns their ids.

    Dead: Redis says so (:func:`stale_reason`: deadline passed or coordinator gone), or, for runs Redis knows
    nothing about, they started more than ``services.recompute.STALE_RUNNING`` ago. The update only touches rows
    still ``running`` (a run finishing at the same moment wins).
    """
    now = utcnow()
    running = session.execute(select(RecomputeRun.id, RecomputeRun.started_at).where(RecomputeRun.status == "running"))
    reaped: list[int] = []
    use_redis = bool(get_settings().redis_url)
    for run_id, started_at in running.all():
        reason = None
        if use_redis:
            try:
                reason = stale_reason(run_id=run_id)
            except Exception:
                log.warning("Redis not reachable while checking run %s", run_id, exc_info=True)
        if reason is None and started_at is not None and started_at < now - STALE_RUNNING:
            reason = f"still running after {STALE_RUNNING}"
        if reason is None:
            continue
        result = session.execute(
            update(RecomputeRun)
            .where(RecomputeRun.id == run_id, RecomputeRun.status == "running")
            .values(status="failed", finished_at=now, error=f"interrupted: {reason}"[:4000])
        )
        if result.rowcount:
            reaped.append(int(run_id))
            log.warning("recompute run %s marked failed: %s", run_id, reason)
            if use_redis:
                with contextlib.suppress(Exception):
                    RunStore(run_key(run_id), redis_client()).abort(f"reaped: {reason}")
    session.commit()
    return reaped


def retry_run(
    *,
    session: Session,
    run_id: int | None = None,
    triggered_by: str | None = None,
    distributed: bool | DistributedOptions | None = None,
    progress: Callable[[float, str], None] | None = None,
    batch_size: int | None = None,
) -> RunSummary:
    """Start a new recompute after the failed (or cancelled) run ``run_id`` (None: the newest such run).

    Dead ``running`` runs are reaped first, so a run whose worker died can be retried at once. The new run covers
    every active SKU (a failed ``--sku`` subset run is retried as a whole-portfolio run).

    Raises
    ------
    UserFacingError
        No such run, it is still running, or it finished.
    services.recompute.RecomputeError
        The retry failed too (recorded as failed; the previous snapshot stays current).
    """
    reap_stale_runs(session=session)
    if run_id is None:
        run = session.scalar(
            select(RecomputeRun)
            .where(RecomputeRun.status.in_(("failed", "cancelled")))
            .order_by(RecomputeRun.id.desc())
            .limit(1)
        )
        if run is None:
            raise UserFacingError("there is no failed or cancelled run to retry")
    else:
        run = session.get(RecomputeRun, int(run_id))
        if run is None:
            raise UserFacingError(f"there is no recompute run {run_id}")
    session.refresh(run)
    if run.status == "running":
        raise UserFacingError(f"run {run.id} is still running; retry it when it has finished or failed")
    if run.status == "finished":
        raise UserFacingError(f"run {run.id} finished; there is nothing to retry (run a new recompute instead)")
    failed_id, who = run.id, triggered_by or run.triggered_by or "retry"
    session.commit()
    return recompute_portfolio(
        session=session,
        triggered_by=f"{who} (retry of run {failed_id})"[:255],
        progress=progress,
        distributed=distributed,
        batch_size=batch_size,
    )


def run_worker(
    *,
    settings: Settings | None = None,
    concurrency: int | None = None,
    queues: list[str] | None = None,
    pool: str = "prefork",
    loglevel: str = "INFO",
    name: str | None = None,
) -> None:
    """Start a Celery worker on :func:`celery_app` in this process (blocks until it stops).

    The caller builds the Dash app first so every background callback is registered as a task.
    """
    app = celery_app(settings)
    argv = [
        "worker",
        f"--loglevel={loglevel}",
        f"--pool={pool}",
        "--queues=" + ",".join(queues or [DEFAULT_QUEUE]),
        "--without-gossip",
        "--without-mingle",
    ]
    if concurrency:
        argv.append(f"--concurrency={int(concurrency)}")
    if name:
        argv.append(f"--hostname={name}")
    app.worker_main(argv=argv)
