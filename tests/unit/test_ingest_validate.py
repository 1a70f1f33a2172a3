"""Cell validators, header matching, grain detection and spreadsheet-safe CSV (no database)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from services.csv_safety import neutralise, restore, safe_frame, write_csv
from services.ingest import columns as cols
from services.ingest import validate as v
from services.ingest.plan import ImportOptions, detect_grain
from services.ingest.report import ErrorLog, FileRejectedError

QTY = v.Field("quantity", "number")


def reasons(checked: v.Checked) -> list[object]:
    return [None if checked.reasons is None else checked.reasons[i] for i in range(len(checked.values))]


def test_numbers_accept_plain_values_and_report_each_bad_kind() -> None:
    series = pd.Series(["5", " 2.5 ", "1e3", "", "abc", "nan", "inf", "-3", "1e400", "-0", "1,5"])
    checked = v.check_numbers(series, QTY)
    assert checked.values[:3].tolist() == [5.0, 2.5, 1000.0]
    got = reasons(checked)
    assert got[:3] == [None, None, None]
    assert got[3] == v.MISSING
    assert got[4] == v.NOT_A_NUMBER
    assert got[5] == v.NOT_FINITE and got[6] == v.NOT_FINITE
    assert got[7] == v.NEGATIVE
    assert got[8].startswith(v.OUT_OF_RANGE)
    assert got[9] is None and checked.values[9] == 0.0 and not np.signbit(checked.values[9])
    assert got[10] == v.NOT_A_NUMBER  # decimal commas are not guessed


def test_number_range_percent_and_blank_policies() -> None:
    level = next(f for f in cols.SKU_MASTER if f.name == "service_level")
    checked = v.check_numbers(pd.Series(["0.95", "95%", "95", "0", "1", ""]), level)
    assert checked.values[0] == pytest.approx(0.95) and checked.values[1] == pytest.approx(0.95)
    got = reasons(checked)
    assert got[:2] == [None, None]
    assert "less than 1" in got[2] and "greater than 0" in got[3] and "less than 1" in got[4]
    assert got[5] is None and np.isnan(checked.values[5])  # blank = not given
    zero = v.check_numbers(pd.Series(["", "3"]), v.Field("q", "number", blank="zero"))
    assert zero.values.tolist() == [0.0, 3.0] and zero.reasons is None
    huge = v.check_numbers(pd.Series(["2e12"]), QTY)
    assert reasons(huge)[0].startswith(v.OUT_OF_RANGE)


def test_dates_iso_forms_are_accepted_other_orders_need_a_format() -> None:
    labels = pd.Series(
        [
            "2024-01-05",
            "2024-1-5",
            "2024-01-05T13:45:00",
            "2024-03",
            "2024-W02",
            "2023-02-30",
            "2024-W54",
            "05/01/2024",
            "yesterday",
            "",
            "1850-01-01",
        ]
    )
    values, why = v.parse_date_labels(labels)
    day = np.datetime64("2024-01-05")
    assert values[0] == day and values[1] == day and values[2] == day
    assert values[3] == np.datetime64("2024-03-01")
    assert values[4] == np.datetime64("2024-01-08")  # Monday of ISO week 2
    assert why[5] == v.IMPOSSIBLE_DATE
    assert why[6].startswith(v.IMPOSSIBLE_DATE)
    assert "ambiguous" in why[7]
    assert why[8].startswith(v.BAD_DATE)
    assert why[9] == v.MISSING
    assert why[10].startswith(v.OUT_OF_RANGE)
    custom, why = v.parse_date_labels(pd.Series(["05/01/2024", "2024-01-06", "31/02/2024"]), date_format="%d/%m/%Y")
    assert custom[0] == day and custom[1] == np.datetime64("2024-01-06")
    assert why[2].startswith(v.BAD_DATE)


def test_text_is_trimmed_normalised_and_checked() -> None:
    spec = v.Field("sku", "code", max_length=8)
    checked = v.check_text(pd.Series([" A1 ", "e\u0301", "'+SUM(A1)", "bad\x07", "far too long", "", "東京"]), spec)
    assert checked.values[0] == "A1"
    assert checked.values[1] == "\u00e9"  # NFC
    assert checked.values[2] == "+SUM(A1)"  # the apostrophe an export added is removed again
    name = v.check_text(pd.Series(["'=SUM(A1)"]), v.Field("name", "text", max_length=20))
    assert name.values[0] == "=SUM(A1)"
    got = reasons(checked)
    assert "control" in got[3] and got[4].startswith(v.OUT_OF_RANGE) and got[5] == v.MISSING
    assert checked.values[6] == "東京" and got[6] is None
    assert v.display_value("a\x00b") == "a\\x00b"


def test_spreadsheet_formula_cells_are_neutralised_and_restored() -> None:
    for text in ("=1+1", "+41", "-2+3", "@SUM(A1)", "\tx", "\rx"):
        assert neutralise(text) == "'" + text
        assert restore(neutralise(text)) == text
    assert neutralise(-5) == -5 and neutralise("plain") == "plain" and restore("'quoted") == "'quoted"
    frame = pd.DataFrame({"sku": ['=HYPERLINK("x")', "ok"], "qty": [-1.0, 2.0]})
    safe = safe_frame(frame)
    assert safe["sku"].tolist() == ['\'=HYPERLINK("x")', "ok"] and safe["qty"].tolist() == [-1.0, 2.0]
    text = write_csv(frame)
    assert text.splitlines()[1].startswith("\"'=HYPERLINK") and ",-1.0" in text


def test_headers_are_normalised_and_aliases_resolved() -> None:
    assert cols.normalise_header("\ufeff Unit Cost (EUR) ") == "unit_cost_eur"
    resolved = cols.resolve(["Date", "Product Name", "Demand"], cols.DEMAND, kind="demand")
    assert resolved.columns == {"date": 0, "sku": 1, "quantity": 2}
    master = cols.resolve(["sku", "cost_price_eur", "lead_time_weeks", "misc"], cols.SKU_MASTER, kind="skus")
    assert master.columns["unit_cost"] == 1 and master.scales["lead_time_days"] == 7.0
    assert master.ignored == ["misc"]
    with pytest.raises(FileRejectedError, match="no 'quantity'"):
        cols.resolve(["date", "sku"], cols.DEMAND, kind="demand")
    with pytest.raises(FileRejectedError, match="appears twice"):
        cols.resolve(["sku", "SKU "], cols.SKU_MASTER, kind="skus")


def test_grain_detection() -> None:
    days = np.arange(np.datetime64("2024-01-01"), np.datetime64("2024-03-01"))
    assert detect_grain(days) == "daily"
    assert detect_grain(days[::7]) == "weekly"
    months = np.array(["2024-01-01", "2024-02-01", "2024-03-01", "2024-04-01"], dtype="datetime64[D]")
    assert detect_grain(months) == "monthly"
    assert detect_grain(months[:1]) is None
    with pytest.raises(FileRejectedError, match="days apart"):
        detect_grain(months[::3])


def test_options_are_checked() -> None:
    with pytest.raises(ValueError, match="on_error"):
        ImportOptions(on_error="ignore")
    with pytest.raises(ValueError, match="date_format"):
        ImportOptions(date_format="dd/mm/yyyy")


def test_error_log_orders_and_limits() -> None:
    log = ErrorLog()
    log.add(
        lines=np.array([5, 3]),
        column="qty",
        values=np.array(["x", "-1"], dtype=object),
        reasons=np.array([v.NOT_A_NUMBER, v.NEGATIVE], dtype=object),
    )
    log.add_one(line=None, column=None, value="", reason="whole file")
    assert log.count == 3
    first = log.first(2)
    assert first[0].line is None and first[1].line == 3
    assert str(first[1]) == "line 3, column 'qty': negative value ('-1')"


def test_duplicate_keys_fast_and_general_paths_agree() -> None:
    from services.ingest.keys import _duplicates

    sku = np.array([0, 0, 1, 1, 2], dtype=np.int64)
    day = np.array([10, 17, 10, 17, 10], dtype=np.int64)
    ok = np.ones(5, dtype=bool)
    mask, _ = _duplicates([sku, day], ok)
    assert not mask.any()  # sorted: the fast path
    day[3] = 10  # SKU 1 twice on day 10
    mask, first = _duplicates([sku, day], ok)
    assert mask.tolist() == [False, False, True, True, False] and first[3] == 2
    shuffled = np.array([4, 3, 2, 1, 0])
    mask, first = _duplicates([sku[shuffled], day[shuffled]], ok)
    assert mask.tolist() == [False, True, True, False, False] and first[1] == 1
    ok[2] = False
    assert not _duplicates([sku[shuffled], day[shuffled]], ok)[0].any()


def test_sku_resolution_with_locations() -> None:
    from services.ingest.keys import resolve_skus

    existing = pd.DataFrame(
        {"id": [1, 2], "code": ["A", "B@Paris"], "location": ["Berlin", "Paris"], "supplier": ["s", "s"]}
    )
    code = np.array(["A", "A", "B", "C", "C", "D"], dtype=object)
    where = np.array(["Berlin", "Paris", "Paris", "Rome", "Oslo", None], dtype=object)
    ok = np.ones(6, dtype=bool)
    plan, unknown = resolve_skus(existing=existing, code=code, location=where, ok=ok, create=False)
    assert unknown.tolist() == [False, True, False, True, True, True]
    assert [plan.codes[i] for i in plan.index[~unknown]] == ["A", "B@Paris"]
    plan, unknown = resolve_skus(existing=existing, code=code, location=where, ok=ok, create=True)
    assert not unknown.any()
    assert [plan.codes[i] for i in plan.index] == ["A", "A@Paris", "B@Paris", "C@Rome", "C@Oslo", "D"]
    assert plan.new.tolist() == [False, True, False, True, True, True]
