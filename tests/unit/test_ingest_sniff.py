"""Sniffing files (encodings, delimiters, bad files) and chunked reading with line numbers (no database)."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from services.ingest.read import read_chunks
from services.ingest.report import ErrorLog, FileRejectedError
from services.ingest.sniff import MAX_LINE_BYTES, sniff

LIMIT = 10 * 1024 * 1024


def write(tmp_path: Path, data: bytes, name: str = "f.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    ("data", "encoding", "delimiter"),
    [
        (b"date,sku,qty\n2024-01-01,A,1\n", "UTF-8", ","),
        (codecs.BOM_UTF8 + b"date;sku;qty\n2024-01-01;A;1\n", "UTF-8 with BOM", ";"),
        ("date\tsku\tqty\n2024-01-01\tCaf\u00e9\t1\n".encode("latin-1"), "Latin-1", "\t"),
        ("date,sku,qty\n2024-01-01,東京,1\n".encode(), "UTF-8", ","),
        ("date,sku,qty\r\n2024-01-01,A,1\r\n".encode("utf-16"), "UTF-16", ","),
    ],
)
def test_encodings_and_delimiters(tmp_path: Path, data: bytes, encoding: str, delimiter: str) -> None:
    found = sniff(write(tmp_path, data), max_bytes=LIMIT)
    assert found.encoding_label == encoding
    assert found.delimiter == delimiter
    assert [h.lower() for h in found.header] == ["date", "sku", "qty"]
    chunk = next(read_chunks(found, errors=ErrorLog()))
    assert chunk.frame.shape == (1, 3) and chunk.lines.tolist() == [2]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"  \n\n", "empty"),
        (codecs.BOM_UTF8, "empty"),
        (b"\x00\x01\x02binary\x00stuff", "binary"),
        (bytes(range(256)) * 4, "binary"),
        (b"PK\x03\x04rest-of-a-workbook", "zip file, not a CSV file or a workbook"),
        (b"a," * 30_000 + b"\n1\n", "columns"),
        (b"date,sku,qty\n" + b"x" * (MAX_LINE_BYTES + 10) + b"\n", "longer than"),
    ],
)
def test_files_that_are_not_csv_are_rejected_clearly(tmp_path: Path, data: bytes, message: str) -> None:
    with pytest.raises(FileRejectedError, match=message):
        sniff(write(tmp_path, data), max_bytes=LIMIT)


def test_size_limit_names_the_setting(tmp_path: Path) -> None:
    path = write(tmp_path, b"date,sku,qty\n" + b"2024-01-01,A,1\n" * 1000)
    with pytest.raises(FileRejectedError, match="MAX_UPLOAD_MB"):
        sniff(path, max_bytes=1000)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(FileRejectedError, match="no such file"):
        sniff(tmp_path / "nope.csv", max_bytes=LIMIT)


def test_line_numbers_survive_blank_and_malformed_lines(tmp_path: Path) -> None:
    text = "a,b,c\nx,1,2\ny,2,3,extra\n\nz,3,4\nw,4\n"
    found = sniff(write(tmp_path, text.encode()), max_bytes=LIMIT)
    errors = ErrorLog()
    chunks = list(read_chunks(found, errors=errors, chunk_rows=2))
    lines = [int(x) for c in chunks for x in c.lines]
    rows = [list(r) for c in chunks for r in c.frame.astype(str).to_numpy()]
    assert lines == [2, 5, 6]
    assert rows == [["x", "1", "2"], ["z", "3", "4"], ["w", "4", ""]]
    (error,) = errors.first()
    assert error.line == 3 and "expected 3 fields, saw 4" in error.reason
