"""Load test: concurrent viewers on the Watchtower, the SKU page and the API, against gunicorn on PostgreSQL.

Run: ``.venv/bin/python -m bench.load [--users 50] [--seconds 60] [--skus 10000] [--workers 4] [--threads 4]
[--think 1.0] [--database NAME --keep] [--snapshot recompute|synthetic]``; a smoke run: ``--users 5 --seconds 10
--skus 500``.

1. A PostgreSQL database (throwaway unless ``--database NAME --keep``, reused when it already holds ``--skus`` SKUs
   and a finished run of that size) with the demo portfolio (``services.demo``, ``--periods`` weeks) and a snapshot
   (``services.recompute``; ``--snapshot synthetic`` writes a synthetic one, as the tests do); a viewer account and
   an API token for it (``services.users.create_token``).
2. The app under gunicorn in a subprocess on a free loopback port (``--workers`` processes x ``--threads``), every
   process with the same SECRET_KEY, no REDIS_URL (viewers start no background job).
3. ``--users`` viewers, each a thread with its own signed-in session, for ``--seconds`` (after a short warm-up that
   is not counted), at most ``--max-requests`` requests in all. Each repeats, with a random think time of 0 to
   2 x ``--think`` seconds between actions (0: no pause at all, a stress test):
   - a Watchtower filter change: the controls -> store, URL and count callback, then the store -> charts one;
   - a Watchtower grid block (sort, filter, offset: the infinite row model's request);
   - a SKU page: the page render (pages router) and the order-quantity what-if callback;
   - the API: ``GET /api/v1/skus`` (a filtered page of 20), ``/skus/<code>`` and ``/summary``.
   The request shapes are read from ``/_dash-dependencies`` (the callbacks in callbacks/watchtower.py and
   callbacks/sku.py) as the browser does.
4. Prints throughput, p50 / p95 / p99 overall and per request kind, and the errors (any status other than 200 / 204,
   or no answer within 30 s). Target: zero errors and p95 <= 500 ms. Loopback only; not a test: exits 0.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.dashboard import (  # noqa: E402  (shared with the dashboard bench)
    FILTER_NAMES,
    _callback_body,
    _database,
    _demo_portfolio,
    _drop,
    _ensure_user,
    _free_port,
    _login,
    _stop,
    _wait_ready,
)

EMAIL = "load-viewer@example.com"
TIMEOUT_S = 30.0
TARGET_P95_MS = 500.0


# --------------------------------------------------------------------------------------------------------------------
# database


def _prepare(*, skus: int, periods: int, snapshot: str) -> dict[str, Any]:
    """Demo data, a snapshot, the viewer and its API token; what the viewers pick from (filters, SKU codes)."""
    from sqlalchemy import select

    from db.models import Sku, SkuSnapshot
    from db.session import session_scope
    from services import users
    from services.runs import latest_run
    from services.watchtower import filter_options

    info, stale = _demo_portfolio(skus=skus, periods=periods)
    if "seed_s" in info:
        info["seed_s"] = round(info["seed_s"], 1)
    if stale:
        mark = time.perf_counter()
        if snapshot == "recompute":
            from services.recompute import recompute

            print(f"recomputing {skus:,} SKUs (once; keep the database with --database NAME --keep)", flush=True)
            with session_scope() as s:
                recompute(session=s, triggered_by="bench-load")
        else:
            from tests.integration.test_watchtower_data import write_synthetic_run

            with session_scope() as s:
                write_synthetic_run(s, seed=3, triggered_by="bench-load-synthetic")
        info["snapshot_s"] = round(time.perf_counter() - mark, 1)
    _ensure_user(email=EMAIL, role="viewer")
    with session_scope() as s:
        token = users.create_token(session=s, email=EMAIL, name=f"bench-load-{uuid.uuid4().hex[:6]}")
    with session_scope() as s:
        run = latest_run(session=s)
        codes = list(
            s.scalars(
                select(Sku.code)
                .join(SkuSnapshot, SkuSnapshot.sku_id == Sku.id)
                .where(SkuSnapshot.run_id == run.id)
                .order_by(SkuSnapshot.value_at_risk.desc().nulls_last(), Sku.code)
                .limit(2000)
            )
        )
        options = filter_options(session=s, run_id=run.id)
    info.update(run_id=run.id, run_skus=run.sku_count, triggered_by=run.triggered_by)
    return {"info": info, "token": token, "run": {"run_id": run.id, "sku_count": run.sku_count},
            "codes": codes, "options": options}  # fmt: skip


# --------------------------------------------------------------------------------------------------------------------
# server


def _serve(*, url: str, data_dir: Path, port: int, workers: int, threads: int, keep_alive: int) -> subprocess.Popen:
    env = dict(os.environ, DATABASE_URL=url, DATA_DIR=str(data_dir), APP_ENV="dev", PYTHONPATH=str(ROOT))
    env["SECRET_KEY"] = uuid.uuid4().hex  # one key for every worker process (sessions signed by one are read by all)
    env["DB_POOL_SIZE"], env["DB_MAX_OVERFLOW"] = str(threads), str(threads)
    env.pop("GEMINI_API_KEY", None)  # offline: the commentary comes from the offline writer
    env.pop("REDIS_URL", None)
    command = [
        sys.executable, "-m", "gunicorn", "--workers", str(workers), "--threads", str(threads),
        "--keep-alive", str(keep_alive), "--bind", f"127.0.0.1:{port}", "--timeout", "120", "--log-level", "warning",
        "app:server",
    ]  # fmt: skip
    log = (data_dir / "gunicorn.log").open("wb")
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    return _wait_ready(process, port, seconds=180, exited=f"; see {data_dir / 'gunicorn.log'}")


# --------------------------------------------------------------------------------------------------------------------
# viewers


@dataclass
class Recorder:
    """Latencies and errors of every request, by kind (thread-safe)."""

    samples: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    no_update: dict[str, int] = field(default_factory=lambda: defaultdict(int))  # 204: the callback changed nothing
    count: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, kind: str, ms: float, error: str | None, status: int | None = None) -> int:
        with self.lock:
            self.samples[kind].append(ms)
            if error:
                self.errors[kind].append(error)
            if status == 204:
                self.no_update[kind] += 1
            self.count += 1
            return self.count


class Viewer:
    """One signed-in viewer: a requests session, the Dash dependencies and an API token."""

    NAMES = FILTER_NAMES
    WORDS = ("cola", "water", "bearing", "pods", "XL", "mini", "family", "pump", "s-00", "b-0")

    def __init__(self, base: str, token: str, deps: list[dict[str, Any]], shared: dict[str, Any], seed: int) -> None:
        import requests

        self.base, self.token, self.deps, self.shared = base, token, deps, shared
        self.http = requests.Session()
        self.api = requests.Session()
        self.api.headers["Authorization"] = f"Bearer {token}"
        self.rng = random.Random(seed)
        self.run = shared["run"]

    def login(self) -> None:
        _login(self.http, self.base, email=EMAIL, timeout=TIMEOUT_S)

    def dep(self, fragment: str) -> dict[str, Any]:
        return next(d for d in self.deps if fragment in d["output"])

    # one request -----------------------------------------------------------------------------------------------
    def _timed(self, recorder: Recorder, kind: str, send) -> Any:
        import requests

        mark = time.perf_counter()
        error, response = None, None
        try:
            response = send()
            if response.status_code not in (200, 204):
                error = f"HTTP {response.status_code}: {response.text[:160]!r}"
        except requests.RequestException as exc:
            error = f"{type(exc).__name__}: {str(exc)[:160]}"
        status = response.status_code if response is not None else None
        recorder.add(kind, (time.perf_counter() - mark) * 1000, error, status)
        return response if error is None else None

    def call(self, recorder: Recorder, kind: str, dep: dict[str, Any], values: dict[str, Any], changed: str) -> Any:
        body = json.dumps(_callback_body(dep, values, changed))
        response = self._timed(
            recorder,
            kind,
            lambda: self.http.post(
                f"{self.base}/_dash-update-component",
                data=body,
                headers={"Content-Type": "application/json"},
                timeout=TIMEOUT_S,
            ),
        )
        if response is None or response.status_code == 204:
            return {}
        return response.json().get("response", {})

    # actions ---------------------------------------------------------------------------------------------------
    def random_filters(self, search: bool) -> dict[str, Any]:
        options = self.shared["options"]
        chosen: dict[str, Any] = {}
        for name in self.NAMES.values():
            values = options.get(name) or []
            pick = values and self.rng.random() < 0.3
            chosen[name] = self.rng.sample(values, k=min(len(values), self.rng.randint(1, 2))) if pick else []
        chosen["search"] = self.rng.choice(self.WORDS) if search else ""
        return chosen

    def filter_change(self, recorder: Recorder) -> None:
        filters_dep, charts_dep = self.dep("watchtower-filters.data"), self.dep("watchtower-category-chart.figure")
        controls = [i for i in filters_dep["inputs"] if i["property"] == "value" and i["id"] in self.NAMES]
        chosen = self.random_filters(search=self.rng.random() < 0.4)
        values = {f"{c['id']}.value": chosen[self.NAMES[c["id"]]] for c in controls}
        values["watchtower-search.value"] = chosen["search"]
        values["watchtower-run.data"] = self.run
        changed = "watchtower-search.value" if chosen["search"] else f"{self.rng.choice(controls)['id']}.value"
        response = self.call(recorder, "watchtower filters", filters_dep, values, changed)
        store = (response.get("watchtower-filters") or {}).get("data") or {}
        values = {"watchtower-filters.data": store, "watchtower-run.data": self.run}
        self.call(recorder, "watchtower charts", charts_dep, values, "watchtower-filters.data")

    def grid_block(self, recorder: Recorder) -> None:
        from services.watchtower import SORT_COLUMNS

        start = self.rng.choice([0, 0, 0, 100, 200, 500, 1000, 5000])
        request = {
            "startRow": start,
            "endRow": start + 100,
            "sortModel": [{"colId": self.rng.choice(list(SORT_COLUMNS)), "sort": self.rng.choice(["asc", "desc"])}],
        }
        values = {
            "watchtower-grid.getRowsRequest": request,
            "watchtower-filters.data": self.random_filters(search=self.rng.random() < 0.2),
            "watchtower-run.data": self.run,
        }
        self.call(recorder, "watchtower grid block", self.dep("watchtower-grid.getRowsResponse"), values,
                  "watchtower-grid.getRowsRequest")  # fmt: skip

    def sku_page(self, recorder: Recorder) -> None:
        code = self.rng.choice(self.shared["codes"])
        router = self.dep("_pages_content")
        values = {"_pages_location.pathname": f"/sku/{code}", "_pages_location.search": ""}
        self.call(recorder, "sku page render", router, values, "_pages_location.pathname")
        values = {
            "sku-order-qty.value": self.rng.randint(0, 5000),
            "sku-code.data": {"code": code, "run_id": self.run["run_id"]},
        }
        self.call(recorder, "sku what-if", self.dep("sku-projection-chart.figure"), values, "sku-order-qty.value")

    def api_calls(self, recorder: Recorder) -> None:
        status = self.rng.choice(self.shared["options"].get("status") or [""])
        self._timed(recorder, "api skus (page of 20)", lambda: self.api.get(
            f"{self.base}/api/v1/skus", params={"status": status, "per_page": 20, "sort": "-value_at_risk"},
            timeout=TIMEOUT_S))  # fmt: skip
        code = self.rng.choice(self.shared["codes"])
        self._timed(recorder, "api sku", lambda: self.api.get(f"{self.base}/api/v1/skus/{code}", timeout=TIMEOUT_S))
        self._timed(recorder, "api summary", lambda: self.api.get(f"{self.base}/api/v1/summary", timeout=TIMEOUT_S))

    ACTIONS = (("filter_change", 3), ("grid_block", 3), ("sku_page", 2), ("api_calls", 2))

    def act(self, recorder: Recorder) -> None:
        names = [name for name, _ in self.ACTIONS]
        weights = [weight for _, weight in self.ACTIONS]
        getattr(self, self.rng.choices(names, weights=weights)[0])(recorder)


def _drive(viewers: list[Viewer], *, seconds: float, think: float, max_requests: int) -> tuple[Recorder, float]:
    """Every viewer acts until ``seconds`` pass or ``max_requests`` are made; returns the recorder and wall time."""
    recorder = Recorder()
    stop = threading.Event()
    deadline = time.perf_counter() + seconds

    def loop(viewer: Viewer) -> None:
        time.sleep(viewer.rng.uniform(0, min(think, 1.0)))  # stagger the start
        while not stop.is_set() and time.perf_counter() < deadline:
            viewer.act(recorder)
            if recorder.count >= max_requests:
                stop.set()
            if think > 0:
                stop.wait(viewer.rng.uniform(0, 2 * think))

    start = time.perf_counter()
    threads = [threading.Thread(target=loop, args=(v,), daemon=True) for v in viewers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + 2 * TIMEOUT_S + 10)
    return recorder, time.perf_counter() - start


def _percentile(ordered: list[float], q: float) -> float:
    return ordered[min(len(ordered) - 1, max(0, int(round(q * len(ordered))) - 1))]


def _line(name: str, samples: list[float], errors: int, wall: float, no_update: int = 0) -> dict[str, Any]:
    ordered = sorted(samples)
    row = {
        "what": name,
        "n": len(samples),
        "per_s": len(samples) / wall if wall else 0.0,
        "p50_ms": statistics.median(ordered),
        "p95_ms": _percentile(ordered, 0.95),
        "p99_ms": _percentile(ordered, 0.99),
        "max_ms": ordered[-1],
        "errors": errors,
        "no_update": no_update,
    }
    print(
        f"{name:<28} n={row['n']:>6}  {row['per_s']:6.1f}/s  p50 {row['p50_ms']:7.1f}  p95 {row['p95_ms']:7.1f}  "
        f"p99 {row['p99_ms']:7.1f}  max {row['max_ms']:7.1f} ms  errors {errors}"
        + (f"  (204 no update: {no_update})" if no_update else ""),
        flush=True,
    )
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=50, help="concurrent viewers (default 50)")
    parser.add_argument("--seconds", type=float, default=60.0, help="measured duration (default 60)")
    parser.add_argument("--warmup", type=float, default=10.0, help="uncounted warm-up seconds (default 10)")
    parser.add_argument("--think", type=float, default=1.0, help="mean think time between actions, s (default 1)")
    parser.add_argument("--max-requests", type=int, default=200_000, help="stop after this many requests")
    parser.add_argument("--skus", type=int, default=10_000)
    parser.add_argument("--periods", type=int, default=156)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes (default 4)")
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker (default 4)")
    parser.add_argument(
        "--keep-alive",
        type=int,
        default=75,
        help="gunicorn keep-alive seconds (default 75, as in the Dockerfile: longer than any think time, so a viewer "
        "never reuses a connection the server is closing; gunicorn's 2 s default resets such requests)",
    )
    parser.add_argument("--snapshot", choices=["recompute", "synthetic"], default="recompute")
    parser.add_argument(
        "--pg-admin-url",
        default=os.environ.get("BENCH_PG_ADMIN_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"),
    )
    parser.add_argument("--database", default=None, help="database name (default: a throwaway one)")
    parser.add_argument("--keep", action="store_true", help="keep the database (reused with --database)")
    parser.add_argument("--json", default=None, help="also write the figures to this JSON file")
    args = parser.parse_args()
    for name in ("users", "workers", "threads", "max_requests"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    if not 0 < args.seconds <= 3600 or args.think < 0 or args.warmup < 0:
        parser.error("--seconds must be in (0, 3600], --think and --warmup >= 0")
    if "127.0.0.1" not in args.pg_admin_url and "localhost" not in args.pg_admin_url:
        parser.error("--pg-admin-url must point at a loopback server")

    url, created = _database(args.pg_admin_url, args.database, prefix="icc_bench_load")
    data_dir = Path(tempfile.mkdtemp(prefix="icc-bench-load-"))
    os.environ["DATABASE_URL"], os.environ["DATA_DIR"] = url, str(data_dir)
    os.environ.pop("REDIS_URL", None)
    from db.session import reset_engines
    from settings import get_settings

    get_settings.cache_clear()
    reset_engines()
    server = None
    try:
        mark = time.perf_counter()
        shared = _prepare(skus=args.skus, periods=args.periods, snapshot=args.snapshot)
        print(f"database {url.rsplit('/', 1)[1]} ({'new' if created else 'reused'}): {shared['info']} "
              f"in {time.perf_counter() - mark:.1f} s", flush=True)  # fmt: skip
        port = _free_port()
        server = _serve(
            url=url,
            data_dir=data_dir,
            port=port,
            workers=args.workers,
            threads=args.threads,
            keep_alive=args.keep_alive,
        )
        base = f"http://127.0.0.1:{port}"
        first = Viewer(base, shared["token"], [], shared, seed=0)
        first.login()
        dependencies = first.http.get(f"{base}/_dash-dependencies", timeout=TIMEOUT_S).json()
        viewers = [Viewer(base, shared["token"], dependencies, shared, seed=i) for i in range(args.users)]
        for viewer in viewers:
            viewer.login()
        if args.warmup:
            _drive(viewers[: max(1, args.users // 5)], seconds=args.warmup, think=0.0, max_requests=args.max_requests)
        load_before = os.getloadavg()
        cpu_before = time.process_time()
        recorder, wall = _drive(viewers, seconds=args.seconds, think=args.think, max_requests=args.max_requests)
        client_cpu = time.process_time() - cpu_before
        print(
            f"\n{args.users} viewers for {wall:.1f} s (think 0-{2 * args.think:.1f} s), {args.skus:,} SKUs, run "
            f"{shared['run']['run_id']}, gunicorn {args.workers} workers x {args.threads} threads on "
            f"{os.cpu_count()} cores; load average before {load_before[0]:.1f}, after {os.getloadavg()[0]:.1f}; "
            f"client CPU {client_cpu:.1f} s\n",
            flush=True,
        )
        rows = []
        for kind in sorted(recorder.samples):
            rows.append(_line(kind, recorder.samples[kind], len(recorder.errors[kind]), wall, recorder.no_update[kind]))
        everything = [x for v in recorder.samples.values() for x in v]
        errors = sum(len(v) for v in recorder.errors.values())
        total = _line("ALL REQUESTS", everything, errors, wall)
        verdict = "ok" if errors == 0 and total["p95_ms"] <= TARGET_P95_MS else "MISSED"
        print(f"\ntarget: zero errors and p95 <= {TARGET_P95_MS:.0f} ms -> {verdict}")
        for kind, messages in recorder.errors.items():
            for message in messages[:3]:
                print(f"  error in {kind}: {message}")
        if args.json:
            Path(args.json).write_text(json.dumps({"args": vars(args), "rows": rows, "total": total,
                                                   "verdict": verdict, "wall_s": wall}, indent=1))  # fmt: skip
    finally:
        if server is not None:
            _stop(server, wait_s=30)
        if created and not args.keep:
            _drop(args.pg_admin_url, url)
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":  # the recompute's process pool re-imports this module: keep the work behind the guard
    main()
