"""Audit entries for refused anonymous and cross-site requests, rate-limited so nobody can flood the log.

Per (kind, address) at most one entry per ``window_s``; across all keys at most ``ceiling`` entries per window (in
each process). An entry carries how many refusals of its key were left out since the previous one (``suppressed``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict

from flask import request

from auth.identity import client_address
from db.session import session_scope
from services import audit

log = logging.getLogger(__name__)


class RefusalLimiter:
    """Decides which refusals are written to the audit log (thread-safe, bounded memory)."""

    def __init__(self, window_s: float = 60.0, ceiling: int = 120, max_keys: int = 10_000) -> None:
        if window_s <= 0 or ceiling < 1 or max_keys < 1:
            raise ValueError("window_s must be positive, ceiling and max_keys at least 1")
        self.window_s = window_s
        self.ceiling = ceiling
        self.max_keys = max_keys
        self._lock = threading.Lock()
        self._last: OrderedDict[tuple[str, str], tuple[float, int]] = OrderedDict()  # key -> (logged at, left out)
        self._window_start = 0.0
        self._in_window = 0

    def admit(self, key: tuple[str, str], now: float | None = None) -> int | None:
        """None when this refusal is left out; else how many of its key were left out since the last entry."""
        now = time.monotonic() if now is None else now
        with self._lock:
            if now - self._window_start >= self.window_s:
                self._window_start, self._in_window = now, 0
            logged_at, left_out = self._last.get(key, (None, 0))
            if (logged_at is not None and now - logged_at < self.window_s) or self._in_window >= self.ceiling:
                self._last[key] = (logged_at if logged_at is not None else now - self.window_s, left_out + 1)
                self._last.move_to_end(key)
                self._trim()
                return None
            self._last[key] = (now, 0)
            self._last.move_to_end(key)
            self._in_window += 1
            self._trim()
            return left_out

    def _trim(self) -> None:
        while len(self._last) > self.max_keys:
            self._last.popitem(last=False)

    def reset(self) -> None:
        with self._lock:
            self._last.clear()
            self._window_start, self._in_window = 0.0, 0


LIMITER = RefusalLimiter()


def record_refusal(action: str, *, reason: str, user_email: str | None = None) -> None:
    """Audit a refused request (``request.unauthenticated``, ``request.cross_site``, ``api.unauthenticated``), unless
    the limiter leaves it out. A failure to write is logged, never raised (the refusal itself must go out)."""
    address = client_address()
    left_out = LIMITER.admit((action, address))
    if left_out is None:
        return
    details = {"reason": reason, "method": request.method, "path": request.path[:200], "suppressed": left_out}
    origin = request.headers.get("Origin")
    if origin:
        details["origin"] = origin[:200]
    try:
        with session_scope() as session:
            audit.record(
                session=session,
                action=action,
                user_email=user_email,
                target=request.path[:255],
                outcome="denied",
                details=details,
                address=address,
            )
    except Exception:  # the database may be down; the refusal is answered anyway
        log.warning("could not audit a refused request", exc_info=True)
