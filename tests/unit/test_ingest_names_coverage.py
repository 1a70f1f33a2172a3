"""Pure pieces of issue 15's import side: name keys and matching, grid buckets, incomplete periods, error groups and
the master-data completeness bits."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from services import master_data
from services.ingest import coverage as cov
from services.ingest import names
from services.ingest.report import ErrorLog, FileRejectedError, group_line

EXISTING = pd.DataFrame(
    {
        "code": ["GS-1", "GS-2", "GS-3", "GS-4"],
        "name": ["Lemonade 1.5 l", "Lemonade 1.5 L", "Crème brûlée", "Bin bags 6-pack"],
        "location": ["Berlin", "Munich", "Berlin", "Berlin"],
    }
)


def test_name_key_ignores_case_and_runs_of_spaces() -> None:
    assert names.name_key("  LEMONADE \t 1.5   l ") == "lemonade 1.5 l"
    assert names.name_key("Crème Brûlée") == names.name_key("crème brûlée")
    assert names.holds_names("Product Name") and names.holds_names("name") and not names.holds_names("sku")


def test_match_names_codes_names_ambiguity_and_locations() -> None:
    values = np.array(["GS-3", "crème  BRÛLÉE", "lemonade 1.5 l", "lemonade 1.5 l", "New thing", "new  THING"], object)
    location = np.array([None, None, None, "Munich", None, None], dtype=object)
    match = names.match_names(values=values, ok=np.ones(6, bool), existing=EXISTING, location=location, create=True)
    assert match.codes.tolist()[:4] == ["GS-3", "GS-3", None, "GS-2"]  # an ambiguous row has no SKU
    assert match.ambiguous.tolist() == [False, False, True, False, False, False]
    assert match.reasons[2].startswith("ambiguous product name: matches 2 SKUs (GS-1 'Lemonade 1.5 l' at Berlin")
    assert match.codes[4] == match.codes[5] == "New thing"  # one new SKU for both spellings
    assert match.new_names == {"New thing": "New thing"} and match.by_name == 2


def test_new_codes_are_valid_and_unique() -> None:
    long_name = "A very long product name " * 4
    match = names.match_names(
        values=np.array([long_name, "Bin bags 6 pack"], object), ok=np.ones(2, bool), existing=EXISTING, create=True
    )
    codes = list(match.new_names)
    assert codes[0] == "A-VERY-LONG-PRODUCT-NAME-A-VERY-LONG-PRODUCT-NAME-A-VERY-LON" and len(codes[0]) <= 64
    assert codes[1] == "Bin bags 6 pack"
    assert [str(d) for d in match.near_duplicates] == ["'Bin bags 6 pack' is close to GS-4 'Bin bags 6-pack'"]


def test_weekly_and_monthly_buckets_follow_the_stored_grid() -> None:
    days = np.array(["2026-11-30", "2026-12-02", "2026-12-06", "2026-12-07"], dtype="datetime64[D]")
    label, start, end = cov.bucket_bounds(days, grain="weekly", reference=np.datetime64("2026-11-23"))
    assert label.astype(str).tolist() == ["2026-11-30", "2026-11-30", "2026-11-30", "2026-12-07"]
    assert (end - start).astype(int).tolist() == [7, 7, 7, 7]
    sunday_grid = cov.bucket_bounds(days, grain="weekly", reference=np.datetime64("2026-11-22"))[0]
    assert sunday_grid.astype(str).tolist() == ["2026-11-29", "2026-11-29", "2026-12-06", "2026-12-06"]
    month = cov.bucket_bounds(np.array(["2024-02-20"], "datetime64[D]"), grain="monthly", reference=None)
    assert [m.astype(str).tolist() for m in month] == [["2024-02-01"], ["2024-02-01"], ["2024-03-01"]]
    grid = cov.grid_between(np.datetime64("2026-11-09"), np.datetime64("2026-11-30"), grain="weekly", reference=None)
    assert grid.astype(str).tolist() == ["2026-11-09", "2026-11-16", "2026-11-23", "2026-11-30"]


def test_grain_rules() -> None:
    assert cov.effective_grain("daily", "weekly") == ("weekly", True)
    assert cov.effective_grain("weekly", "weekly") == ("weekly", False)
    assert cov.effective_grain("weekly", None) == ("weekly", False)
    with pytest.raises(FileRejectedError, match="monthly demand but the database holds weekly"):
        cov.effective_grain("monthly", "weekly")


def test_a_week_in_progress_is_incomplete() -> None:
    raw = np.array(["2026-11-30"], dtype="datetime64[D]")
    (period,) = cov._incomplete(
        raw, grain="weekly", file_grain=None, summed=False, reference=None, today=np.datetime64("2026-12-02")
    )
    assert str(period) == "2026-11-30: this week runs to 2026-12-06: it is not over yet (today is 2026-12-02)"


def test_errors_are_grouped_with_counts_first_lines_and_examples() -> None:
    log = ErrorLog()
    log.add(
        lines=np.arange(2, 314), column="sku", values=np.array([f"X{i % 3}" for i in range(312)]), reasons="unknown SKU"
    )
    log.add(
        lines=np.array([400, 401]),
        column="date",
        values=np.array(["a", "b"]),
        reasons=np.array(
            [
                "duplicate key within the file: repeated on a later line",
                "duplicate key within the file: first on line 400",
            ]
        ),
    )
    log.add_one(line=None, column=None, value="", reason="the file is odd")
    groups = log.grouped()
    assert [(g["column"], g["reason"], g["count"]) for g in groups] == [
        (None, "the file is odd", 1),
        ("sku", "unknown SKU", 312),
        ("date", "duplicate key within the file", 2),
    ]
    assert (
        group_line(groups[1]) == "column 'sku': unknown SKU - 312 rows, lines 2, 3, 4, 5, 6, ...; e.g. 'X0', 'X1', 'X2'"
    )
    assert len(log.frame()) == 315


def test_master_data_flags() -> None:
    assert master_data.updated(current=None, provided={}, is_new=True, unit_cost=None) == master_data.ALL_DEFAULTED
    assert master_data.updated(
        current="unit_cost,supplier", provided={"supplier": "Acme"}, is_new=False, unit_cost=0
    ) == ("unit_cost")
    assert master_data.updated(current="unit_cost", provided={"unit_cost": 2.0}, is_new=False, unit_cost=2.0) is None
    assert master_data.updated(current=None, provided={"category": "Uncategorised"}, is_new=True, unit_cost=1.0) == (
        "category,lead_time_days,supplier"
    )
    frame = pd.DataFrame({"code": ["A", "B", "C"], "unit_cost": [np.nan, 3.0, 0.0], "supplier": [None, "Acme", "x"]})
    existing = pd.DataFrame({"code": ["A"], "unit_cost": [2.0], "defaulted_fields": ["category,supplier"]})
    assert master_data.updated_frame(frame=frame, existing=existing).tolist() == [
        "category,supplier",
        "category,lead_time_days",
        "unit_cost,category,lead_time_days",
    ]
    assert master_data.describe(["supplier", "unit_cost"]) == "unit cost, supplier"


def test_the_files_own_last_month_in_progress_is_incomplete() -> None:
    raw = np.array(["2026-11-01", "2026-12-01"], dtype="datetime64[D]")
    (period,) = cov._incomplete(
        raw, grain="monthly", file_grain="monthly", summed=False, reference=None, today=np.datetime64("2026-12-06")
    )
    assert str(period) == "2026-12-01: this month runs to 2026-12-31: it is not over yet (today is 2026-12-06)"
    assert cov._period_end(np.datetime64("2026-01-31"), "monthly") == np.datetime64("2026-02-28")
