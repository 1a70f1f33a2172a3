"""A Celery worker killed (``kill -9``) in the middle of a distributed recompute.

- A worker dies while computing a batch: the coordinator sees its heartbeat stop, the run is marked failed, the
  previous snapshot stays the latest, and a retry (:func:`services.jobs.retry_run`) produces it again.
- The worker coordinating a whole run (``enqueue_recompute``, as the Watchtower's background callback does) dies:
  the run stays ``running`` until :func:`services.jobs.reap_stale_runs` (the watchdog, also run by the next
  recompute) marks it failed; a retry succeeds.

Real worker processes (``python cli.py worker``) on Redis db 13 and a queue of their own, PostgreSQL test database;
skipped with the reason when either is missing. Gemini unreachable is covered by
``tests/integration/test_narrative.py::test_gemini_unreachable_falls_back_quickly_and_pauses_the_model``.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time

from tests.integration.test_scale_workers import (  # noqa: F401  (fixtures)
    BATCH,
    WorkerPool,
    _stop_workers_after_module,
    distributed_db,
    run_in_thread,
    snapshot_rows,
)


def _current_run_id(timeout: float = 60.0) -> int:
    from db.session import session_scope
    from services.runs import current_run

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with session_scope() as s:
            run = current_run(session=s)
            if run is not None:
                return run.id
        time.sleep(0.02)
    raise AssertionError("no run started")


def _stop(process: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGSTOP)


def _resume(process: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGCONT)


def _previous_run() -> tuple[int, list[dict]]:
    from db.session import session_scope
    from services.jobs import recompute_portfolio

    with session_scope() as s:
        summary = recompute_portfolio(session=s, triggered_by="previous", batch_size=BATCH, distributed=False)
    assert summary.status == "finished"
    return summary.run_id, snapshot_rows(summary.run_id)


def _assert_previous_snapshot_is_current(run_id: int, rows: list[dict]) -> None:
    from db.session import session_scope
    from services.runs import latest_run

    with session_scope() as s:
        assert latest_run(session=s).id == run_id
    assert snapshot_rows(run_id) == rows


def test_worker_killed_mid_batch_fails_the_run_keeps_the_snapshot_and_a_retry_succeeds(
    distributed_db: WorkerPool,  # noqa: F811
) -> None:
    from db.models import RecomputeRun
    from db.session import session_scope
    from services.job_store import RunStore, run_key
    from services.jobs import DistributedOptions, recompute_portfolio, redis_client, retry_run
    from services.recompute import RecomputeError

    pool = distributed_db
    thread, box = run_in_thread(pool.ensure, 2)
    previous, rows = _previous_run()
    thread.join(timeout=120)
    assert "error" not in box, box.get("error")

    options = DistributedOptions(queue=pool.queue, local_share=False, stall_seconds=3)

    def doomed():
        with session_scope() as s:
            return recompute_portfolio(session=s, triggered_by="doomed", batch_size=BATCH, distributed=options)

    thread, box = run_in_thread(doomed)
    run_id = _current_run_id()
    store = RunStore(run_key(run_id), redis_client())
    victim = None
    deadline = time.monotonic() + 60
    while victim is None and thread.is_alive() and time.monotonic() < deadline:
        n = int(store.meta().get("batches", "0"))
        done, owners, _ = store.status(n) if n else ([], [], [])
        for i, owner in enumerate(owners):
            process = pool.by_owner(owner) if owner and not done[i] else None
            if process is None:
                continue
            _stop(process)  # freeze it, then make sure its batch is still unfinished before killing it
            if store.status(n)[0][i]:
                _resume(process)  # it finished that batch in between: wait for its next claim
                continue
            pool.kill(process)
            victim = (i, owner)
            break
        time.sleep(0.005)
    assert victim is not None, "no worker was caught computing a batch"
    thread.join(timeout=60)
    assert not thread.is_alive()

    error = box.get("error")
    assert isinstance(error, RecomputeError), box
    assert f"computing batch {victim[0] + 1} of" in str(error) and "stopped responding" in str(error)
    with session_scope() as s:
        run = s.get(RecomputeRun, run_id)
        assert run.status == "failed" and "stopped responding" in run.error
    _assert_previous_snapshot_is_current(previous, rows)
    assert store.aborted(), "the batches still queued are told to skip the run"

    with session_scope() as s:  # the other worker and the coordinator finish the retry
        options = DistributedOptions(queue=pool.queue, stall_seconds=10)
        retry = retry_run(session=s, run_id=run_id, distributed=options, batch_size=BATCH)
    assert retry.status == "finished" and retry.run_id > run_id
    assert f"retry of run {run_id}" in _triggered_by(retry.run_id)
    assert snapshot_rows(retry.run_id) == rows, "the same data gives the same snapshot"


def _triggered_by(run_id: int) -> str:
    from db.models import RecomputeRun
    from db.session import session_scope

    with session_scope() as s:
        return s.get(RecomputeRun, run_id).triggered_by or ""


def test_worker_killed_while_coordinating_a_run_is_reaped_and_the_run_retried(
    distributed_db: WorkerPool,  # noqa: F811
) -> None:
    from db.models import RecomputeRun
    from db.session import session_scope
    from services.jobs import DistributedOptions, enqueue_recompute, reap_stale_runs, retry_run, run_state

    pool = distributed_db
    thread, box = run_in_thread(pool.ensure, 1)
    previous, rows = _previous_run()
    thread.join(timeout=120)
    assert "error" not in box, box.get("error")

    options = DistributedOptions(queue=pool.queue, local_share=True, stall_seconds=2)
    pool.task_ids.append(enqueue_recompute(triggered_by="doomed coordinator", options=options, batch_size=BATCH))
    run_id = _current_run_id()
    deadline = time.monotonic() + 60
    killed = None
    while killed is None and time.monotonic() < deadline:
        state = run_state(run_id=run_id)
        coordinator = pool.by_owner(state["coordinator"]) if state.get("phase") == "compute" else None
        if coordinator is not None:
            _stop(coordinator)
            assert run_state(run_id=run_id).get("phase") == "compute", "the run got past its compute step"
            pool.kill(coordinator)
            killed = coordinator
        time.sleep(0.005)
    assert killed is not None, "the coordinating worker never reached the compute step"

    with session_scope() as s:
        assert s.get(RecomputeRun, run_id).status == "running", "nobody has noticed yet"
    reaped: list[int] = []
    deadline = time.monotonic() + 30
    while run_id not in reaped and time.monotonic() < deadline:  # the coordinator's heartbeat expires after 2 s
        with session_scope() as s:
            reaped = reap_stale_runs(session=s)
        time.sleep(0.25)
    assert reaped == [run_id]
    with session_scope() as s:
        run = s.get(RecomputeRun, run_id)
        assert run.status == "failed" and "coordinating it" in run.error, run.error
    _assert_previous_snapshot_is_current(previous, rows)

    with session_scope() as s:
        retry = retry_run(session=s, distributed=False, batch_size=BATCH)  # the newest failed run
    assert retry.status == "finished"
    assert f"retry of run {run_id}" in _triggered_by(retry.run_id)
    assert snapshot_rows(retry.run_id) == rows
