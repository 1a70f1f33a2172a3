"""A distributed recompute run's data in Redis (used by :mod:`services.jobs`): signed pickles, the run's keys and
:class:`RunStore` (inputs, claims, heartbeats, results and the abort flag of each batch).

Every key is under ``icc:jobs:<namespace>:run:<id>:`` (the namespace a hash of the database URL, so several databases
can share one Redis). Values are pickles signed (itsdangerous, HMAC-SHA256) with the app's ``SECRET_KEY`` (web and
workers must share it); an unsigned or forged blob is refused before it is unpickled.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import math
import os
import pickle
import socket
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from itsdangerous import BadSignature, Signer

from services.errors import UserFacingError
from settings import Settings, get_settings

if TYPE_CHECKING:  # redis is imported by the caller that makes the client
    import redis

log = logging.getLogger(__name__)

KEY_PREFIX = "icc:jobs"


class RunAbortedError(UserFacingError):
    """The distributed compute step stopped: a worker died, the deadline passed, or the run was aborted."""


# --- signed blobs ----------------------------------------------------------------------------------------------------


def _signer() -> Signer:
    """itsdangerous' HMAC-SHA256 signer keyed by ``SECRET_KEY`` (salt ``icc-jobs``: not valid as any other token)."""
    return Signer(get_settings().resolved_secret_key(), salt="icc-jobs", digest_method=hashlib.sha256)


def dumps(value: Any) -> bytes:
    """Pickle ``value`` and sign it (``itsdangerous.Signer``: the pickle, a separator, its HMAC-SHA256)."""
    return _signer().sign(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))


def loads(data: bytes) -> Any:
    """The value :func:`dumps` stored; ``ValueError`` when the signature does not match (never unpickled)."""
    try:
        blob = _signer().unsign(data)
    except BadSignature:
        raise ValueError("data: signature mismatch (is SECRET_KEY the same on the web tier and the workers?)") from None
    return pickle.loads(blob)  # noqa: S301 - signed by us above


# --- the run's keys in Redis -----------------------------------------------------------------------------------------


def _namespace(settings: Settings) -> str:
    return hashlib.sha256(settings.database_url.encode()).hexdigest()[:12]


def run_key(run_id: int, settings: Settings | None = None) -> str:
    """The Redis key prefix of a run's data."""
    settings = settings or get_settings()
    return f"{KEY_PREFIX}:{_namespace(settings)}:run:{int(run_id)}"


_CLAIM = """
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'EX', ARGV[2]) then
  redis.call('SET', KEYS[2], '1', 'EX', ARGV[3])
  return 1
end
return 0
"""


class RunStore:
    """A run's batches in Redis: inputs, claims, heartbeats, results and the abort flag (keys under ``key``)."""

    def __init__(self, key: str, client: redis.Redis) -> None:
        self.key = key
        self.client = client

    def k(self, *parts: object) -> str:
        return ":".join([self.key, *(str(p) for p in parts)])

    # meta
    def meta(self) -> dict[str, str]:
        return {k.decode(): v.decode() for k, v in self.client.hgetall(self.k("meta")).items()}

    def set_phase(self, phase: str, **extra: object) -> None:
        self.client.hset(self.k("meta"), mapping={"phase": phase, **{k: str(v) for k, v in extra.items()}})

    def ttl(self) -> int:
        return max(1, int(self.meta().get("ttl", "3600")))

    # state
    def aborted(self) -> str | None:
        value = self.client.get(self.k("abort"))
        return value.decode() if value is not None else None

    def abort(self, reason: str) -> None:
        self.client.set(self.k("abort"), reason[:500], ex=self.ttl())

    def claim(self, index: int, owner: str, *, stall: float) -> bool:
        """Take batch ``index`` for ``owner`` (atomically with its first heartbeat); False when someone has it."""
        keys = [self.k("claim", index), self.k("hb", index)]
        return bool(self.client.eval(_CLAIM, 2, *keys, owner, self.ttl(), max(1, math.ceil(stall))))

    @contextlib.contextmanager
    def heartbeat(self, key: str, *, stall: float) -> Iterator[None]:
        """Refresh ``key`` (TTL ``stall`` s) from a thread every ``stall / 4`` s while the block runs."""
        stop = threading.Event()
        ttl = max(1, math.ceil(stall))
        self.client.set(key, "1", ex=ttl)

        def beat() -> None:
            while not stop.wait(max(0.25, stall / 4)):
                try:
                    self.client.set(key, "1", ex=ttl)
                except Exception:
                    log.warning("heartbeat %s failed", key, exc_info=True)

        thread = threading.Thread(target=beat, name=f"heartbeat {key}", daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join(timeout=5)

    def put(self, name: str, value: Any) -> None:
        self.client.set(self.k(name), dumps(value), ex=self.ttl())

    def get(self, name: str) -> Any:
        data = self.client.get(self.k(name))
        if data is None:
            raise RunAbortedError(f"the run's {name} is gone from Redis (expired or flushed)")
        return loads(data)

    def status(self, n_batches: int) -> tuple[list[bool], list[str | None], list[bool]]:
        """Per batch: result stored, claim owner (None: unclaimed), heartbeat alive."""
        pipe = self.client.pipeline(transaction=False)
        for i in range(n_batches):
            pipe.exists(self.k("result", i))
            pipe.get(self.k("claim", i))
            pipe.exists(self.k("hb", i))
        flat = pipe.execute()
        done = [bool(flat[3 * i]) for i in range(n_batches)]
        owners = [flat[3 * i + 1].decode() if flat[3 * i + 1] is not None else None for i in range(n_batches)]
        alive = [bool(flat[3 * i + 2]) for i in range(n_batches)]
        return done, owners, alive

    def cleanup(self, n_batches: int) -> None:
        """Delete everything but ``meta`` and ``abort``."""
        names = ["settings", "window", "alive"]
        for i in range(n_batches):
            names += [f"inputs:{i}", f"claim:{i}", f"hb:{i}", f"result:{i}"]
        for start in range(0, len(names), 500):
            self.client.delete(*[self.k(n) for n in names[start : start + 500]])


def worker_name() -> str:
    """This process as a claim owner: host name and process id."""
    return f"{socket.gethostname()}:{os.getpid()}"
