"""Fixtures for the briefing tests."""

from __future__ import annotations

import pytest

from reports.fonts import find_cjk_font


@pytest.fixture
def needs_cjk_font() -> None:
    if find_cjk_font() is None:
        pytest.skip("no CJK font installed (apt-get install -y fonts-wqy-microhei): CJK text not checked")
