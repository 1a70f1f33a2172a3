"""The recompute split across real Celery workers (``python cli.py worker``) gives exactly the in-process snapshot.

Needs PostgreSQL (the suite's test database) and Redis at 127.0.0.1:6379; skipped with the reason otherwise. The
workers use Redis db 13 and a queue of their own; only keys this module created are deleted afterwards.
:class:`WorkerPool` is shared with ``test_faults_workers.py`` (one pool per test process, started on first use).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import _PG_STATE, ROOT, _migrated, _point_settings_at, postgres_url, wipe

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/13")
SKUS, PERIODS, BATCH = 8, 52, 2  # 4 batches


def redis_skip_reason() -> str | None:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except Exception as exc:
        return f"Redis not reachable at {REDIS_URL} ({type(exc).__name__})"
    return None


class WorkerPool:
    """Real worker processes (``cli.py worker --pool solo``) on one queue of their own, started on demand."""

    def __init__(self, *, database_url: str, data_dir: Path) -> None:
        self.queue = f"icc-test-{uuid.uuid4().hex[:10]}"
        self.database_url = database_url
        self.data_dir = data_dir
        self.processes: list[subprocess.Popen] = []
        self.logs: list[Path] = []
        self.task_ids: list[str] = []
        self.names: list[str] = []

    def env(self) -> dict[str, str]:
        env = dict(os.environ, DATABASE_URL=self.database_url, DATA_DIR=str(self.data_dir), REDIS_URL=REDIS_URL)
        env.update(APP_ENV="test", PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
        env.pop("GEMINI_API_KEY", None)
        return env

    def alive(self) -> list[subprocess.Popen]:
        return [p for p in self.processes if p.poll() is None]

    def ensure(self, count: int, *, timeout: float = 90.0) -> list[subprocess.Popen]:
        """At least ``count`` live workers (new ones started in parallel); waits until each says it is ready."""
        started = []
        for _ in range(count - len(self.alive())):
            name = f"w{len(self.processes) + 1}-{uuid.uuid4().hex[:6]}@%h"
            self.names.append(name.split("@")[0] + "@")
            log = self.data_dir / f"worker-{len(self.processes) + 1}.log"
            command = [sys.executable, "cli.py", "worker", "--pool", "solo", "--queue", self.queue, "--name", name]
            with log.open("wb") as out:
                process = subprocess.Popen(
                    command, cwd=ROOT, env=self.env(), stdout=out, stderr=subprocess.STDOUT, start_new_session=True
                )
            self.processes.append(process)
            self.logs.append(log)
            started.append((process, log))
        deadline = time.monotonic() + timeout
        for process, log in started:
            while " ready." not in log.read_text(errors="replace"):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"worker did not start:\n{log.read_text(errors='replace')[-3000:]}")
                time.sleep(0.2)
        return self.alive()

    def kill(self, process: subprocess.Popen) -> None:
        """``kill -9`` the worker's whole process group."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)

    def by_owner(self, owner: str) -> subprocess.Popen | None:
        """The worker whose pid is in a claim's owner (``host:pid``; a solo pool runs tasks in its main process)."""
        pid = int(owner.rsplit(":", 1)[1])
        return next((p for p in self.alive() if p.pid == pid), None)

    def close(self) -> None:
        for process in self.alive():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=3)
            except subprocess.TimeoutExpired:
                self.kill(process)
        self.cleanup_redis()

    def cleanup_redis(self) -> None:
        """Delete what this pool created in Redis: its queue, its unacked messages, the run keys of its database."""
        import redis

        from services.job_store import KEY_PREFIX, _namespace
        from settings import Settings

        client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
        try:
            q = self.queue
            client.delete(
                q, f"_kombu.binding.{q}", f"_kombu.binding_permanent.{q}", *[f"{q}\x06\x16{i}" for i in (3, 6, 9)]
            )
            for tag, payload in client.hscan_iter("unacked"):
                with contextlib.suppress(Exception):
                    if q in json.loads(payload)[1:]:  # [message, exchange, routing_key]
                        client.hdel("unacked", tag)
                        client.zrem("unacked_index", tag)
            for member in client.smembers("_kombu.binding.celery.pidbox"):  # the killed workers' mailboxes
                if any(name in member.decode(errors="replace") for name in self.names):
                    client.srem("_kombu.binding.celery.pidbox", member)
            namespace = _namespace(Settings(DATABASE_URL=self.database_url, APP_ENV="test"))
            keys = list(client.scan_iter(match=f"{KEY_PREFIX}:{namespace}:*", count=500))
            keys += [f"celery-task-meta-{t}" for t in self.task_ids]
            if keys:
                client.delete(*keys)
        finally:
            client.close()


_POOL: dict[str, WorkerPool] = {}


def worker_pool(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> WorkerPool:
    """The process's worker pool (PostgreSQL test database, Redis db 13; stopped when the run ends); skips when
    either is missing."""
    reason = redis_skip_reason()
    if reason:
        pytest.skip(reason)
    url = postgres_url()
    if url is None:
        pytest.skip(f"PostgreSQL tier skipped: {_PG_STATE.get('reason')}")
    if "pool" not in _POOL:
        pool = WorkerPool(database_url=url, data_dir=tmp_path_factory.mktemp("workers"))
        _POOL["pool"] = pool
        request.config.add_cleanup(pool.close)
    return _POOL["pool"]


@pytest.fixture(scope="module", autouse=True)
def _stop_workers_after_module() -> Iterator[None]:
    """Workers do not idle through the rest of the suite (a later test starts new ones if it needs them)."""
    yield
    if "pool" in _POOL:
        _POOL["pool"].close()


@pytest.fixture
def distributed_db(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[WorkerPool]:
    """Settings on the PostgreSQL test database with REDIS_URL set (as the workers see it); a small seeded portfolio."""
    pool = worker_pool(request, tmp_path_factory)
    from settings import get_settings

    monkeypatch.setenv("REDIS_URL", REDIS_URL)
    _point_settings_at(pool.database_url, pool.data_dir)
    _migrated(pool.database_url)
    wipe(pool.database_url)
    from db.session import session_scope
    from services import demo

    with session_scope() as s:
        demo.store(session=s, portfolio=demo.generate(skus=SKUS, periods=PERIODS, seed=5, end=dt.date(2026, 6, 29)))
    yield pool
    monkeypatch.delenv("REDIS_URL")
    get_settings.cache_clear()


def snapshot_rows(run_id: int) -> list[dict]:
    """Every ``sku_snapshot`` column but the ids, per SKU (code order)."""
    from sqlalchemy import select

    from db.models import Sku, SkuSnapshot
    from db.session import session_scope

    columns = [c for c in SkuSnapshot.__table__.columns if c.name not in ("id", "run_id")]
    with session_scope() as s:
        rows = s.execute(
            select(Sku.code, *columns).join(Sku, Sku.id == SkuSnapshot.sku_id).where(SkuSnapshot.run_id == run_id)
            .order_by(Sku.code)
        ).mappings().all()  # fmt: skip
    return [dict(r) for r in rows]


def forecast_rows(run_id: int) -> list[tuple]:
    from sqlalchemy import select

    from db.models import Forecast
    from db.session import session_scope

    with session_scope() as s:
        columns = (Forecast.sku_id, Forecast.period, Forecast.kind, Forecast.mean, Forecast.p10, Forecast.p50)
        query = select(*columns, Forecast.p90).where(Forecast.run_id == run_id)
        rows = s.execute(query.order_by(Forecast.sku_id, Forecast.kind, Forecast.period)).all()
    return [tuple(r) for r in rows]


def run_in_thread(target, *args, **kwargs) -> tuple[threading.Thread, dict]:
    """Run ``target`` in a thread; the dict gets ``result`` or ``error``."""
    box: dict = {}

    def body() -> None:
        try:
            box["result"] = target(*args, **kwargs)
        except BaseException as exc:  # the test inspects it
            box["error"] = exc

    thread = threading.Thread(target=body, daemon=True)
    thread.start()
    return thread, box


def declared_background_callbacks() -> int:
    """How many background callbacks the app registers (Dash's callback registry, read in a fresh interpreter so
    no earlier app in this process has drained it)."""
    code = (
        "from app import create_app; import dash._callback as c; create_app(); "
        "print(sum(1 for v in c.GLOBAL_CALLBACK_MAP.values() if v.get('background')))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    return int(out.stdout.strip().splitlines()[-1])


def assert_workers_run_every_background_callback(pool: WorkerPool) -> None:
    """Each worker registered the recompute tasks and one task per Dash background callback of the app (as many as
    ``background=True`` in callbacks/)."""
    from services.jobs import BATCH_TASK, RUN_TASK, celery_app

    declared = declared_background_callbacks()
    assert declared >= 5, "the app has background callbacks (recompute, import, briefings, commentary, ...)"
    registered = celery_app().control.inspect(timeout=2.0).registered() or {}
    mine = [set(tasks) for name, tasks in registered.items() if any(name.startswith(n) for n in pool.names)]
    assert len(mine) == len(pool.alive())
    for tasks in mine:
        assert {BATCH_TASK, RUN_TASK} <= tasks
        assert len({t for t in tasks if t.startswith("background_callback_")}) == declared
    assert all(tasks == mine[0] for tasks in mine)


def test_two_workers_give_exactly_the_in_process_snapshot(distributed_db: WorkerPool) -> None:
    from db.models import RecomputeRun
    from db.session import session_scope
    from services.jobs import DistributedOptions, recompute_portfolio, workers_listening

    pool = distributed_db
    thread, box = run_in_thread(pool.ensure, 2)  # start the workers while the in-process run computes
    with session_scope() as s:
        local = recompute_portfolio(session=s, triggered_by="in-process", batch_size=BATCH, distributed=False)
    thread.join(timeout=120)
    assert "error" not in box, box.get("error")
    assert len(workers_listening(queue=pool.queue)) == 2
    assert_workers_run_every_background_callback(pool)
    options = DistributedOptions(queue=pool.queue, local_share=False, stall_seconds=20)
    with session_scope() as s:
        remote = recompute_portfolio(session=s, triggered_by="two workers", batch_size=BATCH, distributed=options)

    assert local.status == remote.status == "finished"
    assert remote.batches == local.batches == SKUS // BATCH
    assert remote.workers == 2, "both workers computed batches"
    assert remote.timings["batches_remote"] == SKUS // BATCH and remote.timings["batches_local"] == 0
    expected, got = snapshot_rows(local.run_id), snapshot_rows(remote.run_id)
    assert len(got) == SKUS
    for a, b in zip(expected, got, strict=True):
        assert a == b, {k: (a[k], b[k]) for k in a if a[k] != b[k]}
    assert forecast_rows(local.run_id) == forecast_rows(remote.run_id)
    with session_scope() as s:
        assert s.get(RecomputeRun, remote.run_id).kpis == s.get(RecomputeRun, local.run_id).kpis
