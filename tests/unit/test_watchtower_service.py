"""services.watchtower's pure parts: filters in the URL, KPI tone, sort parsing, CSV safety (the queries on SQLite
and PostgreSQL: tests/integration/test_watchtower_service.py)."""

from __future__ import annotations

import pytest

from services import watchtower as w


def test_filters_round_trip_through_the_url() -> None:
    f = w.GridFilters(status=("surge", "stockout_risk"), category=("Garden & seasonal",), search="cola & co")
    query = f.to_query()
    assert query.startswith("?status=surge&status=stockout_risk&category=Garden+%26+seasonal")
    from urllib.parse import parse_qs

    parsed = {k: v[0] if len(v) == 1 else v for k, v in parse_qs(query[1:]).items()}  # what Dash pages passes
    assert w.GridFilters.from_mapping(parsed) == f
    assert w.GridFilters.from_mapping(f.to_dict()) == f
    assert w.GridFilters().to_query() == "" and w.GridFilters().is_empty
    assert f.toggled("status", "surge").status == ("stockout_risk",)
    assert f.toggled("abc", "A").abc == ("A",)
    with pytest.raises(ValueError, match="name"):
        f.toggled("colour", "red")


def test_from_mapping_cleans_odd_input() -> None:
    f = w.GridFilters.from_mapping({"status": ["surge", "", None, "surge"], "q": ["  x  "], "unknown": "y"})
    assert f.status == ("surge",) and f.search == "x"
    assert w.GridFilters.from_mapping({"search": "a" * 500}).search == "a" * w.MAX_SEARCH
    assert w.GridFilters.from_mapping(None) == w.GridFilters()


def test_kpi_tone() -> None:
    up_good = w.Kpi(key="fill_rate", label="", value=0.95, previous=0.9, kind="fraction", good_when="up")
    down_good = w.Kpi(key="value_at_risk", label="", value=10.0, previous=5.0, kind="money", good_when="down")
    neutral = w.Kpi(key="inventory_value", label="", value=10.0, previous=5.0, kind="money", good_when=None)
    first = w.Kpi(key="surge", label="", value=3.0, previous=None, kind="count", good_when="down")
    assert (up_good.tone, down_good.tone, neutral.tone, first.tone) == ("good", "bad", "neutral", "neutral")
    assert first.delta is None


def test_parse_sort_keeps_known_columns_only() -> None:
    model = [{"colId": "status", "sort": "desc"}, {"colId": "nope", "sort": "asc"}, {"colId": "code", "sort": "up"}]
    assert w.parse_sort(model) == [("status", "desc")]
    assert w.parse_sort([]) == list(w.DEFAULT_SORT) == w.parse_sort(None)


def test_csv_safe() -> None:
    assert [w.csv_safe(v) for v in ("=1+2", "+x", "-x", "@x", "\tx", "ok", -3.0, 2)] == [
        "'=1+2",
        "'+x",
        "'-x",
        "'@x",
        "'\tx",
        "ok",
        -3.0,
        2,
    ]
