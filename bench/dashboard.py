"""Dashboard speed at 10,000 SKUs on PostgreSQL: Watchtower and SKU page callbacks over HTTP
(docs/architecture.md, Targets).

Run: ``.venv/bin/python -m bench.dashboard [--skus 10000] [--periods 156] [--calls 100] [--pg-admin-url URL]
[--database NAME] [--keep] [--snapshot auto|recompute|synthetic] [--workers 2]``.

1. A throwaway PostgreSQL database migrated with ``db.migrate.upgrade`` and seeded with ``services.demo`` (10,000 SKUs
   x 156 weeks); the snapshot comes from ``services.recompute`` (``--snapshot synthetic`` writes a synthetic one
   directly, as the tests do). ``--database NAME --keep`` keeps it and reuses it on the next run.
2. The app served by gunicorn in a second process (``app:server``, ``--workers`` processes x 4 threads).
3. This process signs in through ``/login`` with its CSRF token, then drives Dash's ``/_dash-update-component``:
   - the first load of ``/`` (HTML, ``/_dash-layout``, ``/_dash-dependencies``, the page render, the first block of
     grid rows and the commentary; and, when Chromium is installed, a real browser until the first grid row shows);
   - ``--calls`` filter changes (status / category / location / ABC / search combined: charts, count, URL), grid
     blocks (random sort, filters and offset: the infinite row model's request) and searches;
   - the SKU page: its render, the order-quantity what-if, the commentary and the search type-ahead.
   No callback recomputes anything: they read the snapshot. Prints p50 / p95 / max in ms. Not a test: exits 0.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PASSWORD = "correct horse battery staple"
EMAIL = "bench-planner@example.com"
FILTER_NAMES = {
    "watchtower-status": "status",
    "watchtower-category": "category",
    "watchtower-location": "location",
    "watchtower-supplier": "supplier",
    "watchtower-abc": "abc",
    "watchtower-xyz": "xyz",
    "watchtower-demand-class": "demand_class",
}
"""Watchtower filter control id -> its key in the filter store."""


# --------------------------------------------------------------------------------------------------------------------
# database


def _database(admin_url: str, name: str | None, prefix: str = "icc_bench_dash") -> tuple[str, bool]:
    """URL of the bench database (``prefix`` + a random suffix unless named); True when it was created now."""
    import sqlalchemy as sa

    name = name or f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        exists = connection.scalar(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})
        if not exists:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return admin_url.rsplit("/", 1)[0] + "/" + name, not exists


def _drop(admin_url: str, url: str) -> None:
    import sqlalchemy as sa

    from db.session import reset_engines

    reset_engines()
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)'))
    admin.dispose()


def _demo_portfolio(*, skus: int, periods: int) -> tuple[dict[str, Any], bool]:
    """Migrate and store the demo portfolio unless the database holds ``skus`` SKUs; True when a snapshot is due."""
    from sqlalchemy import func, select

    from db import migrate
    from db.models import Sku
    from db.session import get_engine, session_scope
    from services import demo
    from services.runs import latest_run

    migrate.upgrade(get_engine())
    info: dict[str, Any] = {}
    with session_scope() as s:
        have = s.scalar(select(func.count()).select_from(Sku)) or 0
        run = latest_run(session=s)
    if have != skus:
        mark = time.perf_counter()
        with session_scope() as s:
            demo.store(session=s, portfolio=demo.generate(skus=skus, periods=periods, seed=7), replace=True)
        info["seed_s"] = time.perf_counter() - mark
        run = None
    return info, run is None or run.sku_count != skus


def _ensure_user(*, email: str, role: str) -> None:
    """Create the bench account (password ``PASSWORD``) unless it exists."""
    from db.session import session_scope
    from services import users

    with session_scope() as s:
        if users.get_by_email(session=s, email=email) is None:
            users.create_user(session=s, email=email, password=PASSWORD, role=role)


def _seed(*, skus: int, periods: int, snapshot: str) -> dict[str, Any]:
    """Demo portfolio and a snapshot (unless the database already has a finished run of that size)."""
    from db.session import session_scope
    from services.runs import latest_run

    info, stale = _demo_portfolio(skus=skus, periods=periods)
    if stale:
        info.update(_snapshot(snapshot))
    _ensure_user(email=EMAIL, role="planner")
    with session_scope() as s:
        run = latest_run(session=s)
    info["run_id"], info["run_skus"], info["triggered_by"] = run.id, run.sku_count, run.triggered_by
    return info


def _snapshot(kind: str) -> dict[str, Any]:
    from db.session import session_scope

    mark = time.perf_counter()
    if kind in ("auto", "recompute"):
        try:
            from services.recompute import recompute

            with session_scope() as s:
                summary = recompute(session=s, triggered_by="bench")
            if summary.status == "finished":
                return {"snapshot": "services.recompute", "snapshot_s": time.perf_counter() - mark}
        except Exception as exc:  # the engine may not be ready: fall back to a synthetic snapshot
            if kind == "recompute":
                raise
            print(f"recompute unavailable ({type(exc).__name__}: {exc}); writing a synthetic snapshot", flush=True)
    from tests.integration.test_watchtower_data import write_synthetic_run

    with session_scope() as s:
        write_synthetic_run(s, seed=3, triggered_by="bench-synthetic")
    return {"snapshot": "synthetic", "snapshot_s": time.perf_counter() - mark}


# --------------------------------------------------------------------------------------------------------------------
# server


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _serve(url: str, data_dir: Path, port: int, workers: int) -> subprocess.Popen:
    env = dict(os.environ, DATABASE_URL=url, DATA_DIR=str(data_dir), APP_ENV="dev", PYTHONPATH=str(ROOT))
    env.pop("GEMINI_API_KEY", None)  # offline: the commentary comes from the offline writer
    env.pop("REDIS_URL", None)
    command = [
        sys.executable, "-m", "gunicorn", "--workers", str(workers), "--threads", "4", "--bind", f"127.0.0.1:{port}",
        "--timeout", "120", "--log-level", "warning", "app:server",
    ]  # fmt: skip
    process = subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)
    return _wait_ready(process, port, seconds=120)


def _wait_ready(process: subprocess.Popen, port: int, *, seconds: int, exited: str = "") -> subprocess.Popen:
    """Wait until the server answers ``/readyz`` (``exited``: said after the error when it dies while starting)."""
    import requests

    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                return process
        except requests.RequestException:
            pass
        if process.poll() is not None:
            raise RuntimeError(f"the server exited while starting{exited}")
        time.sleep(0.5)
    raise RuntimeError(f"the server did not become ready in {seconds} s")


def _stop(process: subprocess.Popen, wait_s: float = 20) -> None:
    """Stop the server's process group: SIGTERM, then SIGKILL after ``wait_s`` seconds."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=wait_s)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


# --------------------------------------------------------------------------------------------------------------------
# HTTP client


def _login(http: Any, base: str, *, email: str, timeout: float | None = None) -> None:
    """Sign ``http`` (a requests session) in through ``/login`` with its CSRF token; RuntimeError unless redirected."""
    page = http.get(f"{base}/login", timeout=timeout).text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    form = {"email": email, "password": PASSWORD, "csrf_token": csrf, "next": "/"}
    response = http.post(f"{base}/login", data=form, allow_redirects=False, timeout=timeout)
    if response.status_code != 302:
        raise RuntimeError(f"login failed: HTTP {response.status_code}")


def _callback_body(dep: dict[str, Any], values: dict[str, Any], changed: str) -> dict[str, Any]:
    """The ``/_dash-update-component`` request for callback ``dep`` (from ``/_dash-dependencies``) with ``values``."""
    spec = dep["output"]
    parts = spec[2:-2].split("...") if spec.startswith("..") else [spec]
    outputs: list[Any] = [{"id": p.rsplit(".", 1)[0], "property": p.rsplit(".", 1)[1]} for p in parts]
    # a pattern-matching (ALL) id: no such component in a request made without the page, so an empty list
    outputs = [[] if o["id"].startswith("{") else o for o in outputs]

    def item(i: dict[str, Any]) -> Any:
        return [] if i["id"].startswith("{") else dict(i, value=values.get(f"{i['id']}.{i['property']}"))

    return {
        "output": spec,
        "outputs": outputs if spec.startswith("..") else outputs[0],
        "inputs": [item(i) for i in dep["inputs"]],
        "state": [item(s) for s in dep.get("state", [])],
        "changedPropIds": [changed],
    }


class Dash:
    """A signed-in client of the Dash endpoints (the way the browser calls them)."""

    def __init__(self, base: str) -> None:
        import requests

        self.base = base
        self.http = requests.Session()
        self.deps: list[dict[str, Any]] = []

    def login(self) -> None:
        _login(self.http, self.base, email=EMAIL)

    def dependencies(self) -> list[dict[str, Any]]:
        self.deps = self.http.get(f"{self.base}/_dash-dependencies").json()
        return self.deps

    def dep(self, output_fragment: str) -> dict[str, Any]:
        return next(d for d in self.deps if output_fragment in d["output"])

    def call(self, dep: dict[str, Any], values: dict[str, Any], changed: str | None = None) -> dict[str, Any]:
        spec = dep["output"]
        first = dep["inputs"][0]
        body = _callback_body(dep, values, changed or f"{first['id']}.{first['property']}")
        response = self.http.post(
            f"{self.base}/_dash-update-component", data=json.dumps(body), headers={"Content-Type": "application/json"}
        )
        if response.status_code == 204:
            return {}
        if response.status_code != 200:
            raise RuntimeError(f"{spec}: HTTP {response.status_code} {response.text[:200]}")
        return response.json().get("response", {})

    def render(self, path: str, search: str = "") -> dict[str, Any]:
        """The pages router callback: what the browser asks for on navigation."""
        router = self.dep("_pages_content")
        values = {"_pages_location.pathname": path, "_pages_location.search": search}
        return self.call(router, values, changed="_pages_location.pathname")


def _load() -> str:
    return " / ".join(f"{x:.1f}" for x in os.getloadavg())


def _timed(func, *args: Any, **kwargs: Any) -> tuple[float, Any]:
    mark = time.perf_counter()
    result = func(*args, **kwargs)
    return (time.perf_counter() - mark) * 1000, result


def _summary(name: str, samples: list[float], target: float | None = None) -> dict[str, Any]:
    ordered = sorted(samples)
    p95 = ordered[max(0, int(round(0.95 * len(ordered))) - 1)]
    row = {
        "what": name,
        "n": len(samples),
        "p50_ms": statistics.median(samples),
        "p95_ms": p95,
        "max_ms": ordered[-1],
        "target_ms": target,
    }
    verdict = "" if target is None else ("  ok" if p95 <= target else "  OVER TARGET")
    print(
        f"{name:<46} n={len(samples):>4}  p50 {row['p50_ms']:7.1f} ms  p95 {p95:7.1f} ms  max {ordered[-1]:7.1f} ms"
        + (f"  (target p95 <= {target:.0f} ms){verdict}" if target else ""),
        flush=True,
    )
    return row


# --------------------------------------------------------------------------------------------------------------------
# scenarios


def _run_store(client: Dash) -> dict[str, Any]:
    rendered = json.dumps(client.render("/"))
    match = re.search(r'"id": "watchtower-run", "data": (\{[^}]*\})', rendered) or re.search(
        r'"data": (\{"run_id": \d+, "sku_count": \d+\}), "id": "watchtower-run"', rendered
    )
    if match is None:
        raise RuntimeError("the watchtower did not render a snapshot")
    return json.loads(match.group(1))


def first_load(client: Dash, samples: int) -> list[float]:
    """Shell HTML + layout + dependencies + page render + first grid block + charts + commentary, one after the
    other (a browser runs the last three in parallel)."""
    grid = client.dep("watchtower-grid.getRowsResponse")
    commentary = client.dep("watchtower-commentary.children")
    charts = client.dep("watchtower-category-chart.figure")
    out = []
    for _ in range(samples):
        mark = time.perf_counter()
        client.http.get(f"{client.base}/").raise_for_status()
        client.http.get(f"{client.base}/_dash-layout").raise_for_status()
        client.dependencies()
        rendered = client.render("/")
        run = _run_store_from(rendered)
        client.call(
            grid,
            {
                "watchtower-grid.getRowsRequest": {"startRow": 0, "endRow": 100, "sortModel": []},
                "watchtower-filters.data": {},
                "watchtower-run.data": run,
            },
        )
        client.call(charts, {"watchtower-filters.data": {}, "watchtower-run.data": run})
        client.call(commentary, {"watchtower-scatter-note.children": "x", "watchtower-run.data": run})
        out.append((time.perf_counter() - mark) * 1000)
    return out


def _run_store_from(rendered: dict[str, Any]) -> dict[str, Any]:
    text = json.dumps(rendered)
    found = re.search(r'\{"run_id": (\d+), "sku_count": (\d+)\}', text)
    if found is None:
        raise RuntimeError("no snapshot in the rendered page")
    return {"run_id": int(found.group(1)), "sku_count": int(found.group(2))}


def browser_first_load(base: str, samples: int) -> list[float] | None:
    """A real browser: from navigation to the first grid row on screen (None without Chromium)."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        return None
    from playwright.sync_api import sync_playwright

    from tests.browser.conftest import FLAGS

    out = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=FLAGS, headless=True)
        context = browser.new_context(viewport={"width": 1440, "height": 1000})
        page = context.new_page()
        page.goto(f"{base}/login")
        page.fill("#email", EMAIL)
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_load_state("networkidle")
        for _ in range(samples + 1):
            page.goto(f"{base}/sku")  # leave the page, then come back with a full load
            page.wait_for_load_state("networkidle")
            mark = time.perf_counter()
            page.goto(f"{base}/")
            page.wait_for_selector(".ag-pinned-left-cols-container .ag-row", timeout=30_000)
            page.wait_for_selector("#watchtower-category-chart .main-svg", timeout=30_000)
            out.append((time.perf_counter() - mark) * 1000)
        browser.close()
    return out[1:]  # the first visit also warms the browser's cache of the JS bundles


def watchtower_callbacks(client: Dash, run: dict[str, Any], calls: int, rng: random.Random) -> dict[str, list[float]]:
    from db.session import session_scope
    from services.watchtower import SORT_COLUMNS, filter_options

    with session_scope() as s:
        options = filter_options(session=s, run_id=run["run_id"])
    filters_dep = client.dep("watchtower-filters.data")
    charts_dep = client.dep("watchtower-category-chart.figure")
    grid_dep = client.dep("watchtower-grid.getRowsResponse")
    controls = [i for i in filters_dep["inputs"] if i["property"] == "value" and i["id"] != "watchtower-search"]
    names = FILTER_NAMES
    words = ["cola", "water", "b-0", "bearing", "pods", "XL", "mini", "s-001", "family", "pump"]

    def random_filters(search: bool) -> dict[str, Any]:
        chosen: dict[str, Any] = {}
        for control in controls:
            name = names[control["id"]]
            pick = rng.random() < 0.35 and options.get(name)
            chosen[name] = rng.sample(options[name], k=min(len(options[name]), rng.randint(1, 2))) if pick else []
        chosen["search"] = rng.choice(words) if search else ""
        return chosen

    def values_of(f: dict[str, Any]) -> dict[str, Any]:
        values = {f"{c['id']}.value": f[names[c["id"]]] for c in controls}
        values["watchtower-search.value"] = f["search"]
        values["watchtower-run.data"] = run
        values["watchtower-filters.data"] = None
        return values

    def change(f: dict[str, Any], changed: str) -> None:
        """A filter change as the browser makes it: controls -> store, URL and count, then store -> charts."""
        response = client.call(filters_dep, values_of(f), changed=changed)
        store = response["watchtower-filters"]["data"]
        client.call(charts_dep, {"watchtower-filters.data": store, "watchtower-run.data": run})

    out: dict[str, list[float]] = {"filter (controls+charts)": [], "search (controls+charts)": [], "sort/page": []}
    for i in range(calls):
        f = random_filters(search=False)
        ms, _ = _timed(change, f, f"{controls[i % len(controls)]['id']}.value")
        out["filter (controls+charts)"].append(ms)
        f = random_filters(search=True)
        ms, _ = _timed(change, f, "watchtower-search.value")
        out["search (controls+charts)"].append(ms)
        col = rng.choice(list(SORT_COLUMNS))
        start = rng.choice([0, 0, 100, 500, 1000, 5000, 9900])
        request = {
            "startRow": start,
            "endRow": start + 100,
            "sortModel": [{"colId": col, "sort": rng.choice(["asc", "desc"])}],
        }
        f = random_filters(search=rng.random() < 0.3)
        store = {k: v for k, v in f.items()}
        ms, _ = _timed(
            client.call,
            grid_dep,
            {"watchtower-grid.getRowsRequest": request, "watchtower-filters.data": store, "watchtower-run.data": run},
        )
        out["sort/page"].append(ms)
    return out


def export_all(client: Dash, run: dict[str, Any], samples: int) -> list[float]:
    dep = client.dep("watchtower-download.data")
    out = []
    for _ in range(samples):
        ms, response = _timed(
            client.call,
            dep,
            {
                "watchtower-export.n_clicks": 1,
                "watchtower-filters.data": {},
                "watchtower-run.data": run,
                "watchtower-grid.getRowsRequest": {"sortModel": [{"colId": "value_at_risk", "sort": "desc"}]},
            },
        )
        lines = response["watchtower-download"]["data"]["content"].count("\n")
        if lines != run["sku_count"] + 1:
            raise RuntimeError(f"the export has {lines} lines for {run['sku_count']} SKUs")
        out.append(ms)
    return out


def sku_callbacks(client: Dash, run: dict[str, Any], calls: int, rng: random.Random) -> dict[str, list[float]]:
    from sqlalchemy import select

    from db.models import Sku, SkuSnapshot
    from db.session import session_scope

    with session_scope() as s:
        codes = list(
            s.scalars(
                select(Sku.code)
                .join(SkuSnapshot, SkuSnapshot.sku_id == Sku.id)
                .where(SkuSnapshot.run_id == run["run_id"])
                .order_by(SkuSnapshot.value_at_risk.desc().nulls_last())
                .limit(500)
            )
        )
    what_if = client.dep("sku-projection-chart.figure")
    commentary = client.dep("sku-commentary.children")
    search = client.dep("sku-search.options")
    out: dict[str, list[float]] = {"render": [], "what-if": [], "commentary": [], "search": []}
    for i in range(calls):
        code = codes[i % len(codes)]
        ms, _ = _timed(client.render, f"/sku/{code}")
        out["render"].append(ms)
        data = {"code": code, "run_id": run["run_id"]}
        ms, _ = _timed(client.call, what_if, {"sku-order-qty.value": rng.randint(0, 5000), "sku-code.data": data})
        out["what-if"].append(ms)
        ms, _ = _timed(client.call, commentary, {"sku-code.data": data})
        out["commentary"].append(ms)
        text = rng.choice([code[:4].lower(), code, "cola", "pump", "family"])
        ms, _ = _timed(client.call, search, {"sku-search.search_value": text, "sku-search.value": None})
        out["search"].append(ms)
    return out


# --------------------------------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skus", type=int, default=10_000)
    parser.add_argument("--periods", type=int, default=156)
    parser.add_argument("--calls", type=int, default=100)
    parser.add_argument(
        "--pg-admin-url",
        default=os.environ.get("BENCH_PG_ADMIN_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"),
    )
    parser.add_argument("--database", default=None, help="database name (default: a throwaway one)")
    parser.add_argument(
        "--keep", action="store_true", help="keep the database (reused by the next run with --database)"
    )
    parser.add_argument("--snapshot", choices=["auto", "recompute", "synthetic"], default="auto")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--browser-samples", type=int, default=5)
    args = parser.parse_args()

    url, created = _database(args.pg_admin_url, args.database)
    data_dir = Path(tempfile.mkdtemp(prefix="icc-bench-dash-"))
    os.environ["DATABASE_URL"], os.environ["DATA_DIR"] = url, str(data_dir)
    from db.session import reset_engines
    from settings import get_settings

    get_settings.cache_clear()
    reset_engines()
    server = None
    try:
        mark = time.perf_counter()
        info = _seed(skus=args.skus, periods=args.periods, snapshot=args.snapshot)
        print(
            f"database {url.rsplit('/', 1)[1]} ({'new' if created else 'reused'}): {info} "
            f"in {time.perf_counter() - mark:.1f} s",
            flush=True,
        )
        port = _free_port()
        server = _serve(url, data_dir, port, args.workers)
        base = f"http://127.0.0.1:{port}"
        client = Dash(base)
        client.login()
        client.dependencies()
        rng = random.Random(0)
        cold, _ = _timed(first_load, client, 1)
        print(
            f"\n{args.skus:,} SKUs, run {info['run_id']} ({info['triggered_by']}), gunicorn {args.workers} workers "
            f"x 4 threads, {os.cpu_count()} CPUs, load average {_load()}; first request after start {cold:.0f} ms\n",
            flush=True,
        )
        rows = [_summary("watchtower first load (HTTP, to first rows)", first_load(client, 20), 1500)]
        browser = browser_first_load(base, args.browser_samples)
        if browser:
            rows.append(_summary("watchtower first load (Chromium, to first row)", browser, 1500))
        run = _run_store_from(client.render("/"))
        wt = watchtower_callbacks(client, run, args.calls, rng)
        for name, samples in wt.items():
            rows.append(_summary(f"watchtower {name} callback", samples, 250))
        rows.append(_summary("watchtower filter+search+sort/page (all)", [x for v in wt.values() for x in v], 250))
        rows.append(_summary(f"watchtower CSV export of all {run['sku_count']:,} SKUs", export_all(client, run, 5)))
        sku = sku_callbacks(client, run, args.calls, rng)
        rows.append(_summary("SKU page render (router callback)", sku.pop("render"), 1500))
        for name, samples in sku.items():
            rows.append(_summary(f"SKU {name} callback", samples, 250))
        rows.append(_summary("SKU callbacks (all)", [x for v in sku.values() for x in v], 250))
        print(f"\nload average at the end {_load()} (other processes on this machine slow every figure down)")
    finally:
        if server is not None:
            _stop(server)
        if created and not args.keep:
            _drop(args.pg_admin_url, url)
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":  # the recompute's process pool re-imports this module: keep the work behind the guard
    main()
