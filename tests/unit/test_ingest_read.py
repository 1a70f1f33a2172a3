"""The two CSV readers agree: pyarrow's fast path gives the same cells and line numbers as the pandas reader, and
steps aside (pandas reads) for every file it cannot read exactly alike."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.ingest import read
from services.ingest.report import ErrorLog
from services.ingest.sniff import sniff


def chunks(path: Path, *, arrow: bool, chunk_rows: int = 3) -> tuple[list[list[str]], list[int]]:
    sniffed = sniff(path, max_bytes=1 << 30)
    original = read._arrow_table
    if not arrow:
        read._arrow_table = lambda _sniffed: None
    try:
        rows, lines = [], []
        for chunk in read.read_chunks(sniffed, errors=ErrorLog(), chunk_rows=chunk_rows):
            assert all(isinstance(chunk.frame[c].dtype, pd.CategoricalDtype) for c in chunk.frame.columns)
            rows += chunk.frame.astype(str).to_numpy().tolist()
            lines += chunk.lines.tolist()
        return rows, lines
    finally:
        read._arrow_table = original


def write(directory: Path, data: bytes) -> Path:
    path = directory / "f.csv"
    path.write_bytes(data)
    return path


cell = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")) | st.sampled_from(',;\t" \n'), max_size=8)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.tuples(cell, cell, cell), min_size=1, max_size=12), delimiter=st.sampled_from([",", ";"]))
def test_fast_path_reads_exactly_like_pandas(rows: list[tuple[str, str, str]], delimiter: str) -> None:
    def quoted(value: str) -> str:
        return '"' + value.replace('"', '""') + '"'

    body = "".join(delimiter.join(quoted(v) for v in row) + "\n" for row in rows)
    with tempfile.TemporaryDirectory() as tmp:
        path = write(Path(tmp), f"date{delimiter}sku{delimiter}quantity\n{body}".encode())
        assert read._arrow_table(sniff(path, max_bytes=1 << 30)) is not None
        assert chunks(path, arrow=True) == chunks(path, arrow=False)


@pytest.mark.parametrize(
    "data",
    [
        b"date,sku,quantity\n2024-01-01,A,1\n2024-01-08,\xc3\xa9t\xc3\xa9,2\n",
        b"\xef\xbb\xbfdate;sku;quantity\n2024-01-01;A;1,5\n2024-01-08; B ;\n",
        b'date,sku,quantity\n2024-01-01,"A, quoted",1\n2024-01-08,"line\nbreak",2\n2024-01-15,C,3',
        b"date,sku,quantity\n2024-01-01,A,1\n\n , , \n2024-01-08,B,2\n\n",  # blank lines are skipped, numbers kept
    ],
)
def test_plain_files_take_the_fast_path(tmp_path: Path, data: bytes) -> None:
    path = write(tmp_path, data)
    assert read._arrow_table(sniff(path, max_bytes=1 << 30)) is not None
    assert chunks(path, arrow=True, chunk_rows=2) == chunks(path, arrow=False, chunk_rows=2)


@pytest.mark.parametrize(
    "data",
    [
        b"date,sku,quantity\n2024-01-01,A\n2024-01-08,B,2\n",  # a short line
        b"date,sku,quantity\n2024-01-01,A,1,9\n2024-01-08,B,2\n",  # a line with too many fields
        b"date,sku,quantity\n2024-01-01,\xe9t\xe9,1\n",  # Latin-1
    ],
)
def test_other_files_are_left_to_pandas(tmp_path: Path, data: bytes) -> None:
    assert read._arrow_table(sniff(write(tmp_path, data), max_bytes=1 << 30)) is None
