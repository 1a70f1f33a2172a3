"""Property-based: malformed files are refused with an error naming the line and column; the database is unchanged."""

from __future__ import annotations

import csv
import io
import unicodedata
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from services.ingest import ImportOptions, import_file
from tests.integration.test_ingest import snapshot

SETTINGS = settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=True,
)
CODE_CHARS = st.characters(categories=("L", "N"), exclude_characters="\u0085\u00a0")
CODES = st.lists(
    st.text(CODE_CHARS, min_size=1, max_size=10).map(lambda c: unicodedata.normalize("NFC", c)).filter(str.strip),
    min_size=1,
    max_size=4,
    unique=True,
).map(lambda codes: [f"K{c}" for c in codes])  # never a formula prefix nor blank
DEFECTS = {
    "number": ("quantity", ["abc", "nan", "inf", "-1", "1e400", "1e13", "", "1,5", "0x10"]),
    "date": ("date", ["2023-02-30", "31/12/2023", "soon", "", "2023-13-01", "99999-01-01"]),
    "sku_missing": ("sku", [""]),
    "unknown": ("sku", ["NO-SUCH-SKU"]),
    "control": ("sku", ["K\x01X", "K\x7fX"]),
    "too_long": ("sku", ["X" * 65]),
    "duplicate": ("date", [None]),
    "extra_field": (None, [None]),
}


def write(path: Path, header: list[str], rows: list[list[str]], delimiter: str, encoding: str) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    path.write_bytes(buffer.getvalue().encode(encoding))


@pytest.fixture
def master(session: Session, tmp_path: Path):
    """Return a function that makes sure the given SKU codes exist (imported through the SKU master)."""

    def ensure(codes: list[str]) -> None:
        path = tmp_path / "skus.csv"
        write(path, ["sku"], [[c] for c in codes], ",", "utf-8")
        result = import_file(session=session, path=path, kind="skus")
        session.commit()
        assert result.status == "committed", result.summary()

    return ensure


@SETTINGS
@given(
    codes=CODES,
    periods=st.integers(min_value=1, max_value=6),
    defect=st.sampled_from(sorted(DEFECTS)),
    choice=st.integers(min_value=0, max_value=50),
    position=st.integers(min_value=0, max_value=10_000),
    delimiter=st.sampled_from([",", ";", "\t"]),
    encoding=st.sampled_from(["utf-8", "utf-8-sig"]),
)
def test_a_malformed_row_is_named_and_nothing_changes(
    session: Session, tmp_path: Path, master, codes, periods, defect, choice, position, delimiter, encoding
) -> None:
    master(codes)
    rows = [
        [f"2024-{1 + p // 4:02d}-{1 + 7 * (p % 4):02d}", code, str(choice % 7 + p)]
        for code in codes
        for p in range(periods)
    ]
    target = position % len(rows)
    column, values = DEFECTS[defect]
    header = ["date", "sku", "quantity"]
    if defect == "duplicate":
        if target == 0:
            target = len(rows)
            rows.append(list(rows[0]))
        else:
            rows[target] = [rows[0][0], rows[0][1], rows[target][2]]
    elif defect == "extra_field":
        rows[target] = [*rows[target], "extra"]
    else:
        rows[target][header.index(column)] = values[choice % len(values)]
    path = tmp_path / "bad.csv"
    write(path, header, rows, delimiter, encoding)
    before = snapshot(session)
    result = import_file(session=session, path=path, kind="demand", user="hypothesis")
    session.commit()
    assert result.status == "rejected"
    assert snapshot(session) == before
    line = target + 2
    found = [e for e in result.errors.first(1000) if e.line == line]
    assert found, f"no error on line {line}: {[str(e) for e in result.first_errors()]}"
    assert any(e.column == column for e in found), [str(e) for e in found]
    assert all(e.reason for e in found)


@SETTINGS
@given(data=st.binary(min_size=0, max_size=3000))
def test_random_bytes_never_crash_and_never_write(session: Session, tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "random.bin"
    path.write_bytes(data)
    before = snapshot(session)
    result = import_file(session=session, path=path, kind="demand", options=ImportOptions(create_skus=True))
    session.commit()
    assert result.status == "rejected" and result.message
    assert snapshot(session) == before


@SETTINGS
@given(
    drop=st.sampled_from(["date", "sku", "quantity"]),
    kind_rows=st.integers(min_value=0, max_value=5),
)
def test_a_missing_column_is_named(session: Session, tmp_path: Path, drop: str, kind_rows: int) -> None:
    header = [h for h in ["date", "sku", "quantity"] if h != drop]
    path = tmp_path / "missing.csv"
    write(path, header, [["2024-01-01", "A"][: len(header)] for _ in range(kind_rows)], ",", "utf-8")
    before = snapshot(session)
    result = import_file(session=session, path=path, kind="demand", options=ImportOptions(create_skus=True))
    session.commit()
    assert result.status == "rejected"
    assert f"no '{drop}'" in result.message
    assert snapshot(session) == before
