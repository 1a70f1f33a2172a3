"""Chunked CSV reading with pandas (C engine) that keeps track of line numbers and malformed lines.

Line numbers count records with the header as line 1 (they are physical line numbers unless a quoted cell spans
several lines). A line with more fields than the header is reported as malformed; fewer fields leave the missing
cells empty (then "missing value" where a value is required). Blank lines are skipped.
"""

from __future__ import annotations

import mmap
import re
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pv

from services.ingest.report import ErrorLog, FileRejectedError
from services.ingest.sniff import Sniffed
from services.ingest.validate import BAD_LINE

CHUNK_ROWS = 250_000
ARROW_MAX_BYTES = 512 * 1024 * 1024  # the fast path holds the whole file (dictionary-encoded) in memory
_SKIPPING = re.compile(r"Skipping line (\d+): (.*)")
Progress = Callable[[float, str], None]


@dataclass
class Chunk:
    frame: pd.DataFrame  # columns are positions 0..n-1; all cells strings (categorical or object)
    lines: np.ndarray  # int64 line number of each row


class LineMap:
    """Row index (0-based, among parsed rows) -> line number, given the malformed lines pandas skipped."""

    def __init__(self) -> None:
        self.bad: list[int] = []

    def lines_for(self, rows: np.ndarray) -> np.ndarray:
        rows = np.asarray(rows, dtype=np.int64)
        if not self.bad:
            return rows + 2
        bad = np.unique(np.asarray(self.bad, dtype=np.int64))
        top = int(rows.max(initial=0)) + 2 + len(bad) + 1
        good = np.setdiff1d(np.arange(2, top + 1, dtype=np.int64), bad, assume_unique=True)
        return good[rows]


def read_chunks(
    sniffed: Sniffed,
    *,
    errors: ErrorLog,
    as_category: bool = True,
    chunk_rows: int = CHUNK_ROWS,
    progress: Progress | None = None,
    arrow: bool = True,
) -> Iterator[Chunk]:
    """Yield the data rows of the file in chunks; malformed lines go to ``errors`` as they are met.

    ``arrow``: read plain files with pyarrow (faster alone; the pandas reader, which releases the GIL while it
    tokenises, leaves more room to a thread working beside it: the import stream measured 0.86 s vs 0.95 s).
    """
    if as_category and arrow:
        table = _arrow_table(sniffed)
        if table is not None:
            yield from _arrow_chunks(table, sniffed, chunk_rows, progress)
            return
    n_columns = len(sniffed.header)
    line_map = LineMap()
    try:
        reader = pd.read_csv(
            sniffed.path,
            sep=sniffed.delimiter,
            encoding=sniffed.encoding,
            header=None,
            skiprows=1,
            names=list(range(n_columns)),
            dtype="category" if as_category else str,
            na_filter=False,
            keep_default_na=False,
            skip_blank_lines=False,
            on_bad_lines="warn",
            chunksize=chunk_rows,
            engine="c",
            quotechar='"',
            doublequote=True,
            encoding_errors="strict",
        )
        data_lines = max(sniffed.lines - 1, 1)
        with reader:
            while True:
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always")
                    try:
                        frame = next(reader)
                    except StopIteration:
                        frame = None
                for warning in caught:
                    for line, detail in _SKIPPING.findall(str(warning.message)):
                        line_map.bad.append(int(line))
                        errors.add_one(line=int(line), column=None, value="", reason=f"{BAD_LINE}: {detail}")
                if frame is None:
                    break
                blank = _blank_rows(frame)
                lines = line_map.lines_for(frame.index.to_numpy())
                if blank.any():
                    frame = frame.loc[~blank]
                    lines = lines[~blank]
                frame.index = pd.RangeIndex(len(frame))
                if progress:
                    progress(min(1.0, float(lines.max(initial=0)) / data_lines), "reading")
                yield Chunk(frame=frame, lines=lines)
    except pd.errors.ParserError as exc:
        raise FileRejectedError(f"the file cannot be read as CSV: {_short(exc)}") from exc
    except UnicodeDecodeError as exc:
        raise FileRejectedError(f"the file is not valid {sniffed.encoding_label} text (byte {exc.start})") from exc


def _arrow_table(sniffed: Sniffed) -> pa.Table | None:
    """The whole file read by pyarrow's multi-threaded CSV reader (cells as dictionary-encoded text), or None.

    The fast path for the plain case only: UTF-8, at most ``ARROW_MAX_BYTES``, every line blank or with exactly the
    header's number of fields. Anything else (pyarrow raises) is left to the pandas reader, which reports malformed
    lines one by one. Blank lines are read as empty rows and dropped after numbering, as the pandas reader does.
    """
    if sniffed.encoding not in ("utf-8", "utf-8-sig") or sniffed.size > ARROW_MAX_BYTES:
        return None
    names = [str(i) for i in range(len(sniffed.header))]
    try:
        quoted = _contains(sniffed.path, b'"')  # only a quoted cell can hold a newline; without, parse in parallel
        return pv.read_csv(
            sniffed.path,
            read_options=pv.ReadOptions(skip_rows=1, column_names=names, block_size=1 << 22),
            parse_options=pv.ParseOptions(
                delimiter=sniffed.delimiter,
                quote_char='"',
                double_quote=True,
                newlines_in_values=quoted,
                ignore_empty_lines=False,
            ),
            convert_options=pv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.dictionary(pa.int32(), pa.string())),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowException, ValueError, OSError):
        return None


def _contains(path: Path, needle: bytes) -> bool:
    with path.open("rb") as handle:
        if handle.seek(0, 2) == 0:
            return False
        with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as view:
            return view.find(needle) >= 0


def _arrow_chunks(table: pa.Table, sniffed: Sniffed, chunk_rows: int, progress: Progress | None) -> Iterator[Chunk]:
    data_lines = max(sniffed.lines - 1, 1)
    for start in range(0, table.num_rows, chunk_rows):
        frame = table.slice(start, chunk_rows).to_pandas()
        frame.columns = list(range(len(frame.columns)))
        for column in frame.columns:
            if not isinstance(frame[column].dtype, pd.CategoricalDtype):
                frame[column] = frame[column].astype("category")
        lines = np.arange(start + 2, start + 2 + len(frame), dtype=np.int64)  # blank lines are rows: physical
        blank = _blank_rows(frame)
        if blank.any():
            frame = frame.loc[~blank].reset_index(drop=True)
            lines = lines[~blank]
        if progress and len(lines):
            progress(min(1.0, float(lines[-1]) / data_lines), "reading")
        yield Chunk(frame=frame, lines=lines)


def _short(exc: Exception) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text.replace("Error tokenizing data. C error: ", "")[:200]


def _blank_rows(frame: pd.DataFrame) -> np.ndarray:
    if frame.empty:
        return np.zeros(0, dtype=bool)
    blank = np.ones(len(frame), dtype=bool)
    for column in frame.columns:
        series = frame[column]
        if isinstance(series.dtype, pd.CategoricalDtype):
            categories = pd.Series(series.cat.categories.astype(str)).str.strip() == ""
            empty_codes = np.append(categories.to_numpy(), True)  # code -1 (NaN) counts as blank
            blank &= empty_codes[series.cat.codes.to_numpy()]
        else:
            blank &= series.astype(str).str.strip().eq("").to_numpy()
        if not blank.any():
            break
    return blank
