"""The slow pure tier (issue 17 item 5): tests that need no database but take seconds each (whole PDF briefings
drawn and read back, forecast accuracy on the real data sets, the coverage engine's panels, the backtest's batches).
They are kept out of tests/unit so that tier stays under a minute; `make test` runs them, every one is marked
``slow`` (``-m "not slow"`` leaves them out) and the unit tier's guard holds here too: no engine, no connection."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.conftest import _no_database, pytest_runtest_setup  # noqa: F401  (the same guard as tests/unit)

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.slow)
