"""Look at a file before parsing it: size, encoding, delimiter, header, line count; reject what is not a CSV.

Encodings: UTF-8 with or without a byte-order mark, UTF-16 with a byte-order mark, otherwise Latin-1 (every byte
sequence is valid Latin-1, so binary files are recognised first: NUL bytes or many control characters).
Delimiters: ``,`` ``;`` or tab, whichever splits the header line into the most columns.
Limits: a line may be up to :data:`MAX_LINE_BYTES` (1 MiB) and the header up to :data:`MAX_COLUMNS` columns; a file
beyond either is rejected naming the line. Python's ``csv`` module refuses fields over 128 KiB by default (a long
header read with the wrong delimiter is one field), so this module raises that limit to the documented line length.
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
# A field can be as long as a line (a header split on the wrong delimiter is one field): never below the line limit.
csv.field_size_limit(max(csv.field_size_limit(), MAX_LINE_BYTES + 1))
_BLOCK = 1 << 23
MB = 1024 * 1024  # MAX_UPLOAD_MB counts megabytes of 1,048,576 bytes; messages use the same unit
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


def _scan(path: Path, size: int) -> tuple[bool, int, int, int]:
    """(valid UTF-8, line count, longest line in bytes, number of the first line over the limit or 0) in fixed-size
    blocks (bounded memory); stops at the first line over :data:`MAX_LINE_BYTES`."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    utf8 = True
    lines = 0
    longest = 0
    run = 0  # bytes since the last newline
    too_long = 0
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
                too_long = lines + 1 if run > MAX_LINE_BYTES else 0
            else:
                longest = max(longest, run + int(newlines[0]))
                inner = np.diff(newlines) - 1
                if run + int(newlines[0]) > MAX_LINE_BYTES:
                    too_long = lines + 1
                elif len(inner) and int(inner.max()) > MAX_LINE_BYTES:
                    too_long = lines + 2 + int(np.flatnonzero(inner > MAX_LINE_BYTES)[0])
                longest = max(longest, int(inner.max()) if len(inner) else 0)
                run = len(block) - int(newlines[-1]) - 1
                lines += len(newlines)
                if not too_long and run > MAX_LINE_BYTES:
                    too_long = lines + 1
            if too_long:
                return utf8, lines, max(longest, run), too_long
    if utf8:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            utf8 = False
    if run > 0:
        lines += 1
    return utf8, lines, max(longest, run), 0


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


def check_size(path: Path, *, max_bytes: int) -> int:
    """The size of the file at ``path``; raises :class:`FileRejectedError` when it is missing or over the limit."""
    if not path.is_file():
        raise FileRejectedError(f"no such file: {path}")
    size = path.stat().st_size
    if size > max_bytes:
        raise FileRejectedError(
            f"the file is {size / MB:,.1f} MB; the limit is {max_bytes / MB:,.0f} MB (setting MAX_UPLOAD_MB)"
        )
    return size


def sniff(path: str | Path, *, max_bytes: int) -> Sniffed:
    """Check the file at ``path`` and describe it; raises :class:`FileRejectedError` with a clear message."""
    path = Path(path)
    size = check_size(path, max_bytes=max_bytes)
    with path.open("rb") as handle:
        head = handle.read(65536)
    body = head[len(codecs.BOM_UTF8) :] if head.startswith(codecs.BOM_UTF8) else head
    if not body.strip():
        raise FileRejectedError("the file is empty")
    if head.startswith(b"PK\x03\x04"):
        raise FileRejectedError("this is a zip file, not a CSV file or a workbook (.xlsx, .xlsm, .ods)")
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
        utf8, lines, _longest, too_long = _scan(path, size)
        if too_long:
            raise FileRejectedError(_long_line_message(too_long))
        if head.startswith(codecs.BOM_UTF8):
            encoding, label = "utf-8-sig", "UTF-8 with BOM"
        elif utf8:
            encoding, label = "utf-8", "UTF-8"
        else:
            encoding, label = "latin-1", "Latin-1"
        header = _header_line(path, encoding)
    if len(header) > MAX_LINE_BYTES:  # UTF-16 files are not scanned byte-wise: check the header here
        raise FileRejectedError(_long_line_message(1))
    if not header.strip():
        raise FileRejectedError("the first line (the header) is empty")
    delimiter = _choose_delimiter(header)
    columns = next(csv.reader(io.StringIO(header), delimiter=delimiter), [])
    if len(columns) > MAX_COLUMNS:
        raise FileRejectedError(
            f"line 1 (the header) has {len(columns):,} columns; at most {MAX_COLUMNS:,} are accepted"
        )
    return Sniffed(
        path=path,
        size=size,
        encoding=encoding,
        encoding_label=label,
        delimiter=delimiter,
        header=[c.strip() for c in columns],
        lines=lines,
    )


def _long_line_message(line: int) -> str:
    return (
        f"line {line:,} is longer than {MAX_LINE_BYTES // 1024:,} KiB (1 MiB, the limit per line): "
        "this is not a usable CSV file"
    )


def _count_lines_utf16(path: Path) -> int:
    count = 0
    with path.open("r", encoding="utf-16", newline="") as handle:
        for _line in handle:
            count += 1
    return count
