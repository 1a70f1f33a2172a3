"""core/formats.py: one date format, overdue days and whole order quantities (issue 15 item 7), and a guard that no
page, callback, report, export or API module formats a date its own way."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core import formats

ROOT = Path(__file__).resolve().parents[3]


def test_dates_read_the_same_everywhere() -> None:
    day = dt.date(2026, 12, 6)
    for value in (day, dt.datetime(2026, 12, 6, 23, 59), pd.Timestamp("2026-12-06"), "2026-12-06", "2026-12-06T10:00"):
        assert formats.fmt_date(value) == "2026-12-06"
        assert formats.fmt_date_prose(value) == "6 Dec 2026"
    assert formats.fmt_date_prose(dt.date(2027, 1, 31)) == "31 Jan 2027"
    for missing in (None, pd.NaT, "", np.datetime64("NaT")):
        assert formats.fmt_date(missing) == "\u2013" and formats.fmt_date(missing, missing="") == ""
    with pytest.raises(ValueError, match="value"):
        formats.fmt_date("06/12/2026")


def test_datetimes_and_file_stamps() -> None:
    naive = dt.datetime(2026, 12, 6, 5, 59, 48)
    assert formats.fmt_datetime(naive) == "2026-12-06 05:59 UTC"
    aware = dt.datetime(2026, 12, 6, 6, 59, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    assert formats.fmt_datetime(aware) == "2026-12-06 05:59 UTC"
    assert formats.fmt_datetime(None) == "\u2013"
    assert formats.file_stamp(naive) == "20261206-055948" and formats.file_stamp(naive.date()) == "20261206"
    assert formats.PLOTLY_DATE == formats.DATE_FORMAT  # chart hovers read like the tables


def test_overdue_days_and_text() -> None:
    today = dt.date(2026, 12, 6)
    assert formats.overdue_days(dt.date(2026, 11, 30), today) == 6
    assert formats.overdue_days(dt.date(2026, 12, 5), dt.datetime(2026, 12, 6, 0, 1)) == 1
    assert formats.overdue_days(today, today) is None  # due today: not yet overdue
    assert formats.overdue_days(dt.date(2026, 12, 7), today) is None
    assert formats.overdue_days(None, today) is None
    with pytest.raises(ValueError, match="as_of"):
        formats.overdue_days(today, None)
    assert formats.overdue_text(6) == "overdue by 6 days"
    assert formats.overdue_text(1) == "overdue by 1 day"
    assert formats.overdue_text(1200) == "overdue by 1,200 days"
    assert formats.overdue_text(None) == "" and formats.overdue_text(0) == ""


def test_order_quantities_are_whole_where_the_multiple_is() -> None:
    assert formats.order_quantity(348.0, 1.0) == 348 and isinstance(formats.order_quantity(348.0, 1.0), int)
    assert formats.order_quantity(348.0000001, 12) == 348
    assert formats.order_quantity(96.0, None) == 96 and formats.order_quantity(96.0, float("nan")) == 96
    assert formats.order_quantity(12.5, 0.5) == 12.5
    assert formats.order_quantity(12.0, 0.5) == 12.0 and isinstance(formats.order_quantity(12.0, 0.5), float)
    assert formats.order_quantity(10.5, 1.0) == 10.5  # a planner's fractional edit is not hidden
    assert formats.order_quantity(None) is None and formats.order_quantity(float("nan")) is None
    assert formats.fmt_order_qty(5037.0, 1) == "5,037" and formats.fmt_order_qty(12.25, 0.25) == "12.25"
    assert formats.fmt_order_qty(None) == "\u2013"


# -- the guard: no module formats a date its own way -----------------------------------------------------------------

SCANNED = ("layouts", "callbacks", "reports", "api", "services", "ai", "commands", "cli.py", "app.py")
EXCLUDED = ("services/ingest/",)  # reads the planner's files: strptime input formats, not output
STRAY = {
    "a strftime with its own pattern": re.compile(r"\.strftime\(\s*f?[\"']"),
    "a date format spec in an f-string": re.compile(r"\{[^{}\"']*:%[A-Za-z]"),
    "a d3 date pattern in a chart": re.compile(r"%\{[a-z]+\|%"),
    "isoformat with a separator (a display time stamp)": re.compile(r"isoformat\(\s*sep="),
    "a native date input (shows the browser locale, e.g. 12/06/2026)": re.compile(r"type=[\"']date[\"']"),
    "a date picker in another format": re.compile(r"display_format=[\"'](?!YYYY-MM-DD[\"'])"),
    "time.strftime": re.compile(r"time\.strftime\("),
}


def test_no_stray_date_format_outside_core_formats() -> None:
    found = []
    for name in SCANNED:
        base = ROOT / name
        files = [base] if base.is_file() else sorted(base.rglob("*.py"))
        for path in files:
            rel = path.relative_to(ROOT).as_posix()
            if any(rel.startswith(prefix) for prefix in EXCLUDED):
                continue
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
                found += [f"{rel}:{number}: {what}: {line.strip()}" for what, rx in STRAY.items() if rx.search(line)]
    assert not found, "format dates with core.formats (ISO in tables, '6 Dec 2026' in prose):\n" + "\n".join(found)


def test_the_guard_catches_each_kind() -> None:
    samples = [
        'x.strftime("%d %b")',
        'f"{when:%d %b %H:%M}"',
        '"hovertemplate": "%{x|%d %b %Y}"',
        "value.isoformat(sep=' ')",
        'dbc.Input(type="date")',
        'dcc.DatePickerSingle(display_format="DD/MM/YYYY")',
        "time.strftime('%Y')",
    ]
    for sample in samples:
        assert any(rx.search(sample) for rx in STRAY.values()), sample
    fine = [
        "x.strftime(formats.DATE_FORMAT)",
        'X_DATE = "%{x|" + formats.PLOTLY_DATE + "}"',
        'display_format="YYYY-MM-DD"',
        'f"{value:,.0f}"',
    ]
    for sample in fine:
        assert not any(rx.search(sample) for rx in STRAY.values()), sample
