"""The data commands: import / import-m5 / export / reset exit codes and one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

import cli


def test_import_export_reset_round(db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "demand.csv"
    source.write_text("date,sku,quantity\n2024-01-01,A,1\n2024-01-08,A,2\n")
    assert cli.main(["import", "demand", str(source), "--no-recompute"]) == 1
    captured = capsys.readouterr()
    assert captured.err.count("\n") == 1 and captured.err.startswith("error: demand.csv: rejected")
    assert "unknown SKU" in captured.out
    assert cli.main(["import", "demand", str(source), "--create-skus", "--no-recompute"]) == 0
    assert "2 inserted" in capsys.readouterr().out
    out = tmp_path / "export.csv"
    assert cli.main(["export", "demand", str(out)]) == 0
    assert out.read_text().splitlines() == ["date,sku,quantity", "2024-01-01,A,1.0", "2024-01-08,A,2.0"]
    assert cli.main(["import", "demand", str(out), "--no-recompute"]) == 0
    assert "0 inserted, 0 updated, 2 unchanged" in capsys.readouterr().out
    assert cli.main(["reset"]) == 2
    assert capsys.readouterr().err.strip() == "error: the factory reset deletes all planning data: add --yes to confirm"
    assert cli.main(["reset", "--yes"]) == 0
    assert "6 rows removed" in capsys.readouterr().out  # 1 SKU, 2 demand rows, 3 import batches


def test_bad_input_gives_one_line(db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["import", "demand", str(tmp_path / "missing.csv")]) == 2
    assert capsys.readouterr().err == f"error: no such file: {tmp_path / 'missing.csv'}\n"
    source = tmp_path / "d.csv"
    source.write_text("date,sku,quantity\n")
    assert cli.main(["import", "demand", str(source), "--date-format", "dd.mm"]) == 2
    assert capsys.readouterr().err.startswith("error: date_format must be a strptime format")
    assert cli.main(["import-m5", str(tmp_path), "--no-recompute"]) == 1
    assert "no sales_train_*.csv" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main(["export", "nonsense", "x.csv"])
