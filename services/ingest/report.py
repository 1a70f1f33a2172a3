"""The error report of an import: every rejected row with its line, column, value and reason."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from services.csv_safety import write_csv
from services.errors import UserFacingError
from services.ingest.validate import display_value

ERROR_COLUMNS = ["line", "column", "value", "reason"]
GROUP_LINES = 5  # line numbers shown per group of repeated errors
_ROW_DETAIL = re.compile(r": (first on line \d+|repeated on a later line)$")


class FileRejectedError(UserFacingError):
    """The whole file cannot be imported (empty, binary, too large, missing columns, ...)."""


@dataclass(frozen=True)
class RowError:
    line: int | None  # 1 = the header line; None for a problem with the whole file
    column: str | None
    value: str
    reason: str
    sheet: str | None = None  # a workbook: the sheet, and ``line`` is the row number the spreadsheet shows

    def __str__(self) -> str:
        if self.sheet is not None:
            where = f"sheet '{self.sheet}' row {self.line}" if self.line is not None else f"sheet '{self.sheet}'"
        else:
            where = f"line {self.line}" if self.line is not None else "file"
        column = f", column '{self.column}'" if self.column else ""
        value = f" ('{self.value}')" if self.value else ""
        return f"{where}{column}: {self.reason}{value}"


class ErrorLog:
    """Collects errors in column-wise chunks (cheap for a million rows); :meth:`frame` gives the report."""

    def __init__(self) -> None:
        self._chunks: list[pd.DataFrame] = []
        self._count = 0
        self.rejected_lines: set[int] = set()
        self.sheet: str | None = None  # a workbook's sheet: lines are then the rows the spreadsheet shows

    def shift_lines(self, offset: int) -> None:
        """Add ``offset`` to every line number (a workbook's header below row 1: lines become spreadsheet rows)."""
        if not offset:
            return
        for chunk in self._chunks:
            chunk["line"] = chunk["line"] + offset
        self.rejected_lines = {line + offset for line in self.rejected_lines}

    def add(
        self, *, lines: np.ndarray, column: str | np.ndarray | None, values: np.ndarray, reasons: np.ndarray | str
    ) -> None:
        """Add one error per element (arrays of equal length; ``column`` and ``reasons`` may be one value)."""
        if len(lines) == 0:
            return
        shown = [display_value(v) for v in values]
        self._chunks.append(
            pd.DataFrame(
                {
                    "line": np.asarray(lines, dtype=np.int64),
                    "column": column,
                    "value": shown,
                    "reason": np.asarray(reasons, dtype=object),
                }
            )
        )
        self._count += len(lines)

    def add_one(self, *, line: int | None, column: str | None, value: object, reason: str) -> None:
        self._chunks.append(
            pd.DataFrame(
                {
                    "line": pd.array([line], dtype="Int64"),
                    "column": [column],
                    "value": [display_value(value)],
                    "reason": [reason],
                }
            )
        )
        self._count += 1

    @property
    def count(self) -> int:
        return self._count

    def __bool__(self) -> bool:
        return self._count > 0

    def frame(self) -> pd.DataFrame:
        """All errors ordered by line (file-level errors first)."""
        if not self._chunks:
            return pd.DataFrame({c: pd.Series(dtype=object) for c in ERROR_COLUMNS})
        frame = pd.concat(self._chunks, ignore_index=True)
        frame["line"] = frame["line"].astype("Int64")
        frame = frame.sort_values("line", na_position="first", kind="stable").reset_index(drop=True)
        return frame[ERROR_COLUMNS]

    def first(self, n: int = 20) -> list[RowError]:
        frame = self.frame().head(n)
        return [
            RowError(
                line=None if pd.isna(r.line) else int(r.line),
                column=None if r.column is None or (isinstance(r.column, float)) else str(r.column),
                value=str(r.value),
                reason=str(r.reason),
                sheet=self.sheet,
            )
            for r in frame.itertuples(index=False)
        ]

    def grouped(self, limit: int = 50) -> list[dict[str, object]]:
        """One entry per distinct problem (column and reason; a duplicate's "first on line N" left out), in the order
        of its first line: ``column``, ``reason``, ``count``, ``lines`` (the first five), ``values`` (up to three
        distinct examples). The full report (:meth:`frame`, :meth:`write`) keeps every row."""
        frame = self.frame()
        if frame.empty:
            return []
        frame = frame.assign(
            problem=frame["reason"].astype(str).str.replace(_ROW_DETAIL, "", regex=True),
            where=frame["column"].astype(object).where(frame["column"].notna(), ""),
        )
        out: list[dict[str, object]] = []
        for (where, problem), group in frame.groupby(["where", "problem"], sort=False, dropna=False):
            lines = group["line"].dropna().astype(int)
            values = [str(x) for x in pd.unique(group["value"].astype(str)) if str(x)][:3]
            out.append(
                {
                    "column": where or None,
                    "reason": problem,
                    "count": len(group),
                    "lines": lines.head(GROUP_LINES).tolist(),
                    "values": values,
                    "sheet": self.sheet,
                    "_first": int(lines.iloc[0]) if len(lines) else 0,
                }
            )
        out.sort(key=lambda g: g.pop("_first"))  # type: ignore[arg-type,return-value]
        return out[:limit]

    def rejected_line_count(self) -> int:
        frame = self.frame()
        return int(frame["line"].dropna().nunique())

    def write(self, target: str | Path) -> Path:
        """Write the full report as CSV (spreadsheet-safe) to ``target`` (a workbook's: with the sheet's name, and
        ``line`` is the row number the spreadsheet shows)."""
        path = Path(target)
        path.parent.mkdir(parents=True, exist_ok=True)
        frame = self.frame()
        if self.sheet is not None:
            frame.insert(0, "sheet", self.sheet)
        write_csv(frame, path)
        return path


def group_line(group: dict[str, object]) -> str:
    """One group of :meth:`ErrorLog.grouped` as text: ``column 'sku': unknown SKU - 312 rows (lines 2, 5, ...)``."""
    count = int(group["count"])  # type: ignore[arg-type]
    lines = list(group["lines"])  # type: ignore[call-overload]
    where = f"column '{group['column']}': " if group.get("column") else ""
    if group.get("sheet"):
        where = f"sheet '{group['sheet']}', {where}"
    if not lines:
        return f"{where}{group['reason']}"
    shown = ", ".join(str(x) for x in lines) + (", ..." if count > len(lines) else "")
    unit = "row" if group.get("sheet") else "line"
    noun = unit if count == 1 else f"{count:,} rows, {unit}s"
    values = group.get("values") or []
    examples = (
        f"; e.g. {', '.join(repr(v) for v in values)}"
        if values and count > 1
        else (f" ('{values[0]}')" if values else "")
    )
    return f"{where}{group['reason']} - {noun} {shown}{examples}"
