"""The command line's failure paths, run as a real process: never a traceback on standard error, a non-zero exit and
one clear `error:` line where it fails; `import skus` into an empty database exits 0 (the recompute waits for demand).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT


def cli(db_url: str, data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("GEMINI_API_KEY", "REDIS_URL")}
    env.update({"DATABASE_URL": db_url, "DATA_DIR": str(data_dir), "APP_ENV": "test"})
    return subprocess.run(
        [sys.executable, str(ROOT / "cli.py"), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_import_skus_into_an_empty_database_exits_0(db_url: str, tmp_path: Path) -> None:
    master = tmp_path / "skus.csv"
    master.write_text("sku,name,unit_cost\nA-1,Apple,1.2\nB-1,Banana,0.4\n")
    done = cli(db_url, tmp_path, "import", "skus", str(master))
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr and done.stderr == ""
    assert "2 inserted" in done.stdout and "the portfolio recompute waits for demand" in done.stdout
    sales = tmp_path / "sales.csv"
    sales.write_text("date,product_name,demand\n2026-11-16,APPLE,3\n2026-11-23, apple ,4\n2026-11-23,banana,1\n")
    imported = cli(db_url, tmp_path, "import", "demand", str(sales), "--no-recompute")
    assert imported.returncode == 0, imported.stderr
    assert "3 product names matched to SKUs by their name" in imported.stdout  # distinct spellings


FAILURES = [
    # (arguments, exit status, text of the one error line); {d} is the temporary folder
    (["import", "demand", "{d}/missing.csv"], 2, "error: no such file: "),
    (["import", "stock", "{d}/empty.csv"], 1, "error: empty.csv: rejected - the file is empty"),
    (["import", "receipts", "{d}/binary.csv"], 1, "error: binary.csv: rejected - "),
    (["import", "demand", "{d}/nocols.csv"], 1, "error: nocols.csv: rejected - the demand file has no 'quantity'"),
    (["import", "skus", "{d}/nosku.csv"], 1, "error: nosku.csv: rejected - the SKU master file has no 'sku'"),
    (["import", "stock", "{d}/sales.csv"], 1, "error: sales.csv: rejected - the stock file has no 'on_hand'"),
    (["import", "receipts", "{d}/sales.csv"], 1, "error: sales.csv: rejected - the receipts file has no 'order_date'"),
    (["import", "demand", "{d}/sales.csv"], 1, "error: sales.csv: rejected - 2 problem(s) in 2 line(s)"),
    (["import", "nonsense", "{d}/sales.csv"], 2, "error: argument kind: invalid choice: 'nonsense'"),
    (["import", "demand"], 2, "error: the following arguments are required: file"),
    (["import", "demand", "{d}/sales.csv", "--on-error", "maybe"], 2, "error: argument --on-error: invalid choice"),
    (["import", "demand", "{d}/sales.csv", "--date-format", "dd.mm"], 2, "error: date_format must be a strptime"),
    (["import", "skus", "{d}/sales.csv", "--full-extract"], 2, "error: --full-extract applies to demand files only"),
    (["import", "demand", "{d}/sales.csv", "--yes"], 2, "error: --yes confirms SKUs created by --create-skus"),
    (["import", "demand", "{d}/sales.csv", "--check"], 1, "error: sales.csv: rejected - 2 problem(s)"),
    (["import-m5", "{d}"], 1, "error: m5:"),
    (["export-results", "snapshot", "{d}/out.csv"], 2, "error: there is no finished recompute yet"),
]


@pytest.fixture
def files(tmp_path: Path) -> Path:
    (tmp_path / "empty.csv").write_text("")
    (tmp_path / "binary.csv").write_bytes(b"\x00\x01\x02PK\x03\x04" * 50)
    (tmp_path / "nocols.csv").write_text("date,product,amount\n2026-11-23,A,1\n")
    (tmp_path / "nosku.csv").write_text("name,category\nApple,Fruit\n")
    (tmp_path / "sales.csv").write_text("date,sku,quantity\n2026-11-23,NOPE,1\n2026-11-23,GONE,2\n")
    return tmp_path


def test_failure_paths_give_one_error_line(db_url: str, files: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Every failure path in-process (fast): its exit status and exactly one `error:` line on standard error."""
    import cli as entry

    for arguments, status, first_line in FAILURES:
        args = [a.replace("{d}", str(files)) for a in arguments]
        try:
            code = entry.main(args)
        except SystemExit as exc:  # argparse
            code = exc.code
        out = capsys.readouterr()
        shown = f"cli.py {' '.join(arguments)}: exit {code}\nstderr: {out.err}\nstdout: {out.out}"
        assert code == status, shown
        assert "Traceback" not in out.err and "Traceback" not in out.out, shown
        lines = out.err.splitlines()
        assert len(lines) == 1 and lines[0].startswith(first_line), shown


@pytest.mark.parametrize(
    "arguments",
    [["import", "receipts", "{d}/binary.csv"], ["import", "demand", "{d}/nocols.csv", "--create-skus", "--yes"]],
)
def test_as_a_process_no_traceback_reaches_the_terminal(db_url: str, files: Path, arguments: list[str]) -> None:
    args = [a.replace("{d}", str(files)) for a in arguments]
    done = cli(db_url, files, *args)
    assert "Traceback" not in done.stderr and len(done.stderr.splitlines()) == 1, done.stderr
    assert done.stderr.startswith("error:") and done.returncode == 1


def test_an_unexpected_failure_is_one_line_and_its_traceback_goes_to_the_log(tmp_path: Path) -> None:
    """A database that cannot be reached is not a user error: one line, the details in DATA_DIR/logs/cli.log."""
    sales = tmp_path / "sales.csv"
    sales.write_text("date,sku,quantity\n2026-11-23,A,1\n")
    done = cli("postgresql+psycopg2://nobody@127.0.0.1:9/none", tmp_path, "import", "demand", str(sales))
    assert done.returncode == 1 and "Traceback" not in done.stderr
    (line,) = done.stderr.splitlines()
    assert line.startswith("error: import failed: OperationalError") and "cli.log" in line
    assert "Traceback" in (tmp_path / "logs" / "cli.log").read_text(encoding="utf-8")
