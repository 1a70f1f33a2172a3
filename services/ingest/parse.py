"""Parse and validate a file's rows, chunk by chunk, into column arrays (long layout) or records (wide layout)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from services.ingest import validate as v
from services.ingest.columns import Resolved
from services.ingest.read import CHUNK_ROWS, read_chunks
from services.ingest.report import ErrorLog
from services.ingest.sniff import Sniffed

Progress = Callable[[float, str], None]
WIDE_CELLS_PER_CHUNK = 2_000_000


@dataclass
class Parsed:
    """Validated columns of a long file: ``values[field]`` per row, ``ok`` False where any cell failed."""

    values: dict[str, np.ndarray]
    lines: np.ndarray
    ok: np.ndarray
    rows_read: int
    preview: pd.DataFrame  # the first rows as read (original headers)

    def __len__(self) -> int:
        return len(self.lines)


@dataclass
class WideParsed:
    """Records of a wide demand file (one per SKU row and period column) plus its per-row attributes."""

    code: np.ndarray  # object, per record
    location: np.ndarray | None
    period: np.ndarray  # datetime64[D]
    quantity: np.ndarray
    lines: np.ndarray
    columns: np.ndarray  # object: the period header of each record (for error messages)
    ok: np.ndarray
    rows_read: int
    preview: pd.DataFrame
    attributes: pd.DataFrame = field(default_factory=pd.DataFrame)  # code + SKU master fields, one row per line


def _concat(parts: list[np.ndarray], dtype: object) -> np.ndarray:
    if not parts:
        return np.zeros(0, dtype=dtype)
    return np.concatenate(parts)


def _record_errors(errors: ErrorLog, checked: v.Checked, series: pd.Series, lines: np.ndarray, header: str) -> None:
    if checked.reasons is None:
        return
    bad = ~pd.isna(checked.reasons)
    if bad.any():
        raw = series.astype(object).to_numpy()[bad]
        errors.add(lines=lines[bad], column=header, values=raw, reasons=checked.reasons[bad])


def parse_long(
    sniffed: Sniffed,
    resolved: Resolved,
    fields: tuple[v.Field, ...],
    *,
    errors: ErrorLog,
    date_format: str | None,
    progress: Progress | None = None,
    preview_rows: int = 10,
    on_chunk: Callable[[dict[str, np.ndarray], np.ndarray], None] | None = None,
    chunk_rows: int = CHUNK_ROWS,
    arrow: bool = True,
) -> Parsed:
    """Validate every resolved column of every row (vectorised per chunk).

    ``on_chunk(values, ok)`` sees each chunk's validated values (by field) and row mask as soon as it is parsed.
    """
    specs = [spec for spec in fields if spec.name in resolved.columns]
    parts: dict[str, list[np.ndarray]] = {spec.name: [] for spec in specs}
    line_parts: list[np.ndarray] = []
    ok_parts: list[np.ndarray] = []
    preview: pd.DataFrame | None = None
    rows = 0
    for chunk in read_chunks(sniffed, errors=errors, progress=progress, chunk_rows=chunk_rows, arrow=arrow):
        frame = chunk.frame
        if preview is None:
            preview = _preview(frame, sniffed.header, preview_rows)
        ok = np.ones(len(frame), dtype=bool)
        for spec in specs:
            position = resolved.columns[spec.name]
            series = frame[position]
            checked = v.check(series, spec, date_format=date_format)
            _record_errors(errors, checked, series, chunk.lines, resolved.headers[position])
            ok &= checked.ok()
            values = checked.values
            if spec.name in resolved.scales:
                values = values * resolved.scales[spec.name]
            parts[spec.name].append(values)
        if on_chunk is not None:
            on_chunk({name: part[-1] for name, part in parts.items()}, ok)
        line_parts.append(chunk.lines)
        ok_parts.append(ok)
        rows += len(frame)
    dtypes = {"number": np.float64, "date": "datetime64[D]", "text": object, "code": object, "bool": object}
    values = {spec.name: _concat(parts[spec.name], dtypes[spec.type]) for spec in specs}
    return Parsed(
        values=values,
        lines=_concat(line_parts, np.int64),
        ok=_concat(ok_parts, bool),
        rows_read=rows,
        preview=preview if preview is not None else pd.DataFrame(columns=sniffed.header),
    )


def _preview(frame: pd.DataFrame, header: list[str], n: int) -> pd.DataFrame:
    head = frame.head(n).astype(object).copy()
    head.columns = [h if h else f"column {i + 1}" for i, h in enumerate(header)][: len(head.columns)]
    return head.reset_index(drop=True)


def period_columns(
    headers: list[str], *, date_format: str | None, mapping: dict[str, np.datetime64] | None = None
) -> dict[int, np.datetime64]:
    """Positions of headers that are periods (dates, ``YYYY-MM``, ``YYYY-Www``, or keys of ``mapping``)."""
    if mapping is not None:
        return {i: mapping[h.strip()] for i, h in enumerate(headers) if h.strip() in mapping}
    labels = pd.Series([h.strip() for h in headers], dtype=object)
    dates, reasons = v.parse_date_labels(labels, date_format=date_format)
    return {i: dates[i] for i in range(len(headers)) if reasons[i] is None and not np.isnat(dates[i])}


def parse_wide(
    sniffed: Sniffed,
    resolved: Resolved,
    periods: dict[int, np.datetime64],
    attribute_fields: tuple[v.Field, ...],
    *,
    errors: ErrorLog,
    progress: Progress | None = None,
    preview_rows: int = 10,
    code_transform: Callable[[pd.Series], pd.Series] | None = None,
) -> WideParsed:
    """One record per (row, period column); a blank cell means no demand (0)."""
    positions = sorted(periods)
    period_values = np.array([periods[p] for p in positions], dtype="datetime64[D]")
    period_headers = np.array([sniffed.header[p] for p in positions], dtype=object)
    quantity_spec = v.Field("quantity", "number", blank="zero")
    n_periods = len(positions)
    chunk_rows = max(50, WIDE_CELLS_PER_CHUNK // max(n_periods, 1))
    codes, locations, quantities, lines, columns, oks, period_parts, attribute_parts = [], [], [], [], [], [], [], []
    preview: pd.DataFrame | None = None
    rows = 0
    sku_spec = next(f for f in attribute_fields if f.name == "sku")
    for chunk in read_chunks(sniffed, errors=errors, as_category=False, chunk_rows=chunk_rows, progress=progress):
        frame = chunk.frame
        if preview is None:
            preview = _preview(frame, sniffed.header, preview_rows)
        n = len(frame)
        row_ok = np.ones(n, dtype=bool)
        attrs: dict[str, np.ndarray] = {}
        for spec in attribute_fields:
            if spec.name not in resolved.columns:
                continue
            position = resolved.columns[spec.name]
            series = frame[position]
            if spec.name == "sku" and code_transform is not None:
                series = code_transform(series)
            checked = v.check(series, spec)
            _record_errors(errors, checked, series, chunk.lines, resolved.headers[position])
            if spec.name in ("sku", "location"):
                row_ok &= checked.ok()
            else:
                # a bad attribute rejects the row's master data, not its demand
                attrs[f"_ok_{spec.name}"] = checked.ok()
            values = checked.values
            if spec.name in resolved.scales:
                values = values * resolved.scales[spec.name]
            attrs[spec.name] = values
        block = frame[positions].to_numpy(dtype=object)
        cells = pd.Series(block.ravel(), dtype=object)
        checked = v.check_numbers(cells, quantity_spec)
        cell_ok = checked.ok()
        if checked.reasons is not None and (~cell_ok).any():
            bad = np.flatnonzero(~cell_ok)
            errors.add(
                lines=chunk.lines[bad // n_periods],
                column=period_headers[bad % n_periods],
                values=cells.to_numpy()[bad],
                reasons=checked.reasons[bad],
            )
        codes.append(np.repeat(attrs[sku_spec.name], n_periods))
        if "location" in attrs:
            locations.append(np.repeat(attrs["location"], n_periods))
        quantities.append(checked.values)
        period_parts.append(np.tile(period_values, n))
        lines.append(np.repeat(chunk.lines, n_periods))
        columns.append(np.tile(period_headers, n))
        oks.append(np.repeat(row_ok, n_periods) & cell_ok)
        attribute_parts.append(pd.DataFrame({**attrs, "_line": chunk.lines, "_row_ok": row_ok}))
        rows += n
    return WideParsed(
        code=_concat(codes, object),
        location=_concat(locations, object) if locations else None,
        period=_concat(period_parts, "datetime64[D]"),
        quantity=_concat(quantities, np.float64),
        lines=_concat(lines, np.int64),
        columns=_concat(columns, object),
        ok=_concat(oks, bool),
        rows_read=rows,
        preview=preview if preview is not None else pd.DataFrame(columns=sniffed.header),
        attributes=pd.concat(attribute_parts, ignore_index=True) if attribute_parts else pd.DataFrame(),
    )
