"""Background callbacks without Redis start in a forkserver process, never forked from the threaded server
(background_jobs.py): a lock another server thread holds at the click does not hang the job."""

from __future__ import annotations

import os
import threading
import time

import diskcache

from background_jobs import ForkserverManager

HELD_BY_A_SERVER_THREAD = threading.Lock()
"""Stands for any lock a server thread may hold when a job starts (SQLite's, a pool's): a forked child would
inherit it held; a job from the forkserver gets a fresh one."""


def probe_runner(fn_key, cache_dir, result_key, progress_key, args, context, environ) -> None:
    """A job body that needs the lock, and reports where it runs."""
    got = HELD_BY_A_SERVER_THREAD.acquire(timeout=5)
    if got:
        HELD_BY_A_SERVER_THREAD.release()
    diskcache.Cache(cache_dir).set(
        result_key,
        {
            "ppid": os.getppid(),
            "threads": threading.active_count(),
            "lock": got,
            "args": args,
            "env": environ["ICC_PROBE"],
        },
    )


def _wait(cache: diskcache.Cache, key: str, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = cache.get(key)
        if value is not None:
            return value
        time.sleep(0.05)
    raise AssertionError(f"job {key} gave no result within {timeout:.0f} s")


def _manager(tmp_path) -> ForkserverManager:
    manager = ForkserverManager(diskcache.Cache(str(tmp_path / "cache")), runner=probe_runner)
    manager.register("probe", lambda *a: None, False)
    return manager


def test_jobs_start_from_the_forkserver_with_the_click_s_settings(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("ICC_PROBE", "settings of the click")
    manager = _manager(tmp_path)
    assert manager.start_method in ("forkserver", "spawn")
    pid = manager.call_job_fn("job-1", manager.func_registry["probe"], [1, 2], {"custom_data": {}})
    result = _wait(manager.handle, "job-1")
    assert pid != os.getpid()
    assert result["ppid"] != os.getpid(), "the job was forked from the server process"
    assert result["threads"] == 1
    assert result["args"] == [1, 2]
    assert result["env"] == "settings of the click"


def test_a_lock_held_by_another_server_thread_does_not_hang_jobs(tmp_path, monkeypatch) -> None:
    """With ``fork`` each of these jobs would inherit the held lock and wait for it in vain (5 s, then lock False)."""
    monkeypatch.setenv("ICC_PROBE", "x")
    manager = _manager(tmp_path)
    release = threading.Event()

    def hold() -> None:
        with HELD_BY_A_SERVER_THREAD:
            release.wait(60)

    holder = threading.Thread(target=hold, daemon=True)
    holder.start()
    try:
        keys = [f"job-{i}" for i in range(4)]
        starters = [
            threading.Thread(target=manager.call_job_fn, args=(k, manager.func_registry["probe"], [], {})) for k in keys
        ]
        for thread in starters:
            thread.start()
        for thread in starters:
            thread.join(30)
        results = [_wait(manager.handle, k) for k in keys]
    finally:
        release.set()
        holder.join(5)
    assert all(r["lock"] for r in results), results
