"""The orders / fva commands (SQLite; the SQL is the services', tested on both engines elsewhere)."""

from __future__ import annotations

import zipfile

import pytest

import cli
from db.session import session_scope
from services import orders as svc
from tests.integration.test_orders import fast_forecast, run, seed  # noqa: F401  (fixture)

pytestmark = pytest.mark.usefixtures("fast_forecast")
USER = ["--user", "planner@example.com"]


def test_orders_commands(sqlite_db, tmp_path, capsys) -> None:
    seed()
    run()
    with session_scope() as s:
        ids_ = {o.sku: o.id for o in svc.list_orders(session=s, status="recommended")}
    assert cli.main(["orders", "list", "--status", "recommended"]) == 0
    out = capsys.readouterr().out
    assert "A-NEED" in out and f"{len(ids_):,} order(s)" in out
    assert cli.main(["orders", "approve", str(ids_["A-NEED"]), str(ids_["C-NEED"]), *USER]) == 0
    assert "approved 2 order(s)" in capsys.readouterr().out
    assert cli.main(["orders", "edit", str(ids_["B-NEED"]), "7", "--reason", "pack", *USER]) == 0
    assert "-> 7" in capsys.readouterr().out
    assert cli.main(["orders", "reject", str(ids_["D-NEED"]), "--reason", "supplier discontinued", *USER]) == 0
    capsys.readouterr()
    assert cli.main(["orders", "list", "--status", "rejected"]) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if "D-NEED" in x)
    assert line.rstrip().endswith("supplier discontinued")  # the reason is listed
    assert cli.main(["orders", "export", "--zip", "--out", str(tmp_path)]) == 0
    (archive,) = tmp_path.glob("approved-orders-*.zip")
    with zipfile.ZipFile(archive) as z:
        assert sorted(z.namelist()) == ["Acme.csv", "Bolt-Co.csv"]
    today = svc.today().isoformat()
    assert cli.main(["orders", "receive", str(ids_["A-NEED"]), "--date", today, *USER]) == 0
    assert "received" in capsys.readouterr().out
    # a bad transition: one line on stderr, exit 2
    assert cli.main(["orders", "approve", str(ids_["A-NEED"]), *USER]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: cannot approve") and err.count("\n") == 1
    assert cli.main(["orders", "cancel", str(ids_["C-NEED"]), *USER]) == 0
    with session_scope() as s:
        statuses = {o.sku: o.status for o in svc.list_orders(session=s)}
    assert statuses["A-NEED"] == "received" and statuses["C-NEED"] == "cancelled"
    assert statuses["B-NEED"] == "recommended" and statuses["D-NEED"] == "rejected"
    assert cli.main(["fva", "--by", "planner"]) == 0
    assert "no overridden period" in capsys.readouterr().err
