"""Dash background callbacks without Redis: each job runs in a process forked from a clean *forkserver*, never
``fork``-ed from the threaded web server.

Why: Dash's ``DiskcacheManager`` starts every job with ``multiprocess.Process`` and the platform default, ``fork``,
from the request thread. A fork copies the whole server, including locks other threads hold at that instant
(SQLite's, the logging module's, a connection pool's); the child then waits on a lock nobody will release (two
hangs were seen in full test runs, and the browser tier had to serve one request at a time to avoid them).
Python's own documentation warns against ``fork`` in a multi-threaded process (``os.fork``; ``multiprocessing``,
"Contexts and start methods").

How: :class:`ForkserverManager` keeps the diskcache protocol of ``DiskcacheManager`` (results, progress and
``set_props`` in the cache folder; the job id is the process id, so cancelling still kills it) and changes only
how a job starts. The forkserver is a fresh single-threaded interpreter started once per server process; it
preloads :mod:`background_host`, which builds the app (pages and callbacks) once, so a job forks from a warm,
lock-free process in milliseconds. The job receives the callback's registry key, its arguments and context (the
signed-in user travels in the context, see ``callbacks/_user.py``) and the parent's environment (the settings
at the time of the click). Where the platform has no forkserver, ``spawn`` is used (slower: each job imports the
app). With ``REDIS_URL`` set, Celery runs the jobs instead (app.py).
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
from collections.abc import Callable
from typing import Any

import dash
import psutil

log = logging.getLogger(__name__)

HOST_MODULE = "background_host"
"""Imported once by the forkserver: builds the app so that every job forks from a warm process."""


def job_context() -> multiprocessing.context.BaseContext:
    """The start method for jobs: ``forkserver`` (preloading the app) where the platform has it, else ``spawn``."""
    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload([HOST_MODULE])
        return context
    return multiprocessing.get_context("spawn")


class ForkserverManager(dash.DiskcacheManager):
    """``DiskcacheManager`` whose jobs start in a forkserver (or spawned) process, never forked from the server.

    ``runner(fn_key, cache_dir, result_key, progress_key, args, context, environ)`` is the picklable
    top-level function the job process calls (``app.run_background_job``); it finds the callback by its registry
    key, rebuilds Dash's job function around this cache folder and runs it.
    """

    def __init__(self, cache: Any, *, runner: Callable[..., None], **kwargs: Any) -> None:
        self.cache_dir = str(cache.directory)
        self.runner = runner
        self.start_method = job_context().get_start_method()
        super().__init__(cache, **kwargs)

    def terminate_job(self, job: Any) -> None:
        """Dash's, except that a job which has already ended is not an error: the forkserver reaps its children at
        once, so the pid can vanish while Dash walks its child processes (psutil.NoSuchProcess, a 500 otherwise);
        with ``fork`` the ended job lingered as a zombie of the server until then."""
        with contextlib.suppress(psutil.NoSuchProcess):
            super().terminate_job(job)

    def call_job_fn(self, key: str, job_fn: Callable[..., Any], args: Any, context: Any) -> int:
        fn_key = next((k for k, registered in self.func_registry.items() if registered is job_fn), None)
        if fn_key is None:  # not a registered callback: keep Dash's own behaviour
            return super().call_job_fn(key, job_fn, args, context)
        process = job_context().Process(
            target=self.runner,
            args=(
                fn_key,
                self.cache_dir,
                key,
                self._make_progress_key(key),
                args,
                dict(context),
                dict(os.environ),
            ),
            name=f"dash-job-{key[:12]}",
        )
        process.start()
        return process.pid
