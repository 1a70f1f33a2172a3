"""CSV exports that are safe to open in a spreadsheet (no formula injection), and the matching import rule.

A text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is read as a formula by Excel,
LibreOffice and Google Sheets (OWASP, "CSV Injection"). Exports prefix such cells with an apostrophe, which the
spreadsheet shows as text; :func:`restore` removes exactly that prefix again so that an exported file re-imports
to the same values. Numbers (including negative ones) are written as numbers, untouched.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: object) -> object:
    """``'=1+1'`` -> ``"'=1+1"``; anything that is not a string is returned unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def restore(value: object) -> object:
    """Undo :func:`neutralise`: ``"'=1+1"`` -> ``'=1+1'`` (only an apostrophe before a formula character)."""
    if isinstance(value, str) and len(value) > 1 and value[0] == "'" and value[1] in "=+-@\t\r":
        return value[1:]
    return value


def safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells are neutralised (numeric, date and boolean columns untouched)."""
    out = frame.copy()
    for column in out.columns:
        series = out[column]
        if series.dtype == object or pd.api.types.is_string_dtype(series.dtype):
            values = series.to_numpy(dtype=object)
            is_text = np.fromiter((isinstance(v, str) for v in values), dtype=bool, count=len(values))
            if is_text.any():
                starts = np.zeros(len(values), dtype=bool)
                starts[is_text] = [v.startswith(FORMULA_PREFIXES) for v in values[is_text]]
                if starts.any():
                    values = values.copy()
                    values[starts] = ["'" + v for v in values[starts]]
                    out[column] = values
    return out


def write_csv(frame: pd.DataFrame, target: str | Path | io.TextIOBase | None = None) -> str | None:
    """Write ``frame`` as UTF-8 CSV with neutralised text cells; returns the text when ``target`` is None."""
    safe = safe_frame(frame)
    if target is None:
        return safe.to_csv(index=False, lineterminator="\n")
    if isinstance(target, str | Path):
        safe.to_csv(target, index=False, lineterminator="\n", encoding="utf-8")
        return None
    safe.to_csv(target, index=False, lineterminator="\n")
    return None
