"""Look at a file before parsing it: size, encoding, delimiter, header, line count; reject what is not a CSV.

Encodings: UTF-8 with or without a byte-order mark, UTF-16 with a byte-order mark, otherwise Latin-1 (every byte
sequence is valid Latin-1, so binary files are recognised first: NUL bytes or many control characters).
Delimiters: ``,`` ``;`` or tab, whichever splits the header line into the most columns.
"""

from __future__ import annotations

import codecs
import csv
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from services.ingest.report import FileRejectedError

MAX_LINE_BYTES = 1 << 20  # 1 MiB: longer lines are rejected as absurd
MAX_COLUMNS = 20_000
_BLOCK = 1 << 23
_DELIMITERS = {",": "comma", ";": "semicolon", "\t": "tab"}


@dataclass(frozen=True)
class Sniffed:
    path: Path
    size: int
    encoding: str  # python codec name given to pandas
    encoding_label: str  # for people: UTF-8, UTF-8 with BOM, UTF-16, Latin-1
    delimiter: str
    header: list[str]
    lines: int  # physical lines including the header

    @property
    def delimiter_label(self) -> str:
        return _DELIMITERS.get(self.delimiter, repr(self.delimiter))


def _looks_binary(sample: bytes) -> bool:
    if not sample:
        return False
    if b"\x00" in sample:
        return True
    control = sum(sample.count(bytes([c])) for c in range(32) if c not in (9, 10, 13))
    return control > max(8, len(sample) // 100)


def _scan(path: Path, size: int) -> tuple[bool, int, int]:
    """(valid UTF-8, line count, longest line in bytes) in fixed-size blocks (bounded memory)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    utf8 = True
    lines = 0
    longest = 0
    run = 0  # bytes since the last newline
    with path.open("rb") as handle:
        while True:
            block = handle.read(_BLOCK)
            if not block:
                break
            if utf8:
                try:
                    decoder.decode(block)
                except UnicodeDecodeError:
                    utf8 = False
            arr = np.frombuffer(block, dtype=np.uint8)
            newlines = np.flatnonzero(arr == 10)
            if len(newlines) == 0:
                run += len(block)
            else:
                longest = max(longest, run + int(newlines[0]))
                if len(newlines) > 1:
                    longest = max(longest, int(np.diff(newlines).max()) - 1)
                run = len(block) - int(newlines[-1]) - 1
                lines += len(newlines)
            if longest > MAX_LINE_BYTES or run > MAX_LINE_BYTES:
                return utf8, lines, max(longest, run)
    if utf8:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            utf8 = False
    if run > 0:
        lines += 1
    return utf8, lines, max(longest, run)


def _header_line(path: Path, encoding: str) -> str:
    with path.open("r", encoding=encoding, errors="replace", newline="") as handle:
        first = handle.readline(MAX_LINE_BYTES + 1)
    return first.lstrip("\ufeff").rstrip("\r\n")


def _choose_delimiter(header: str) -> str:
    counts = {d: len(next(csv.reader(io.StringIO(header), delimiter=d), [])) for d in _DELIMITERS}
    best = max(counts.values())
    for delimiter in (",", ";", "\t"):
        if counts[delimiter] == best:
            return delimiter
    return ","


def sniff(path: str | Path, *, max_bytes: int) -> Sniffed:
    """Check the file at ``path`` and describe it; raises :class:`FileRejectedError` with a clear message."""
    path = Path(path)
    if not path.is_file():
        raise FileRejectedError(f"no such file: {path}")
    size = path.stat().st_size
    if size > max_bytes:
        raise FileRejectedError(
            f"the file is {size / 1e6:,.1f} MB; the limit is {max_bytes / 1e6:,.0f} MB (setting MAX_UPLOAD_MB)"
        )
    with path.open("rb") as handle:
        head = handle.read(65536)
    body = head[len(codecs.BOM_UTF8) :] if head.startswith(codecs.BOM_UTF8) else head
    if not body.strip():
        raise FileRejectedError("the file is empty")
    if head.startswith(b"PK\x03\x04"):
        raise FileRejectedError("this is a zip file or an Excel workbook, not a CSV: save it as CSV (UTF-8) first")
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding, label = "utf-16", "UTF-16"
        text = head.decode("utf-16", errors="replace")
        if "\x00" in text or not text.strip("\ufeff \r\n\t"):
            raise FileRejectedError("the file is empty or not text")
        header = _header_line(path, encoding)
        lines = text.count("\n") if size <= len(head) else _count_lines_utf16(path)
    else:
        if _looks_binary(head):
            raise FileRejectedError("this is a binary file, not a CSV text file")
        utf8, lines, longest = _scan(path, size)
        if longest > MAX_LINE_BYTES:
            raise FileRejectedError(
                f"a line is longer than {MAX_LINE_BYTES // 1024:,} KiB: this is not a usable CSV file"
            )
        if head.startswith(codecs.BOM_UTF8):
            encoding, label = "utf-8-sig", "UTF-8 with BOM"
        elif utf8:
            encoding, label = "utf-8", "UTF-8"
        else:
            encoding, label = "latin-1", "Latin-1"
        header = _header_line(path, encoding)
    if not header.strip():
        raise FileRejectedError("the first line (the header) is empty")
    delimiter = _choose_delimiter(header)
    columns = next(csv.reader(io.StringIO(header), delimiter=delimiter), [])
    if len(columns) > MAX_COLUMNS:
        raise FileRejectedError(f"the header has {len(columns):,} columns; at most {MAX_COLUMNS:,} are accepted")
    return Sniffed(
        path=path,
        size=size,
        encoding=encoding,
        encoding_label=label,
        delimiter=delimiter,
        header=[c.strip() for c in columns],
        lines=lines,
    )


def _count_lines_utf16(path: Path) -> int:
    count = 0
    with path.open("r", encoding="utf-16", newline="") as handle:
        for _line in handle:
            count += 1
    return count
