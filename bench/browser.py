"""Browser waits: what a user waits for in headless Chromium, against gunicorn on SQLite (issue 23).

Run: ``.venv/bin/python -m bench.browser [--skus 10000] [--runs 5] [--workers 2] [--data-dir DIR]``; a smaller
size: ``--skus 2000``. Not a test: prints the figures (median of ``--runs``) and the machine load, exits 0.

1. A SQLite database in ``--data-dir`` (default ``/tmp/icc-bench-browser-<skus>``; reused when it holds a finished
   run of about ``--skus`` SKUs) with the demo portfolio (``services.demo``) and a snapshot (``services.recompute``),
   and a planner account.
2. The app under gunicorn (``--workers`` processes x 4 threads, one SECRET_KEY) on a free loopback port.
3. Headless Chromium (Playwright, Debian's chromium as the browser tests use), signed in through the login form,
   warmed up once (scripts cached, as for a user on their second page), then per wait ``--runs`` times:

   - **Watchtower, navigation -> first grid row**: ``page.goto("/")``; the time, from the navigation's start
     (``performance.now()``), at which the first row of the grid is in the DOM. Target <= 1.0 s.
   - **status tile click -> updated count**: on a settled Watchtower, a click on a status tile until the
     "N of M SKUs match" text changes (timed in the page). Target <= 0.3 s.
   - **SKU page -> drawn history chart**: ``page.goto("/sku/<code>")``; from the navigation's start to the history
     chart's first trace in the DOM. Target <= 0.6 s.
   - **Briefings, portfolio PDF**: on /briefings (whole portfolio), a click on "Make briefing" until the download
     button is enabled, then a click on "Download" until the file arrives; both, and their sum. Target <= 1.5 s.

The DOM moments are recorded by a MutationObserver installed before any page script runs, so the figures do not
include Playwright's polling.
"""

from __future__ import annotations

import argparse
import os
import shutil
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

EMAIL = "bench-browser@example.com"
PASSWORD = "correct horse battery staple"
LEFT_ROWS = ".ag-pinned-left-cols-container .ag-row"
HISTORY_TRACE = "#sku-history-chart .scatterlayer .trace"
FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
TARGETS = {"watchtower": 1.0, "tile": 0.3, "sku": 0.6, "pdf": 1.5}

# records performance.now() when each watched selector first matches (window.__seen)
OBSERVER = """
(() => {
  const watch = {grid: 'GRID', history: 'HISTORY'};
  window.__seen = {};
  const check = () => {
    for (const [key, sel] of Object.entries(watch)) {
      if (!(key in window.__seen) && document.querySelector(sel)) window.__seen[key] = performance.now();
    }
  };
  const start = () => new MutationObserver(check).observe(document.documentElement, {childList: true, subtree: true});
  if (document.documentElement) start(); else document.addEventListener('readystatechange', start, {once: true});
})();
""".replace("GRID", LEFT_ROWS).replace("HISTORY", HISTORY_TRACE)

# clicks a status tile and resolves with the ms until the count's text changes
TILE_CLICK = """
(status) => new Promise((resolve) => {
  const count = document.querySelector('#watchtower-count');
  const before = count.innerText;
  const tile = [...document.querySelectorAll('[id*="watchtower-status-card"]')]
      .find((e) => e.id.includes('"' + status + '"'));
  const t0 = performance.now();
  const seen = new MutationObserver(() => {
    if (count.innerText !== before) { seen.disconnect(); resolve(performance.now() - t0); }
  });
  seen.observe(count, {childList: true, characterData: true, subtree: true});
  tile.click();
  setTimeout(() => { seen.disconnect(); resolve(-1); }, 20000);
})
"""


# --------------------------------------------------------------------------------------------------------------------
# database and server


def _prepare(skus: int) -> dict[str, Any]:
    """The demo portfolio and a snapshot unless the database has a finished run of about ``skus`` SKUs."""
    from sqlalchemy import func, select

    from db import migrate
    from db.models import Sku
    from db.session import get_engine, session_scope
    from services import demo, users
    from services.recompute import recompute
    from services.runs import latest_run

    migrate.upgrade(get_engine())
    info: dict[str, Any] = {}
    with session_scope() as s:
        have = s.scalar(select(func.count()).select_from(Sku)) or 0
        run = latest_run(session=s)
    if not (skus <= have <= skus * 1.05 and run is not None and run.sku_count == have):
        mark = time.perf_counter()
        with session_scope() as s:
            demo.store(session=s, portfolio=demo.generate(skus=skus, periods=156, seed=7), replace=True)
        with session_scope() as s:
            recompute(session=s, triggered_by="bench-browser")
        info["prepared_s"] = round(time.perf_counter() - mark, 1)
    with session_scope() as s:
        if users.get_by_email(session=s, email=EMAIL) is None:
            users.create_user(session=s, email=EMAIL, password=PASSWORD, role="planner")
        run = latest_run(session=s)
        top = s.scalar(select(Sku.code).order_by(Sku.code).limit(1))
    info.update(run_id=run.id, skus=run.sku_count, sku=top)
    return info


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _serve(*, url: str, data_dir: Path, port: int, workers: int) -> subprocess.Popen:
    import requests

    env = dict(os.environ, DATABASE_URL=url, DATA_DIR=str(data_dir), APP_ENV="dev", PYTHONPATH=str(ROOT))
    env["SECRET_KEY"] = uuid.uuid4().hex  # one key for every worker (a session signed by one is read by all)
    env.pop("GEMINI_API_KEY", None)  # offline: the commentary comes from the offline writer
    env.pop("REDIS_URL", None)
    command = [
        sys.executable, "-m", "gunicorn", "--workers", str(workers), "--threads", "4", "--bind", f"127.0.0.1:{port}",
        "--timeout", "120", "--log-level", "warning", "app:server",
    ]  # fmt: skip
    log = (data_dir / "gunicorn.log").open("wb")
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.time() + 180
    while time.time() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                return process
        except requests.RequestException:
            pass
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited while starting; see {data_dir / 'gunicorn.log'}")
        time.sleep(0.5)
    raise RuntimeError("gunicorn did not answer /readyz within 180 s")


def _stop(process: subprocess.Popen) -> None:
    import signal

    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


# --------------------------------------------------------------------------------------------------------------------
# the waits


def _login(page: Any, base: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#email", EMAIL)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")


def _navigation(page: Any, url: str, key: str, selector: str) -> float:
    """Seconds from the navigation's start until ``selector`` was first in the DOM (the observer's mark)."""
    page.goto(url, wait_until="commit")
    page.wait_for_selector(selector, timeout=60_000)
    return page.evaluate(f"() => window.__seen[{key!r}]") / 1000.0


def _settled_watchtower(page: Any, base: str) -> None:
    page.goto(f"{base}/", wait_until="commit")
    page.wait_for_selector(LEFT_ROWS, timeout=60_000)
    page.wait_for_selector("#watchtower-category-chart .bars .point path", timeout=60_000)
    page.wait_for_load_state("networkidle")


def _tile_clicks(page: Any, base: str, runs: int, status: str) -> list[float]:
    _settled_watchtower(page, base)
    out = []
    for _ in range(runs):
        ms = page.evaluate(TILE_CLICK, status)  # on
        out.append(ms / 1000.0)
        page.wait_for_load_state("networkidle")
        page.evaluate(TILE_CLICK, status)  # off again (not counted)
        page.wait_for_load_state("networkidle")
    return out


def _briefing(page: Any, base: str) -> tuple[float, float]:
    page.goto(f"{base}/briefings")
    page.wait_for_load_state("networkidle")
    mark = time.perf_counter()
    page.click("#briefings-make")
    page.wait_for_selector("#briefings-download:not([disabled])", timeout=120_000)
    made = time.perf_counter() - mark
    mark = time.perf_counter()
    with page.expect_download(timeout=120_000):
        page.click("#briefings-download")
    return made, time.perf_counter() - mark


def _status_to_click(run_id: int) -> str:
    """A status with SKUs but not all of them (so the count changes)."""
    from db.session import session_scope
    from services import watchtower as w

    with session_scope() as s:
        counts = w.status_counts(session=s, run_ids=[run_id])[run_id]
    return max((k for k, v in counts.items() if 0 < v < sum(counts.values())), key=counts.get)


def measure(base: str, *, runs: int, sku: str, status: str) -> dict[str, list[float]]:
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        raise SystemExit("bench.browser needs Debian's chromium (as the browser tests do)")
    out: dict[str, list[float]] = {"watchtower": [], "tile": [], "sku": [], "pdf_make": [], "pdf_download": []}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=FLAGS, headless=True)
        context = browser.new_context(viewport={"width": 1440, "height": 1000}, accept_downloads=True)
        context.add_init_script(OBSERVER)
        page = context.new_page()
        _login(page, base)
        _navigation(page, f"{base}/", "grid", LEFT_ROWS)  # warm-up: scripts cached, workers loaded
        _navigation(page, f"{base}/sku/{sku}", "history", HISTORY_TRACE)
        for _ in range(runs):
            out["watchtower"].append(_navigation(page, f"{base}/", "grid", LEFT_ROWS))
            page.wait_for_load_state("networkidle")
        out["tile"] = _tile_clicks(page, base, runs, status)
        for _ in range(runs):
            out["sku"].append(_navigation(page, f"{base}/sku/{sku}", "history", HISTORY_TRACE))
            page.wait_for_load_state("networkidle")
        for _ in range(runs):
            made, downloaded = _briefing(page, base)
            out["pdf_make"].append(made)
            out["pdf_download"].append(downloaded)
        browser.close()
    return out


def _report(results: dict[str, list[float]], info: dict[str, Any], load: str, workers: int) -> None:
    med = {k: statistics.median(v) for k, v in results.items() if v}
    pdf = [m + d for m, d in zip(results["pdf_make"], results["pdf_download"], strict=True)]
    rows = [
        ("Watchtower: navigation -> first grid row", med["watchtower"], TARGETS["watchtower"], results["watchtower"]),
        ("Watchtower: status tile click -> updated count", med["tile"], TARGETS["tile"], results["tile"]),
        ("SKU page: navigation -> drawn history chart", med["sku"], TARGETS["sku"], results["sku"]),
        ("Briefings: portfolio PDF, make + download", statistics.median(pdf), TARGETS["pdf"], pdf),
        ("  of which make (click -> download enabled)", med["pdf_make"], None, results["pdf_make"]),
        ("  of which download (click -> file)", med["pdf_download"], None, results["pdf_download"]),
    ]
    print(f"\nbench.browser: {info['skus']:,} SKUs (run #{info['run_id']}), SQLite, gunicorn {workers} workers x 4")
    print(f"load before: {load}")
    print(f"{'wait':50} {'median':>8} {'target':>8}  runs (s)")
    for name, value, target, samples in rows:
        verdict = "" if target is None else ("ok" if value <= target else "OVER")
        target_text = "" if target is None else f"{target:.1f} s"
        runs = " ".join(f"{s:.2f}" for s in samples)
        print(f"{name:50} {value:7.2f}s {target_text:>8}  {runs} {verdict}")
    print(f"load after: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--skus", type=int, default=10_000, help="SKUs in the demo portfolio (default 10,000)")
    parser.add_argument("--runs", type=int, default=5, help="measurements per wait; the median is reported")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes (default 2)")
    parser.add_argument("--data-dir", type=Path, default=None, help="default /tmp/icc-bench-browser-<skus>")
    args = parser.parse_args()
    data_dir = args.data_dir or Path(tempfile.gettempdir()) / f"icc-bench-browser-{args.skus}"
    data_dir.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{(data_dir / 'inventory.db').as_posix()}"
    os.environ["DATABASE_URL"], os.environ["DATA_DIR"] = url, str(data_dir)
    os.environ.pop("REDIS_URL", None)
    info = _prepare(args.skus)
    status = _status_to_click(info["run_id"])
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    port = _free_port()
    server = _serve(url=url, data_dir=data_dir, port=port, workers=args.workers)
    try:
        results = measure(f"http://127.0.0.1:{port}", runs=args.runs, sku=info["sku"], status=status)
    finally:
        _stop(server)
    _report(results, info, load, args.workers)


if __name__ == "__main__":
    main()
