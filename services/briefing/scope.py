"""Briefing scopes (the whole portfolio, a segment of category / location / ABC class, one SKU), the scope options of
the latest finished run, and the constants and error of :mod:`services.briefing`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from sqlalchemy.orm import Session

from services import scope_text
from services.errors import UserFacingError
from services.runs import latest_run
from services.scope_text import PORTFOLIO, SKU_PREFIX
from services.watchtower import GridFilters, filter_options

TOP_RISKS = 10
TOP_MOVERS = 8
MAX_PO_LINES = 25
MAX_HISTORY_POINTS = 156
"""History periods drawn on a SKU briefing's chart (the latest ones)."""
CURRENCY_SYMBOL = "$"
ABC_CLASSES = ("A", "B", "C")
MAX_VALUE_LEN = 100
PORTFOLIO_TITLE = "Portfolio briefing"
SKU_TITLE = "SKU briefing"

Progress = Callable[[float, str], None]


class BriefingNotFoundError(UserFacingError):
    """The SKU or the stored briefing asked for does not exist."""


# --------------------------------------------------------------------------------------------------------------------
# scope


def _clean_value(value: Any, name: str) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    if not text:
        return None
    if len(text) > MAX_VALUE_LEN:
        raise UserFacingError(f"{name} is at most {MAX_VALUE_LEN} characters")
    return text


@dataclass(frozen=True)
class BriefingScope:
    """What a briefing covers: the whole portfolio, a segment (category / location / ABC class, combinable) or a SKU."""

    category: str | None = None
    location: str | None = None
    abc: str | None = None
    sku: str | None = None

    @classmethod
    def make(
        cls,
        *,
        category: str | None = None,
        location: str | None = None,
        abc: str | None = None,
        sku: str | None = None,
    ) -> BriefingScope:
        """A validated scope (blank values mean "not set").

        Raises
        ------
        UserFacingError
            A value over 100 characters, an ABC class other than A/B/C, or a SKU combined with a segment filter.
        """
        category = _clean_value(category, "category")
        location = _clean_value(location, "location")
        sku = _clean_value(sku, "sku")
        abc_value = _clean_value(abc, "abc")
        if abc_value is not None:
            abc_value = abc_value.upper()
            if abc_value not in ABC_CLASSES:
                raise UserFacingError(f"abc must be one of {', '.join(ABC_CLASSES)}, got {abc_value[:20]!r}")
        if sku is not None and (category or location or abc_value):
            raise UserFacingError("a SKU briefing takes no category, location or ABC filter")
        return cls(category=category, location=location, abc=abc_value, sku=sku)

    @classmethod
    def parse(cls, key: str) -> BriefingScope:
        """The scope of a stored key (the inverse of :attr:`key`)."""
        if key.startswith(SKU_PREFIX):
            return cls.make(sku=key[len(SKU_PREFIX) :])
        if key == PORTFOLIO:
            return cls()
        if key.startswith(PORTFOLIO + "?"):
            values = dict(parse_qsl(key[len(PORTFOLIO) + 1 :]))
            return cls.make(category=values.get("category"), location=values.get("location"), abc=values.get("abc"))
        raise ValueError(f"key is not a briefing scope: {key!r}")

    @property
    def is_sku(self) -> bool:
        return self.sku is not None

    @property
    def is_segment(self) -> bool:
        return not self.is_sku and any((self.category, self.location, self.abc))

    @property
    def key(self) -> str:
        """``portfolio``, ``portfolio?abc=A&category=Snacks`` or ``sku:<code>`` (stored in ``briefing.scope``)."""
        return scope_text.scope_key(
            sku=self.sku, segment={"abc": self.abc, "category": self.category, "location": self.location}
        )

    @property
    def label(self) -> str:
        """``Whole portfolio``, ``Category Snacks · ABC class A`` or ``SKU BEV-00001``."""
        return scope_text.scope_label(
            sku=self.sku, segment={"abc": self.abc, "category": self.category, "location": self.location}
        )

    def filters(self) -> GridFilters:
        """The Watchtower filters selecting this segment's snapshot rows."""
        return GridFilters.from_mapping({"category": self.category, "location": self.location, "abc": self.abc})


def scope_label(key: str) -> str:
    """Human label of a stored scope key (the key itself when it cannot be read)."""
    try:
        return BriefingScope.parse(key).label
    except (ValueError, UserFacingError):
        return key


@dataclass(frozen=True)
class ScopeOptions:
    """Values a segment can take in the latest run (empty lists before the first recompute)."""

    run_id: int | None
    categories: list[str]
    locations: list[str]
    abc: list[str]


def scope_options(*, session: Session) -> ScopeOptions:
    """Categories, locations and ABC classes of the SKUs in the latest finished run."""
    run = latest_run(session=session)
    if run is None:
        return ScopeOptions(run_id=None, categories=[], locations=[], abc=[])
    options = filter_options(session=session, run_id=run.id)
    return ScopeOptions(
        run_id=run.id, categories=options["category"], locations=options["location"], abc=options["abc"]
    )
