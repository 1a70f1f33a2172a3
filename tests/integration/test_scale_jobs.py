"""Scale and reliability without worker processes: the stateless audit, services.jobs' pieces (signed blobs, Celery
configuration, the watchdog, retries, a reaped run never stored), /healthz and /readyz, and 503 answers for outages.

Redis parts use db 13 at 127.0.0.1:6379 (skipped with the reason when it is not reachable) and delete only their keys.
"""

from __future__ import annotations

import ast
import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT

REDIS_URL = "redis://127.0.0.1:6379/13"
DEAD_REDIS_URL = "redis://127.0.0.1:1/13"  # port 1: nothing listens

# --------------------------------------------------------------------------------------------------------------------
# stateless web tier

# Module-level caches and mutable state in the application code, each with why it is safe with several workers and
# containers (docs/scaling.md repeats this list). A new one fails the test until it is justified here.
ALLOWED_STATE = {
    "settings.py:get_settings": "settings from the environment: the same in every process",
    "app.py:_BUILT": "the app this process built (Dash pages and callbacks are process-global: code, not data)",
    "db/session.py:_ENGINES": "connection pools per database URL (no data; disposed in forked children)",
    "db/session.py:_factory": "sessionmaker per database URL (no data)",
    "services/jobs.py:_APPS": "the Celery app per Redis URL (code and connection pools, no data)",
    "services/jobs.py:_REDIS": "the Redis connection pool per URL (no data)",
    "services/jobs.py:_APP_HOOKS": "functions that add tasks to the Celery app, registered at import (code, not data)",
    "auth/guard.py:CALLBACK_ROLES": "callback output id -> role, filled when the callbacks are registered at import",
    "auth/guard.py:CALLBACK_KEY_ROLES": "callback key -> role, filled at import (code, the same in every process)",
    "auth/guard.py:PATTERN_KEYS": "pattern-matching callback ids, filled at import (code)",
    "layouts/_scope.py:SHOWN": "an empty CSS style constant (never mutated)",
    "ai/prompts/__init__.py:load_template": "prompt templates read from files shipped with the code",
    "ai/providers/base.py:_REGISTRY": "provider classes registered at import (code, not data)",
    "ai/providers/base.py:_DISCOVERED": "whether the provider modules were imported (code, not data)",
    "layouts/_charts.py:_template": "plotly's built-in plotly_white template (a constant)",
    "reports/fonts.py:_codepoints": "glyph sets of font files shipped with the image (constant)",
    "reports/charts.py:_font_families": "matplotlib font registration of shipped fonts (constant)",
    "services/narrative.py:_PAUSED_UNTIL": (
        "a per-process back-off after Gemini failed (a hint, not data: another worker may ask once more, "
        "the answer is cached in the database either way)"
    ),
}
CONTAINERS = ("dict", "list", "set", "defaultdict", "OrderedDict", "deque")
SCANNED = ("app.py", "settings.py", "api", "auth", "callbacks", "layouts", "services", "db", "ai", "reports", "core")


def _module_state(path: Path) -> set[str]:
    """Names of module-level caches (lru_cache / functools.cache), `global` targets and empty mutable containers."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Global):
            found.update(node.names)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for decorator in node.decorator_list:
                target = decorator.func if isinstance(decorator, ast.Call) else decorator
                name = target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", "")
                if name in ("lru_cache", "cache", "cached_property") and node in tree.body:
                    found.add(node.name)
    for node in tree.body:  # module level only
        value = node.value if isinstance(node, ast.Assign | ast.AnnAssign) else None
        targets = (
            node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
        )
        literal = isinstance(value, ast.Dict | ast.List | ast.Set)
        empty_literal = literal and not (value.keys if isinstance(value, ast.Dict) else value.elts)
        factory = isinstance(value, ast.Call) and getattr(value.func, "id", "") in CONTAINERS and not value.args
        if empty_literal or factory:
            found.update(t.id for t in targets if isinstance(t, ast.Name))
    return found


def test_the_web_tier_keeps_no_unjustified_per_process_state() -> None:
    found: set[str] = set()
    for entry in SCANNED:
        paths = [ROOT / entry] if entry.endswith(".py") else sorted((ROOT / entry).rglob("*.py"))
        for path in paths:
            found.update(f"{path.relative_to(ROOT).as_posix()}:{name}" for name in _module_state(path))
    unexplained = sorted(found - set(ALLOWED_STATE))
    assert not unexplained, (
        "module-level caches / mutable state found; keep data in the database or Redis, or justify them in "
        f"ALLOWED_STATE and docs/scaling.md: {unexplained}"
    )


def test_the_audit_finds_a_cache_and_module_state(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import functools\n_SEEN = {}\nROWS: list[int] = []\nLABELS = {'a': 1}\n"
        "@functools.lru_cache(maxsize=8)\ndef load(x):\n    return x\n"
        "def bump():\n    global COUNT\n    COUNT = 1\n"
    )
    assert _module_state(sample) == {"_SEEN", "ROWS", "load", "COUNT"}


# --------------------------------------------------------------------------------------------------------------------
# services.jobs pieces


def test_signed_blobs_round_trip_and_refuse_tampering(sqlite_db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from services import job_store
    from settings import get_settings

    blob = job_store.dumps({"codes": ["A", "B"], "x": 1.5})
    assert job_store.loads(blob) == {"codes": ["A", "B"], "x": 1.5}
    for at in (0, len(blob) // 2, len(blob) - 10):  # the pickle, and the signature after it
        tampered = blob[:at] + bytes([blob[at] ^ 1]) + blob[at + 1 :]
        with pytest.raises(ValueError, match="signature"):
            job_store.loads(tampered)
    with pytest.raises(ValueError, match="signature"):
        job_store.loads(b"short")
    monkeypatch.setenv("SECRET_KEY", "another key")
    get_settings.cache_clear()
    try:
        with pytest.raises(ValueError, match="SECRET_KEY"):
            job_store.loads(blob)
    finally:
        monkeypatch.delenv("SECRET_KEY")
        get_settings.cache_clear()


def test_celery_app_is_one_per_url_with_json_tasks_and_the_recompute_tasks() -> None:
    from services import jobs
    from settings import Settings

    settings = Settings(REDIS_URL=DEAD_REDIS_URL, APP_ENV="test")  # building the app does not connect
    app = jobs.celery_app(settings)
    assert app is jobs.celery_app(settings)
    assert app.conf.task_default_queue == jobs.DEFAULT_QUEUE
    assert app.conf.task_serializer == "json" and app.conf.accept_content == ["json"]
    assert app.conf.worker_prefetch_multiplier == 1
    batch = app.tasks[jobs.BATCH_TASK]
    assert batch.acks_late and batch.reject_on_worker_lost
    assert jobs.RUN_TASK in app.tasks
    with pytest.raises(jobs.JobsUnavailableError, match="REDIS_URL"):
        jobs.celery_app(Settings(APP_ENV="test"))


def test_options_are_validated_and_resolved(sqlite_db: str) -> None:
    from services.jobs import DistributedOptions, JobsUnavailableError, resolve_options

    assert resolve_options(False, n_batches=10) is None
    assert resolve_options(None, n_batches=10) is None  # no REDIS_URL: in-process as before
    with pytest.raises(JobsUnavailableError):
        resolve_options(True, n_batches=10)
    with pytest.raises(ValueError, match="stall_seconds"):
        DistributedOptions(stall_seconds=0)
    with pytest.raises(ValueError, match="deadline_seconds"):
        DistributedOptions(deadline_seconds=-1)
    assert DistributedOptions().deadline_for(10_000) == 1600
    assert DistributedOptions(deadline_seconds=30).deadline_for(10_000) == 30


@pytest.fixture
def with_redis(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """REDIS_URL on the shared Redis' db 13 for this test; its run keys are deleted afterwards."""
    import redis

    from settings import get_settings

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except Exception as exc:
        pytest.skip(f"Redis not reachable at {REDIS_URL} ({type(exc).__name__})")
    monkeypatch.setenv("REDIS_URL", REDIS_URL)
    get_settings.cache_clear()
    from services.job_store import KEY_PREFIX, _namespace

    namespace = _namespace(get_settings())
    yield REDIS_URL
    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(match=f"{KEY_PREFIX}:{namespace}:*"))
    if keys:
        client.delete(*keys)
    monkeypatch.delenv("REDIS_URL")
    get_settings.cache_clear()


def _run(session, *, started_minutes_ago: float = 0, status: str = "running") -> int:
    from db.models import RecomputeRun, utcnow

    run = RecomputeRun(status=status, started_at=utcnow() - dt.timedelta(minutes=started_minutes_ago))
    session.add(run)
    session.flush()
    return run.id


def test_watchdog_marks_dead_runs_failed_and_leaves_live_ones(db_url: str, session, with_redis: str) -> None:
    from db.models import RecomputeRun
    from services.job_store import RunStore, run_key
    from services.jobs import reap_stale_runs, redis_client

    client = redis_client()

    def meta(run_id: int, *, phase: str, window: bool, alive: bool) -> RunStore:
        store = RunStore(run_key(run_id), client)
        client.hset(store.k("meta"), mapping={"phase": phase, "deadline": 60, "coordinator": "host:1", "ttl": 60})
        if window:
            client.set(store.k("window"), "1", ex=60)
        if alive:
            client.set(store.k("alive"), "1", ex=60)
        return store

    live = _run(session)
    meta(live, phase="compute", window=True, alive=True)
    orphan = _run(session)
    orphan_store = meta(orphan, phase="compute", window=True, alive=False)
    late = _run(session)
    meta(late, phase="store", window=False, alive=False)
    storing = _run(session)
    meta(storing, phase="store", window=True, alive=False)  # coordinator done computing, writing: not dead
    old = _run(session, started_minutes_ago=90)  # Redis knows nothing: the age rule
    young = _run(session, started_minutes_ago=5)
    finished = _run(session, status="finished")
    meta(finished, phase="store", window=False, alive=False)
    session.commit()

    assert sorted(reap_stale_runs(session=session)) == sorted([orphan, late, old])
    statuses = {r.id: (r.status, r.error) for r in session.query(RecomputeRun).all()}
    assert statuses[live][0] == statuses[storing][0] == statuses[young][0] == "running"
    assert statuses[finished] == ("finished", None)
    assert "coordinating it (host:1) stopped" in statuses[orphan][1]
    assert "deadline passed" in statuses[late][1]
    assert "still running after" in statuses[old][1]
    assert orphan_store.aborted(), "batches still queued for a reaped run skip it"
    assert reap_stale_runs(session=session) == []


def _seed(skus: int = 6, periods: int = 40) -> None:
    from db.session import session_scope
    from services import demo

    with session_scope() as s:
        demo.store(session=s, portfolio=demo.generate(skus=skus, periods=periods, seed=3, end=dt.date(2026, 6, 29)))


def test_retry_after_a_failure_and_a_reaped_run_is_never_stored(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from sqlalchemy import func, select, update

    from db.models import RecomputeRun, SkuSnapshot
    from db.session import session_scope
    from services import recompute as rc
    from services import runs
    from services.errors import UserFacingError
    from services.jobs import retry_run

    _seed()
    real_compute = rc.compute

    def broken(**_kwargs):
        raise RuntimeError("worker lost")

    monkeypatch.setattr(rc, "compute", broken)
    with pytest.raises(rc.RecomputeError, match="worker lost") as failed, session_scope() as s:
        rc.recompute(session=s, triggered_by="planner@example.com")
    first = failed.value.run_id
    monkeypatch.setattr(rc, "compute", real_compute)

    with session_scope() as s:
        with pytest.raises(UserFacingError, match="no recompute run 999"):
            retry_run(session=s, run_id=999)
        retried = retry_run(session=s)  # the newest failed run
    assert retried.status == "finished" and retried.run_id == first + 1
    with session_scope() as s:
        assert s.get(RecomputeRun, retried.run_id).triggered_by == f"planner@example.com (retry of run {first})"
        with pytest.raises(UserFacingError, match="finished; there is nothing to retry"):
            retry_run(session=s, run_id=retried.run_id)
        running = _run(s)
        s.commit()
        with pytest.raises(UserFacingError, match="still running"):
            retry_run(session=s, run_id=running)
        s.execute(update(RecomputeRun).where(RecomputeRun.id == running).values(status="cancelled"))

    def reaped_meanwhile(**kwargs):  # the watchdog marks the run failed while its batches compute
        result = real_compute(**kwargs)
        with session_scope() as other:
            other.execute(update(RecomputeRun).where(RecomputeRun.status == "running").values(status="failed"))
        return result

    monkeypatch.setattr(rc, "compute", reaped_meanwhile)
    discarded = "no longer running; its results were discarded"
    with pytest.raises(rc.RecomputeError, match=discarded) as late, session_scope() as s:
        rc.recompute(session=s, triggered_by="zombie")
    with session_scope() as s:
        assert runs.latest_run(session=s).id == retried.run_id
        assert s.get(RecomputeRun, late.value.run_id).status == "failed"
        rows = s.scalar(select(func.count()).select_from(SkuSnapshot).where(SkuSnapshot.run_id == late.value.run_id))
        assert rows == 0


def test_cli_worker_retry_and_watchdog_answer_in_one_line(sqlite_db: str, capsys: pytest.CaptureFixture) -> None:
    import cli

    assert cli.main(["worker"]) == 2
    assert "REDIS_URL is not set" in capsys.readouterr().err
    assert cli.main(["retry-run"]) == 2
    assert "no failed or cancelled run to retry" in capsys.readouterr().err
    assert cli.main(["watchdog"]) == 0
    assert capsys.readouterr().out.strip() == "no stale run"


# --------------------------------------------------------------------------------------------------------------------
# health and outages over HTTP (demo app)


def test_healthz_and_readyz_report_the_database_and_redis(client_as, monkeypatch: pytest.MonkeyPatch) -> None:
    import redis

    from settings import get_settings

    client = client_as(None)
    assert client.get("/healthz").get_json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.get_json() == {"status": "ok", "database": "ok", "migrations": "head"}

    monkeypatch.setenv("REDIS_URL", DEAD_REDIS_URL)
    get_settings.cache_clear()
    try:
        ready = client.get("/readyz")
        assert ready.status_code == 503
        body = ready.get_json()
        assert body["redis"] == "unreachable" and body["database"] == "ok" and "ConnectionError" in body["detail"]
        assert client.get("/healthz").status_code == 200, "the process is up even when Redis is not"
        try:
            redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
        except Exception:
            return  # no Redis here: the reachable case cannot be shown
        monkeypatch.setenv("REDIS_URL", REDIS_URL)
        get_settings.cache_clear()
        ready = client.get("/readyz")
        assert ready.status_code == 200 and ready.get_json()["redis"] == "ok"
    finally:
        monkeypatch.delenv("REDIS_URL")
        get_settings.cache_clear()


def _db_down(*_args, **_kwargs):
    from sqlalchemy.exc import OperationalError

    raise OperationalError("SELECT 1", {}, Exception("server closed the connection unexpectedly"))


def test_a_database_outage_answers_503_with_a_clear_message_everywhere(
    client_as, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    from services import user_sessions, users

    viewer = client_as("viewer")
    deps = viewer.get("/_dash-dependencies").get_json()
    router = next(d for d in deps if "_pages_content" in d["output"])
    body = {
        "output": router["output"],
        "outputs": [
            {"id": p.rsplit(".", 1)[0], "property": p.rsplit(".", 1)[1]} for p in router["output"][2:-2].split("...")
        ],
        "inputs": [dict(i, value="/" if i["property"] == "pathname" else "") for i in router["inputs"]],
        "state": [dict(s, value=None) for s in router.get("state", [])],
        "changedPropIds": ["_pages_location.pathname"],
    }
    monkeypatch.setattr(users, "get_user", _db_down)  # the session's user is loaded from the database
    monkeypatch.setattr(user_sessions, "user_of", _db_down)  # ... through its server-side session (issue 16)
    monkeypatch.setattr(users, "user_for_token", _db_down)

    page = viewer.get("/sku")
    assert page.status_code == 503 and page.headers["Retry-After"] == "5"
    assert "The database is not available right now" in page.get_data(as_text=True)
    callback = viewer.post("/_dash-update-component", data=json.dumps(body), content_type="application/json")
    assert callback.status_code == 503
    assert callback.get_json()["error"]["code"] == "database_unavailable"
    api = client_as(None).get("/api/v1/skus", headers={"Authorization": "Bearer whatever"})
    assert api.status_code == 503
    assert api.get_json() == {
        "error": {"code": "database_unavailable", "message": api.get_json()["error"]["message"], "details": []}
    }
    assert "try again" in api.get_json()["error"]["message"]

    monkeypatch.undo()  # the database is back: the same app serves again
    assert viewer.get("/sku").status_code == 200
    again = viewer.post("/_dash-update-component", data=json.dumps(body), content_type="application/json")
    assert again.status_code == 200


def test_a_queue_outage_answers_503_jobs_unavailable(client_as, monkeypatch: pytest.MonkeyPatch) -> None:
    from kombu.exceptions import OperationalError

    from services import users

    def queue_down(**_kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:1. Connection refused.")

    monkeypatch.setattr(users, "user_for_token", queue_down)
    api = client_as(None).get("/api/v1/skus", headers={"Authorization": "Bearer whatever"})
    assert api.status_code == 503 and api.get_json()["error"]["code"] == "jobs_unavailable"
    assert "job queue (Redis) cannot be reached" in api.get_json()["error"]["message"]


def test_workers_starting_together_migrate_once(tmp_path: Path) -> None:
    """Four gunicorn workers (here: threads) finding migrations pending at once: one migrates, none fails."""
    import threading
    import uuid

    import sqlalchemy as sa

    from db import migrate
    from db.session import MIGRATION_LOCK_KEY, advisory_lock
    from tests.conftest import _admin_pg_url, postgres_url

    if postgres_url() is None:
        pytest.skip("PostgreSQL tier skipped: no server reachable")
    name = f"icc_test_migrate_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(_admin_pg_url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engines = [sa.create_engine(_admin_pg_url().rsplit("/", 1)[0] + "/" + name) for _ in range(4)]
    errors: list[BaseException] = []
    start = threading.Barrier(len(engines))

    def boot(engine: sa.Engine) -> None:  # what create_app does
        try:
            start.wait()
            if not migrate.is_at_head(engine):
                with advisory_lock(engine, MIGRATION_LOCK_KEY):
                    if not migrate.is_at_head(engine):
                        migrate.upgrade(engine)
        except BaseException as exc:
            errors.append(exc)

    try:
        threads = [threading.Thread(target=boot, args=(e,)) for e in engines]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert not errors, errors
        assert migrate.is_at_head(engines[0])
        with engines[0].connect() as held, advisory_lock(engines[1], MIGRATION_LOCK_KEY):
            assert held.scalar(sa.text("SELECT pg_try_advisory_lock(:k)"), {"k": MIGRATION_LOCK_KEY}) is False
    finally:
        for engine in engines:
            engine.dispose()
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
