"""Redis down (``REDIS_URL`` on a port where nothing listens): the app keeps serving pages and callbacks, /readyz says
Redis is unreachable, and starting a background job answers 503 with a clear message instead of an error page.

The app runs under gunicorn in a subprocess (the Celery background manager is chosen when the app is built), on the
demo SQLite database and a free loopback port.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import ROOT


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def server_without_redis(demo_sqlite: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    import requests

    port, dead = _free_port(), _free_port()  # nothing listens on ``dead``
    data_dir = tmp_path_factory.mktemp("redis-down")
    env = dict(os.environ, DATABASE_URL=demo_sqlite, DATA_DIR=str(data_dir), REDIS_URL=f"redis://127.0.0.1:{dead}/13")
    env.update(APP_ENV="test", PYTHONPATH=str(ROOT), SECRET_KEY="redis-down-test")
    env.pop("GEMINI_API_KEY", None)
    log = data_dir / "server.log"
    command = [sys.executable, "-m", "gunicorn", "--workers", "1", "--threads", "4", "--bind", f"127.0.0.1:{port}",
               "--timeout", "60", "app:server"]  # fmt: skip
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    try:
        while True:
            try:
                if requests.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the server did not start:\n{log.read_text(errors='replace')[-3000:]}")
            time.sleep(0.25)
        yield base, dead
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def _signed_in(base: str):
    import requests

    http = requests.Session()
    page = http.get(f"{base}/login", timeout=10).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    form = {"email": "planner@example.com", "password": "correct horse battery", "csrf_token": token, "next": "/"}
    assert http.post(f"{base}/login", data=form, allow_redirects=False, timeout=10).status_code == 302
    return http


def _call(http, base: str, dep: dict[str, Any], values: dict[str, Any], end_id: str | None = None):
    spec = dep["output"]
    parts = spec[2:-2].split("...") if spec.startswith("..") else [spec]
    outputs = [{"id": p.rsplit(".", 1)[0], "property": p.rsplit(".", 1)[1]} for p in parts]
    body = {
        "output": spec,
        "outputs": outputs if spec.startswith("..") else outputs[0],
        "inputs": [dict(i, value=values.get(f"{i['id']}.{i['property']}")) for i in dep["inputs"]],
        "state": [dict(s, value=values.get(f"{s['id']}.{s['property']}")) for s in dep.get("state", [])],
        "changedPropIds": [f"{dep['inputs'][0]['id']}.{dep['inputs'][0]['property']}"],
    }
    params = {"endId": end_id} if end_id else None
    return http.post(f"{base}/_dash-update-component", data=json.dumps(body), params=params, timeout=30,
                     headers={"Content-Type": "application/json"})  # fmt: skip


def _redis_on(port: int) -> subprocess.Popen:
    """A throwaway redis-server on ``port`` (nothing saved), started when it answers PING."""
    import redis

    server = shutil.which("redis-server")
    if server is None:
        pytest.skip("redis-server is not installed: Redis coming back cannot be shown")
    command = [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 10
    while True:
        try:
            redis.Redis(port=port, socket_connect_timeout=0.5).ping()
            return process
        except redis.exceptions.ConnectionError:
            if time.monotonic() > deadline:
                process.kill()
                raise
            time.sleep(0.05)


def test_redis_down_pages_keep_working_and_a_background_job_gets_a_clear_503(
    server_without_redis: tuple[str, int],
) -> None:
    import requests

    base, redis_port = server_without_redis
    assert requests.get(f"{base}/healthz", timeout=10).json() == {"status": "ok"}
    ready = requests.get(f"{base}/readyz", timeout=10)
    assert ready.status_code == 503 and ready.json()["redis"] == "unreachable" and ready.json()["database"] == "ok"

    http = _signed_in(base)
    shell = http.get(f"{base}/", timeout=10)
    assert shell.status_code == 200
    end_id = json.loads(
        re.search(r'<script id="_dash-config" type="application/json">(.*?)</script>', shell.text, re.S).group(1)
    )["end_id"]
    deps = http.get(f"{base}/_dash-dependencies", timeout=10).json()
    router = next(d for d in deps if "_pages_content" in d["output"])
    page = _call(http, base, router, {"_pages_location.pathname": "/", "_pages_location.search": ""}, end_id)
    assert page.status_code == 200 and "watchtower" in page.text, "the Watchtower page is served"

    recompute = next(d for d in deps if d["output"].startswith("..watchtower-reload.href"))
    started = time.monotonic()
    job = _call(http, base, recompute, {"watchtower-recompute.n_clicks": 1, "watchtower-url.search": ""}, end_id)
    assert job.status_code == 503, job.text[:500]
    assert job.json()["error"]["code"] == "jobs_unavailable"
    assert "job queue (Redis) cannot be reached" in job.json()["error"]["message"]
    assert time.monotonic() - started < 10, "the request fails fast instead of hanging on the broker"

    again = _call(http, base, router, {"_pages_location.pathname": "/sku", "_pages_location.search": ""}, end_id)
    assert again.status_code == 200, "the app keeps serving pages after the failed job"
    assert requests.get(f"{base}/readyz", timeout=10).status_code == 503

    redis_server = _redis_on(redis_port)  # Redis comes back: the same server process takes jobs again
    try:
        assert requests.get(f"{base}/readyz", timeout=10).json()["redis"] == "ok"
        job = _call(http, base, recompute, {"watchtower-recompute.n_clicks": 1, "watchtower-url.search": ""}, end_id)
        assert job.status_code == 200, job.text[:500]
        assert {"cacheKey", "job"} <= set(job.json()), "Dash got a background job handle"
    finally:
        redis_server.kill()
        redis_server.wait(timeout=10)
