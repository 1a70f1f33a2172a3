"""What a policy backtest covers, and the errors it answers with.

A scope is the whole portfolio, a segment (a category and / or an ABC class of the latest recompute) or one SKU.
Its key has the briefing's format (``portfolio``, ``portfolio?abc=A&category=Snacks``, ``sku:<code>``) so the
portfolio briefing finds the stored backtest of its own scope.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import parse_qsl

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import RecomputeRun, Sku, SkuSnapshot
from services import scope_text
from services.errors import UserFacingError
from services.scope_text import PORTFOLIO, SKU_PREFIX

ABC_CLASSES: tuple[str, ...] = ("A", "B", "C")
MAX_VALUE_LENGTH = 100


class BacktestError(UserFacingError):
    """A backtest that cannot run, with a one-line reason.

    ``field`` names the parameter at fault (``periods``, ``sku``, ``category``, ``abc``) or is None; ``kind`` is
    ``invalid`` (a bad value), ``not_found`` (the scope holds no SKU) or ``no_data`` (nothing to replay).
    """

    def __init__(self, message: str, *, field: str | None = None, kind: str = "invalid") -> None:
        super().__init__(message)
        self.field = field
        self.kind = kind


def _clean(value: str | None, name: str) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    if not text:
        return None
    if len(text) > MAX_VALUE_LENGTH:
        raise BacktestError(f"{name}: at most {MAX_VALUE_LENGTH} characters", field=name)
    if any(ord(ch) < 32 for ch in text):
        raise BacktestError(f"{name}: control characters are not allowed", field=name)
    return text


@dataclass(frozen=True)
class BacktestScope:
    """The SKUs a backtest replays: all active SKUs, a category and / or ABC class, or one SKU."""

    category: str | None = None
    abc: str | None = None
    sku: str | None = None

    @classmethod
    def make(cls, *, category: str | None = None, abc: str | None = None, sku: str | None = None) -> BacktestScope:
        """A validated scope (blank values mean "not set").

        Raises
        ------
        BacktestError
            A value over 100 characters, an ABC class other than A / B / C, or a SKU combined with a segment.
        """
        category = _clean(category, "category")
        sku = _clean(sku, "sku")
        abc_value = _clean(abc, "abc")
        if abc_value is not None:
            abc_value = abc_value.upper()
            if abc_value not in ABC_CLASSES:
                raise BacktestError(f"abc must be one of {', '.join(ABC_CLASSES)}, got {abc_value[:20]!r}", field="abc")
        if sku is not None and (category or abc_value):
            raise BacktestError("a one-SKU backtest takes no category or ABC class", field="sku")
        return cls(category=category, abc=abc_value, sku=sku)

    @classmethod
    def parse(cls, key: str | None) -> BacktestScope:
        """The scope of a key (the inverse of :attr:`key`; also the Risk page's ``category:X`` / ``abc:A``)."""
        text = (key or PORTFOLIO).strip()
        if text.startswith(SKU_PREFIX):
            return cls.make(sku=text[len(SKU_PREFIX) :])
        if text == PORTFOLIO:
            return cls()
        if text.startswith(PORTFOLIO + "?"):
            values = dict(parse_qsl(text[len(PORTFOLIO) + 1 :]))
            return cls.make(category=values.get("category"), abc=values.get("abc"))
        kind, _, value = text.partition(":")
        if kind in ("category", "abc"):
            return cls.make(**{kind: value})
        raise BacktestError(f"not a backtest scope: {text[:60]!r}")

    @property
    def is_sku(self) -> bool:
        return self.sku is not None

    @property
    def key(self) -> str:
        """``portfolio``, ``portfolio?abc=A&category=Snacks`` or ``sku:<code>`` (stored with the result)."""
        return scope_text.scope_key(sku=self.sku, segment={"abc": self.abc, "category": self.category})

    @property
    def label(self) -> str:
        """``Whole portfolio``, ``Category Snacks · ABC class A`` or ``SKU BEV-00001``."""
        return scope_text.scope_label(sku=self.sku, segment={"abc": self.abc, "category": self.category})

    def as_dict(self) -> dict[str, str | None]:
        return {"key": self.key, "label": self.label, "category": self.category, "abc": self.abc, "sku": self.sku}


def describe(scope: BacktestScope) -> str:
    """The scope in a sentence: ``the whole portfolio``, ``category 'Snacks' and ABC class A``, ``SKU 'X'``."""
    if scope.sku is not None:
        return f"SKU {scope.sku!r}"
    parts = []
    if scope.category is not None:
        parts.append(f"category {scope.category!r}")
    if scope.abc is not None:
        parts.append(f"ABC class {scope.abc} of the latest recompute")
    return " and ".join(parts) if parts else "the whole portfolio"


def _latest_run_id(session: Session) -> int | None:
    return session.scalar(
        select(RecomputeRun.id)
        .where(RecomputeRun.status == "finished", RecomputeRun.sku_count > 0)
        .order_by(RecomputeRun.id.desc())
        .limit(1)
    )


def scope_codes(*, session: Session, scope: BacktestScope) -> list[str] | None:
    """The active SKU codes of ``scope`` in code order (None: every active SKU).

    Raises
    ------
    BacktestError
        ``not_found``: an unknown or inactive SKU, a category or ABC class without active SKUs, an ABC class before
        the first recompute, or no active SKU at all.
    """
    if scope.sku is not None:
        row = session.execute(select(Sku.code, Sku.active).where(Sku.code == scope.sku)).one_or_none()
        if row is None:
            raise BacktestError(f"no SKU {scope.sku!r}", field="sku", kind="not_found")
        if not row.active:
            raise BacktestError(f"SKU {scope.sku!r} is inactive", field="sku", kind="not_found")
        return [row.code]
    query = select(Sku.code).where(Sku.active.is_(True)).order_by(Sku.code)
    if scope.category is not None:
        query = query.where(Sku.category == scope.category)
    if scope.abc is not None:
        run_id = _latest_run_id(session)
        if run_id is None:
            raise BacktestError(
                "ABC classes come from a recompute: run one first (python cli.py recompute)",
                field="abc",
                kind="no_data",
            )
        query = query.join(SkuSnapshot, SkuSnapshot.sku_id == Sku.id).where(
            SkuSnapshot.run_id == run_id, SkuSnapshot.abc == scope.abc
        )
    codes: Sequence[str] = session.scalars(query).all()
    if not codes:
        if scope.category is None and scope.abc is None:
            raise BacktestError("there are no active SKUs yet: import the SKU master and demand first", kind="no_data")
        field = "category" if scope.category is not None else "abc"
        raise BacktestError(f"no active SKU in {describe(scope)}", field=field, kind="not_found")
    return None if scope.category is None and scope.abc is None else list(codes)


__all__ = ["ABC_CLASSES", "BacktestError", "BacktestScope", "describe", "scope_codes"]
