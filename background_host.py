"""Preloaded once by the background jobs' forkserver (``background_jobs.py``): builds the app there, so that every
job forks from a warm, single-threaded process that already has the pages and callbacks registered.

Nothing imports this module; the forkserver does, by name. A failure here is logged and the job builds the app
itself (``app.run_background_job``), so a broken preload costs time, never a job.
"""

from __future__ import annotations

import logging

try:
    from app import app_is_built, create_app

    if not app_is_built():
        create_app(migrate=False)
except Exception:  # a forkserver must start even when the preload fails (see the docstring)
    logging.getLogger(__name__).exception("background jobs: preloading the app in the forkserver failed")
