"""PostgreSQL stopped or restarted while the app runs: the requests in flight fail cleanly (503 with a clear message,
nothing partial stored), the next request works, and the app is never restarted.

Runs against a SEPARATE throwaway PostgreSQL cluster (``initdb`` into a temporary folder, ``pg_ctl`` on a free
loopback port, as the ``postgres`` user when the tests run as root), never the machine's main server. Skipped with the
reason when ``initdb`` is not installed or cannot run.
"""

from __future__ import annotations

import contextlib
import glob
import io
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.conftest import _migrated, _point_settings_at, make_user, use_demo_app


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ThrowawayPostgres:
    """A PostgreSQL cluster of its own in a temporary folder (fsync off: nothing here needs to survive a crash)."""

    def __init__(self) -> None:
        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[4]))
        if not found:
            raise RuntimeError("initdb not found under /usr/lib/postgresql/*/bin")
        self.bin = Path(found[-1]).parent
        self.folder = Path(tempfile.mkdtemp(prefix="icc-faults-pg-"))
        self.data = self.folder / "data"
        self.port = _free_port()
        self.prefix: list[str] = []
        if os.geteuid() == 0:  # initdb refuses root: run the cluster as the postgres user
            if shutil.which("runuser") is None:
                raise RuntimeError("running as root without runuser")
            shutil.chown(self.folder, "postgres", "postgres")
            self.prefix = ["runuser", "-u", "postgres", "--"]
        self.url = f"postgresql+psycopg2://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, tool: str, *args: str) -> None:
        command = [*self.prefix, str(self.bin / tool), *args]
        done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"{tool} failed ({done.returncode}): {done.stderr.strip()[-500:]}")

    def init(self) -> None:
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8")
        self.start()

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c full_page_writes=off -c synchronous_commit=off"
        )
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.folder / "log"), "-w", "start")

    def restart(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-l", str(self.folder / "log"), "-w", "restart")

    def remove(self) -> None:
        with contextlib.suppress(Exception):
            self.stop("immediate")
        shutil.rmtree(self.folder, ignore_errors=True)


@pytest.fixture(scope="module")
def throwaway_pg(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThrowawayPostgres]:
    try:
        cluster = ThrowawayPostgres()
    except Exception as exc:
        pytest.skip(f"no throwaway PostgreSQL cluster: {exc}")
    try:
        cluster.init()
    except Exception as exc:
        cluster.remove()
        pytest.skip(f"no throwaway PostgreSQL cluster: {exc}")
    yield cluster
    from db.session import reset_engines

    reset_engines()
    cluster.remove()


@pytest.fixture
def app_on_throwaway(throwaway_pg: ThrowawayPostgres, demo_sqlite: str, tmp_path_factory: pytest.TempPathFactory):
    """The (process-wide) Dash app, its settings pointed at the throwaway cluster: migrated, a planner and a token."""
    app = use_demo_app(demo_sqlite, tmp_path_factory)
    _point_settings_at(throwaway_pg.url, tmp_path_factory.mktemp("faults-data"))
    _migrated(throwaway_pg.url)
    from db.session import session_scope
    from services import users

    make_user("planner@example.com", "planner")
    with session_scope() as s:
        token = users.create_token(session=s, email="planner@example.com", name="faults")
    yield app, {"Authorization": f"Bearer {token}"}
    with contextlib.suppress(Exception):  # leave the cluster up for the next test
        throwaway_pg.start()


def _counts() -> dict[str, int]:
    from db.models import Demand, ImportBatch, Sku
    from db.session import session_scope

    with session_scope() as s:
        return {t.__tablename__: s.scalar(select(func.count()).select_from(t)) for t in (Sku, Demand, ImportBatch)}


CSV = "sku,date,quantity\n" + "".join(
    f"F-{i % 7:03d},2026-0{1 + i // 28}-{1 + i % 28:02d},{i % 5}\n" for i in range(84)
)


def test_postgres_restarted_during_an_import_fails_it_cleanly_and_the_next_request_works(
    app_on_throwaway, throwaway_pg: ThrowawayPostgres, monkeypatch: pytest.MonkeyPatch
) -> None:
    from services.ingest import write

    app, auth = app_on_throwaway
    client = app.server.test_client()
    before = _counts()
    real_write_demand = write.write_demand
    restarted = []

    def restart_then_write(connection, **kwargs):
        # the SKUs are already inserted in the import's transaction; PostgreSQL restarts before the demand rows go in
        throwaway_pg.restart()
        restarted.append(True)
        return real_write_demand(connection, **kwargs)

    monkeypatch.setattr(write, "write_demand", restart_then_write)
    form = {"file": (io.BytesIO(CSV.encode()), "demand.csv"), "create_skus": "true"}
    response = client.post("/api/v1/imports/demand", data=form, headers=auth, content_type="multipart/form-data")
    assert restarted, "the import reached its write step"
    assert response.status_code == 503
    error = response.get_json()["error"]
    assert error["code"] == "database_unavailable" and "try again" in error["message"]
    monkeypatch.undo()

    assert _counts() == before, "nothing partial stored: no SKU, no demand row, no import batch"
    assert client.get("/api/v1/purchase-orders", headers=auth).status_code == 200, "the next request works"
    form = {"file": (io.BytesIO(CSV.encode()), "demand.csv"), "create_skus": "true"}
    again = client.post("/api/v1/imports/demand", data=form, headers=auth, content_type="multipart/form-data")
    assert again.status_code == 200, again.get_json()
    assert _counts() == {"sku": before["sku"] + 7, "demand": before["demand"] + 84, "import_batch": 1}


def test_postgres_down_answers_503_everywhere_and_the_app_recovers_without_a_restart(
    app_on_throwaway, throwaway_pg: ThrowawayPostgres
) -> None:
    import json

    from tests.conftest import login

    app, auth = app_on_throwaway
    api = app.server.test_client()
    browser = app.server.test_client()
    assert login(browser, "planner@example.com").status_code == 302
    deps = browser.get("/_dash-dependencies").get_json()
    router = next(d for d in deps if "_pages_content" in d["output"])
    parts = router["output"][2:-2].split("...")
    body = json.dumps(
        {
            "output": router["output"],
            "outputs": [{"id": p.rsplit(".", 1)[0], "property": p.rsplit(".", 1)[1]} for p in parts],
            "inputs": [dict(i, value="/" if i["property"] == "pathname" else "") for i in router["inputs"]],
            "state": [dict(s, value=None) for s in router.get("state", [])],
            "changedPropIds": ["_pages_location.pathname"],
        }
    )

    def requests() -> dict[str, int]:
        return {
            "api": api.get("/api/v1/purchase-orders", headers=auth).status_code,
            "page": browser.get("/data").status_code,
            "callback": browser.post("/_dash-update-component", data=body, content_type="application/json").status_code,
            "readyz": api.get("/readyz").status_code,
            "healthz": api.get("/healthz").status_code,
        }

    assert requests() == {"api": 200, "page": 200, "callback": 200, "readyz": 200, "healthz": 200}
    throwaway_pg.stop()
    assert requests() == {"api": 503, "page": 503, "callback": 503, "readyz": 503, "healthz": 200}
    page = browser.get("/data")
    assert "The database is not available right now" in page.get_data(as_text=True)
    assert api.get("/api/v1/purchase-orders", headers=auth).get_json()["error"]["code"] == "database_unavailable"
    throwaway_pg.start()
    assert requests() == {"api": 200, "page": 200, "callback": 200, "readyz": 200, "healthz": 200}
