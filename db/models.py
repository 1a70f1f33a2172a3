"""Typed SQLAlchemy 2.x models: the data model of docs/architecture.md (migrations own the schema)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

STATUSES = ("stockout_risk", "surge", "low_velocity", "dead_stock", "overstock", "normal")
ROLES = ("viewer", "planner", "admin")
PO_STATUSES = ("recommended", "approved", "received", "cancelled", "rejected")

Id = BigInteger().with_variant(Integer(), "sqlite")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


class Sku(Base):
    __tablename__ = "sku"
    __table_args__ = (
        CheckConstraint("unit_cost >= 0", name="unit_cost_nonneg"),
        CheckConstraint("unit_price >= 0", name="unit_price_nonneg"),
        CheckConstraint("salvage_value >= 0", name="salvage_nonneg"),
        CheckConstraint("holding_cost_rate >= 0", name="holding_rate_nonneg"),
        CheckConstraint("order_cost >= 0", name="order_cost_nonneg"),
        CheckConstraint("lead_time_mean >= 0", name="lead_time_nonneg"),
        CheckConstraint("lead_time_std >= 0", name="lead_time_std_nonneg"),
        CheckConstraint("moq >= 0", name="moq_nonneg"),
        CheckConstraint("order_multiple > 0", name="order_multiple_pos"),
        CheckConstraint("service_level_target > 0 AND service_level_target < 1", name="service_level_open"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(255), nullable=False, default="")
    category: Mapped[str] = mapped_column(String(100), nullable=False, default="Uncategorised", index=True)
    location: Mapped[str] = mapped_column(String(100), nullable=False, default="Main", index=True)
    unit_cost: Mapped[float] = mapped_column(Float, nullable=False, default=0.0)
    unit_price: Mapped[float] = mapped_column(Float, nullable=False, default=0.0)
    salvage_value: Mapped[float] = mapped_column(Float, nullable=False, default=0.0)
    holding_cost_rate: Mapped[float] = mapped_column(Float, nullable=False, default=0.25)
    order_cost: Mapped[float] = mapped_column(Float, nullable=False, default=50.0)
    lead_time_mean: Mapped[float] = mapped_column(Float, nullable=False, default=14.0)
    lead_time_std: Mapped[float] = mapped_column(Float, nullable=False, default=0.0)
    moq: Mapped[float] = mapped_column(Float, nullable=False, default=0.0)
    order_multiple: Mapped[float] = mapped_column(Float, nullable=False, default=1.0)
    service_level_target: Mapped[float] = mapped_column(Float, nullable=False, default=0.95)
    supplier: Mapped[str] = mapped_column(String(100), nullable=False, default="Unassigned", index=True)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    one_shot: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False, server_default=false())
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=utcnow, onupdate=utcnow)
    # master-data fields still at their defaults (comma-separated import names; NULL = complete; migration 0006)
    defaulted_fields: Mapped[str | None] = mapped_column(String(200), nullable=True)
    # supply side (migration 0010): the production line / supplier capacity the SKU loads (None: unconstrained) and
    # the capacity one unit uses
    resource: Mapped[str | None] = mapped_column(String(100), nullable=True, index=True)
    capacity_per_unit: Mapped[float] = mapped_column(Float, nullable=False, server_default="1")
    # multi-location (migration 0013): the product shared across locations; NULL reads as the SKU's own code
    item: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    # the planner's minimum stock (migration 0017, issue 24): a floor on the reorder point and order-up-to level
    # (core.min_stock); NULL or 0: none
    min_stock: Mapped[float | None] = mapped_column(Float, nullable=True)


class Demand(Base):
    """Demand of one SKU in one period, keyed by (sku_id, period): one index to maintain and to rebuild on bulk load."""

    __tablename__ = "demand"
    __table_args__ = (CheckConstraint("quantity >= 0", name="quantity_nonneg"),)

    sku_id: Mapped[int] = mapped_column(ForeignKey("sku.id", ondelete="CASCADE"), primary_key=True)
    period: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    quantity: Mapped[float] = mapped_column(Float, nullable=False)


class DemandPartial(Base):
    """A demand row that covers its period only in part (daily rows through Wednesday summed into a week; a period
    not over yet), as the import marked it: the engine does not fit it as a low period (issue 15 item 1). A later
    import that writes the row again for the whole period removes the mark."""

    __tablename__ = "demand_partial"

    sku_id: Mapped[int] = mapped_column(ForeignKey("sku.id", ondelete="CASCADE"), primary_key=True)
    period: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    covered_to: Mapped[dt.date | None] = mapped_column(Date)


class StockPosition(Base):
    __tablename__ = "stock_position"
    __table_args__ = (
        UniqueConstraint("sku_id", "as_of", name="uq_stock_sku_asof"),
        CheckConstraint("on_hand >= 0", name="on_hand_nonneg"),
        CheckConstraint("on_order >= 0", name="on_order_nonneg"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    sku_id: Mapped[int] = mapped_column(ForeignKey("sku.id", ondelete="CASCADE"), nullable=False, index=True)
    as_of: Mapped[dt.date] = mapped_column(Date, nullable=False)
    on_hand: Mapped[float] = mapped_column(Float, nullable=False, default=0.0)
    on_order: Mapped[float] = mapped_column(Float, nullable=False, default=0.0)


class PurchaseOrder(Base):
    __tablename__ = "purchase_order"
    __table_args__ = (
        CheckConstraint("qty >= 0", name="qty_nonneg"),
        CheckConstraint("status IN ('recommended','approved','received','cancelled','rejected')", name="status_valid"),
        Index("ix_purchase_order_status", "status"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    sku_id: Mapped[int] = mapped_column(ForeignKey("sku.id", ondelete="CASCADE"), nullable=False, index=True)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("recompute_run.id", ondelete="SET NULL"), nullable=True)
    supplier: Mapped[str] = mapped_column(String(100), nullable=False, default="Unassigned")
    qty: Mapped[float] = mapped_column(Float, nullable=False)
    recommended_qty: Mapped[float | None] = mapped_column(Float, nullable=True)
    unit_cost: Mapped[float] = mapped_column(Float, nullable=False, default=0.0)
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="recommended")
    reason: Mapped[str] = mapped_column(Text, nullable=False, default="")
    edit_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    order_by: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    approved_by: Mapped[str | None] = mapped_column(String(255), nullable=True)
    approved_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    order_date: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    promised_date: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    received_by: Mapped[str | None] = mapped_column(String(255), nullable=True)
    received_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    received_date: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    received_qty: Mapped[float | None] = mapped_column(Float, nullable=True)
    cancelled_by: Mapped[str | None] = mapped_column(String(255), nullable=True)
    cancelled_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    status_reason: Mapped[str | None] = mapped_column(Text, nullable=True)

    sku: Mapped[Sku] = relationship(lazy="joined")


class Receipt(Base):
    """A received purchase (imported or from a received order): teaches real lead times."""

    __tablename__ = "receipt"
    __table_args__ = (
        UniqueConstraint("sku_id", "order_date", "received_date", name="uq_receipt_key"),
        CheckConstraint("quantity >= 0", name="quantity_nonneg"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    sku_id: Mapped[int] = mapped_column(ForeignKey("sku.id", ondelete="CASCADE"), nullable=False, index=True)
    supplier: Mapped[str] = mapped_column(String(100), nullable=False, default="Unassigned")
    order_date: Mapped[dt.date] = mapped_column(Date, nullable=False)
    promised_date: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    received_date: Mapped[dt.date] = mapped_column(Date, nullable=False)
    quantity: Mapped[float] = mapped_column(Float, nullable=False)


class RecomputeRun(Base):
    __tablename__ = "recompute_run"
    __table_args__ = (CheckConstraint("status IN ('running','finished','failed','cancelled')", name="status_valid"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="running")
    started_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    grain: Mapped[str | None] = mapped_column(String(10), nullable=True)
    data_as_of: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    sku_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    triggered_by: Mapped[str | None] = mapped_column(String(255), nullable=True)
    kpis: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    timings: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)


class SkuSnapshot(Base):
    __tablename__ = "sku_snapshot"
    __table_args__ = (UniqueConstraint("run_id", "sku_id", name="uq_snapshot_run_sku"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("recompute_run.id", ondelete="CASCADE"), nullable=False)
    sku_id: Mapped[int] = mapped_column(ForeignKey("sku.id", ondelete="CASCADE"), nullable=False, index=True)
    status: Mapped[str] = mapped_column(String(20), nullable=False)
    status_reason: Mapped[str] = mapped_column(Text, nullable=False, default="")
    demand_class: Mapped[str | None] = mapped_column(String(20))
    adi: Mapped[float | None] = mapped_column(Float)
    cv2: Mapped[float | None] = mapped_column(Float)
    abc: Mapped[str | None] = mapped_column(String(1))
    xyz: Mapped[str | None] = mapped_column(String(1))
    forecast_model: Mapped[str | None] = mapped_column(String(40))
    mase: Mapped[float | None] = mapped_column(Float)
    wape: Mapped[float | None] = mapped_column(Float)
    bias: Mapped[float | None] = mapped_column(Float)
    model_scores: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    demand_recent: Mapped[float | None] = mapped_column(Float)
    demand_baseline: Mapped[float | None] = mapped_column(Float)
    forecast_per_period: Mapped[float | None] = mapped_column(Float)
    sigma: Mapped[float | None] = mapped_column(Float)
    lead_time_periods: Mapped[float | None] = mapped_column(Float)
    lead_time_std_periods: Mapped[float | None] = mapped_column(Float)
    lead_time_source: Mapped[str | None] = mapped_column(String(20))
    service_level: Mapped[float | None] = mapped_column(Float)
    safety_stock: Mapped[float | None] = mapped_column(Float)
    reorder_point: Mapped[float | None] = mapped_column(Float)
    order_up_to: Mapped[float | None] = mapped_column(Float)
    eoq: Mapped[float | None] = mapped_column(Float)
    newsvendor_qty: Mapped[float | None] = mapped_column(Float)
    rop_method: Mapped[str | None] = mapped_column(String(20))
    rop_method_reason: Mapped[str | None] = mapped_column(Text)
    on_hand: Mapped[float | None] = mapped_column(Float)
    on_order: Mapped[float | None] = mapped_column(Float)
    inventory_position: Mapped[float | None] = mapped_column(Float)
    recommended_qty: Mapped[float | None] = mapped_column(Float)
    order_by_periods: Mapped[float | None] = mapped_column(Float)
    days_of_cover: Mapped[float | None] = mapped_column(Float)
    annual_demand: Mapped[float | None] = mapped_column(Float)
    inventory_value: Mapped[float | None] = mapped_column(Float)
    value_at_risk: Mapped[float | None] = mapped_column(Float)
    excess_value: Mapped[float | None] = mapped_column(Float)
    surge_z: Mapped[float | None] = mapped_column(Float)
    periods_since_last_sale: Mapped[int | None] = mapped_column(Integer)
    last_reported: Mapped[dt.date | None] = mapped_column(Date)
    """The SKU's last reported demand period when the run was computed (issue 15; behind data through: "last
    reported <date>")."""
    # the policy that sized the order (core.portfolio.ORDER_POLICIES) and a one-shot SKU's newsvendor critical ratio;
    # NULL in rows of runs made before migration 0005
    order_policy: Mapped[str | None] = mapped_column(String(20))
    critical_ratio: Mapped[float | None] = mapped_column(Float)


class Forecast(Base):
    __tablename__ = "forecast"
    __table_args__ = (UniqueConstraint("run_id", "sku_id", "period", name="uq_forecast_run_sku_period"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("recompute_run.id", ondelete="CASCADE"), nullable=False)
    sku_id: Mapped[int] = mapped_column(ForeignKey("sku.id", ondelete="CASCADE"), nullable=False, index=True)
    period: Mapped[dt.date] = mapped_column(Date, nullable=False)
    kind: Mapped[str] = mapped_column(String(10), nullable=False, default="future")  # future | backtest
    mean: Mapped[float] = mapped_column(Float, nullable=False)
    p10: Mapped[float | None] = mapped_column(Float)
    p50: Mapped[float | None] = mapped_column(Float)
    p90: Mapped[float | None] = mapped_column(Float)
    uplift: Mapped[float | None] = mapped_column(Float)  # units added by planned promotions (migration 0016)


class ForecastOverride(Base):
    __tablename__ = "forecast_override"
    __table_args__ = (CheckConstraint("qty >= 0", name="qty_nonneg"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    sku_id: Mapped[int] = mapped_column(ForeignKey("sku.id", ondelete="CASCADE"), nullable=False, index=True)
    period: Mapped[dt.date] = mapped_column(Date, nullable=False)
    qty: Mapped[float] = mapped_column(Float, nullable=False)
    statistical_qty: Mapped[float | None] = mapped_column(Float)
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    user_email: Mapped[str] = mapped_column(String(255), nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=utcnow)


class Narrative(Base):
    __tablename__ = "narrative"
    __table_args__ = (Index("ix_narrative_scope_hash", "scope", "facts_hash"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    scope: Mapped[str] = mapped_column(String(80), nullable=False)  # "portfolio" or "sku:<code>"
    facts_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    prompt_version: Mapped[str] = mapped_column(String(20), nullable=False)
    provider: Mapped[str] = mapped_column(String(40), nullable=False)
    model: Mapped[str] = mapped_column(String(80), nullable=False)
    text: Mapped[str] = mapped_column(Text, nullable=False)
    grounded: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    fell_back: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=utcnow)


class ImportBatch(Base):
    __tablename__ = "import_batch"
    __table_args__ = (CheckConstraint("rows_accepted >= 0 AND rows_rejected >= 0", name="rows_nonneg"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    file_name: Mapped[str] = mapped_column(String(255), nullable=False)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="committed")
    grain: Mapped[str | None] = mapped_column(String(10))
    rows_accepted: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    rows_rejected: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    rows_inserted: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    rows_updated: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    rows_unchanged: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    errors: Mapped[list[Any] | None] = mapped_column(JSON)
    user_email: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    full_extract: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False, server_default=false())


class Briefing(Base):
    """A generated PDF briefing, kept so it can be downloaded again."""

    __tablename__ = "briefing"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    scope: Mapped[str] = mapped_column(String(200), nullable=False)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("recompute_run.id", ondelete="SET NULL"))
    user_email: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    file_name: Mapped[str] = mapped_column(String(255), nullable=False)
    size_bytes: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    pdf: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)


class Scenario(Base):
    """A named what-if of the Profit optimizer (inputs and results)."""

    __tablename__ = "scenario"
    __table_args__ = (UniqueConstraint("name", name="uq_scenario_name"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(120), nullable=False)
    sku_code: Mapped[str | None] = mapped_column(String(64))
    inputs: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    results: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    user_email: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=utcnow)


class User(Base):
    __tablename__ = "user_account"
    __table_args__ = (CheckConstraint("role IN ('viewer','planner','admin')", name="role_valid"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    email: Mapped[str] = mapped_column(String(255), unique=True, nullable=False)
    password_hash: Mapped[str] = mapped_column(String(255), nullable=False)
    role: Mapped[str] = mapped_column(String(20), nullable=False, default="viewer")
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(DateTime)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class ApiToken(Base):
    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), nullable=False, index=True)
    name: Mapped[str] = mapped_column(String(100), nullable=False, default="token")
    token_hash: Mapped[str] = mapped_column(String(128), unique=True, nullable=False)
    prefix: Mapped[str] = mapped_column(String(12), nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime)

    user: Mapped[User] = relationship(lazy="joined")


class LoginAttempt(Base):
    """Failed logins per address, for throttling (per-account counters live on the user)."""

    __tablename__ = "login_attempt"
    __table_args__ = (
        Index("ix_login_attempt_addr_time", "address", "created_at"),
        Index("ix_login_attempt_email_time", "email", "created_at"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    address: Mapped[str] = mapped_column(String(64), nullable=False)
    email: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=utcnow)


class UserSession(Base):
    """A signed-in browser session: the cookie carries a random id, only its SHA-256 is stored here.

    Every request looks its row up; deleting the row ends the session at once (logout, password change, role change,
    deactivation).
    """

    __tablename__ = "user_session"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), nullable=False, index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    address: Mapped[str | None] = mapped_column(String(64))


class AuditLog(Base):
    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_created", "created_at"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    user_email: Mapped[str | None] = mapped_column(String(255))
    action: Mapped[str] = mapped_column(String(60), nullable=False, index=True)
    target: Mapped[str | None] = mapped_column(String(255))
    outcome: Mapped[str] = mapped_column(String(20), nullable=False, default="ok")  # ok | denied | error
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    address: Mapped[str | None] = mapped_column(String(64))


Index("ix_sku_snapshot_run_status", SkuSnapshot.run_id, SkuSnapshot.status)
Index("ix_override_sku_period", ForecastOverride.sku_id, ForecastOverride.period)


class PolicyBacktest(Base):
    """A stored policy replay (issue 24): the backtest document of one scope, read by the Risk page and the briefing
    so they do not replay for seconds (services/backtest.py)."""

    __tablename__ = "policy_backtest"
    __table_args__ = (Index("ix_policy_backtest_scope_created", "scope_key", "created_at"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    triggered_by: Mapped[str | None] = mapped_column(String(255))
    scope_key: Mapped[str] = mapped_column(String(200), nullable=False)
    periods: Mapped[int] = mapped_column(Integer, nullable=False)
    grain: Mapped[str | None] = mapped_column(String(10))
    data_as_of: Mapped[dt.date | None] = mapped_column(Date)
    sku_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    excluded_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    fill_rate: Mapped[float | None] = mapped_column(Float)
    target_service_level: Mapped[float | None] = mapped_column(Float)
    average_inventory_value: Mapped[float | None] = mapped_column(Float)
    seconds: Mapped[float | None] = mapped_column(Float)
    document: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)


# --- supply side (issue 18, migration 0010) ------------------------------------------------------------------------

RESOURCE_GRAINS = ("weekly", "monthly")


class Resource(Base):
    """A production line or a supplier's capacity; SKUs load it through ``sku.resource`` (its name)."""

    __tablename__ = "resource"
    __table_args__ = (CheckConstraint("grain IN ('weekly','monthly')", name="grain_valid"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100), unique=True, nullable=False)
    grain: Mapped[str] = mapped_column(String(10), nullable=False, default="monthly")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=utcnow)


class ResourceCapacity(Base):
    """Capacity of one resource in one period (a month or a week starting on ``period``), in capacity units."""

    __tablename__ = "resource_capacity"
    __table_args__ = (
        UniqueConstraint("resource_id", "period", name="uq_resource_capacity_key"),
        CheckConstraint("capacity >= 0", name="capacity_nonneg"),
        CheckConstraint("overtime_capacity >= 0", name="overtime_capacity_nonneg"),
        CheckConstraint("overtime_cost >= 0", name="overtime_cost_nonneg"),
        CheckConstraint("regular_cost >= 0", name="regular_cost_nonneg"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    resource_id: Mapped[int] = mapped_column(ForeignKey("resource.id", ondelete="CASCADE"), nullable=False, index=True)
    period: Mapped[dt.date] = mapped_column(Date, nullable=False)
    capacity: Mapped[float] = mapped_column(Float, nullable=False)
    overtime_capacity: Mapped[float] = mapped_column(Float, nullable=False, default=0.0)
    overtime_cost: Mapped[float] = mapped_column(Float, nullable=False, default=0.0)
    regular_cost: Mapped[float] = mapped_column(Float, nullable=False, default=0.0)

    resource: Mapped[Resource] = relationship(lazy="joined")


class SupplyScenario(Base):
    """A named supply plan (its knobs, totals, per-resource rows and unmet-demand rows) for side-by-side comparison."""

    __tablename__ = "supply_scenario"
    __table_args__ = (UniqueConstraint("name", name="uq_supply_scenario_name"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(120), nullable=False)
    strategy: Mapped[str] = mapped_column(String(20), nullable=False)
    horizon: Mapped[int] = mapped_column(Integer, nullable=False)
    overtime_pct: Mapped[float | None] = mapped_column(Float)
    grain: Mapped[str] = mapped_column(String(10), nullable=False)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("recompute_run.id", ondelete="SET NULL"))
    totals: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    plan: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    user_email: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=utcnow)


# --- multi-location (issue 21, migration 0013) ---------------------------------------------------------------------

TRANSFER_STATUSES = ("proposed", "approved", "received", "rejected")


class Lane(Base):
    """A route between two locations: stock of an item can move over it in ``lead_time_days`` at ``cost_per_unit``,
    in multiples of ``min_qty``."""

    __tablename__ = "lane"
    __table_args__ = (
        UniqueConstraint("from_location", "to_location", name="uq_lane_route"),
        CheckConstraint("lead_time_days >= 0", name="lead_time_nonneg"),
        CheckConstraint("cost_per_unit >= 0", name="cost_nonneg"),
        CheckConstraint("min_qty >= 1", name="min_qty_pos"),
        CheckConstraint("from_location <> to_location", name="two_places"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    from_location: Mapped[str] = mapped_column(String(100), nullable=False)
    to_location: Mapped[str] = mapped_column(String(100), nullable=False)
    lead_time_days: Mapped[float] = mapped_column(Float, nullable=False)
    cost_per_unit: Mapped[float] = mapped_column(Float, nullable=False)
    min_qty: Mapped[float] = mapped_column(Float, nullable=False, default=1.0)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=utcnow)


class Transfer(Base):
    """A move of one item from a giving SKU (location) to a receiving one: proposed by the recompute
    (services/transfers.py), then approved / received or rejected by a planner."""

    __tablename__ = "transfer"
    __table_args__ = (
        CheckConstraint("qty >= 0", name="qty_nonneg"),
        CheckConstraint("status IN ('proposed','approved','received','rejected')", name="status_valid"),
        Index("ix_transfer_status", "status"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("recompute_run.id", ondelete="SET NULL"), nullable=True)
    item: Mapped[str] = mapped_column(String(64), nullable=False)
    from_sku_id: Mapped[int] = mapped_column(ForeignKey("sku.id", ondelete="CASCADE"), nullable=False, index=True)
    to_sku_id: Mapped[int] = mapped_column(ForeignKey("sku.id", ondelete="CASCADE"), nullable=False, index=True)
    from_location: Mapped[str] = mapped_column(String(100), nullable=False)
    to_location: Mapped[str] = mapped_column(String(100), nullable=False)
    qty: Mapped[float] = mapped_column(Float, nullable=False)
    proposed_qty: Mapped[float | None] = mapped_column(Float, nullable=True)
    cost_per_unit: Mapped[float] = mapped_column(Float, nullable=False)
    lead_time_days: Mapped[float] = mapped_column(Float, nullable=False)
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="proposed")
    reason: Mapped[str] = mapped_column(Text, nullable=False, default="")
    edit_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    status_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    approved_by: Mapped[str | None] = mapped_column(String(255), nullable=True)
    approved_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    expected_date: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    received_by: Mapped[str | None] = mapped_column(String(255), nullable=True)
    received_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    received_date: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    received_qty: Mapped[float | None] = mapped_column(Float, nullable=True)
    rejected_by: Mapped[str | None] = mapped_column(String(255), nullable=True)
    rejected_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)

    from_sku: Mapped[Sku] = relationship(foreign_keys=[from_sku_id], lazy="joined")
    to_sku: Mapped[Sku] = relationship(foreign_keys=[to_sku_id], lazy="joined")


# --- e-mailed briefings and S&OP cycles (issue 19, migration 0014) ---------------------------------------------------

SEND_STATUSES = ("sent", "failed")


class BriefingSchedule(Base):
    """A weekly e-mailed briefing: on ``weekday`` (0 = Monday) at ``hour``:``minute`` UTC, the briefing of ``scope``
    (a :class:`services.briefing.BriefingScope` key) to ``recipients`` (comma-separated addresses).

    ``last_slot``: the weekly slot last handled (sent, or given up on); ``failures`` and ``retry_at``: a failed slot
    is tried again at ``retry_at`` until it has failed ``services.schedules.MAX_SLOT_FAILURES`` times."""

    __tablename__ = "briefing_schedule"
    __table_args__ = (
        CheckConstraint("weekday >= 0 AND weekday <= 6", name="weekday_valid"),
        CheckConstraint("hour >= 0 AND hour <= 23", name="hour_valid"),
        CheckConstraint("minute >= 0 AND minute <= 59", name="minute_valid"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    weekday: Mapped[int] = mapped_column(Integer, nullable=False)
    hour: Mapped[int] = mapped_column(Integer, nullable=False)
    minute: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    scope: Mapped[str] = mapped_column(String(200), nullable=False)
    recipients: Mapped[str] = mapped_column(Text, nullable=False)
    enabled: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    created_by: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    last_slot: Mapped[dt.datetime | None] = mapped_column(DateTime)
    failures: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    retry_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    last_status: Mapped[str | None] = mapped_column(String(20))
    last_sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    last_error: Mapped[str | None] = mapped_column(Text)


class BriefingSend(Base):
    """One e-mailing of a briefing (from a schedule, or ``python cli.py send-briefing``): sent or failed, and why."""

    __tablename__ = "briefing_send"
    __table_args__ = (
        CheckConstraint("status IN ('sent','failed')", name="status_valid"),
        Index("ix_briefing_send_created", "created_at"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    schedule_id: Mapped[int | None] = mapped_column(ForeignKey("briefing_schedule.id", ondelete="SET NULL"))
    scope: Mapped[str] = mapped_column(String(200), nullable=False)
    recipients: Mapped[str] = mapped_column(Text, nullable=False)
    status: Mapped[str] = mapped_column(String(20), nullable=False)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    error: Mapped[str | None] = mapped_column(Text)
    file_name: Mapped[str | None] = mapped_column(String(255))
    source: Mapped[str] = mapped_column(String(20), nullable=False, default="cli")


class SopCycle(Base):
    """A closed S&OP cycle: the consensus demand, supply response, projected inventory and money view of one moment,
    frozen (services/cycles.py). ``totals``: the cycle's headline figures."""

    __tablename__ = "sop_cycle"
    __table_args__ = (UniqueConstraint("name", name="uq_sop_cycle_name"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(120), nullable=False)
    closed_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    closed_by: Mapped[str | None] = mapped_column(String(255))
    run_id: Mapped[int | None] = mapped_column(ForeignKey("recompute_run.id", ondelete="SET NULL"))
    data_as_of: Mapped[dt.date | None] = mapped_column(Date)
    grain: Mapped[str | None] = mapped_column(String(10))
    supply_source: Mapped[str] = mapped_column(String(40), nullable=False)
    totals: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)


class SopCycleSku(Base):
    """One SKU of a closed cycle: its master data then, and its totals over the cycle's horizon."""

    __tablename__ = "sop_cycle_sku"
    __table_args__ = (UniqueConstraint("cycle_id", "code", name="uq_sop_cycle_sku_key"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("sop_cycle.id", ondelete="CASCADE"), nullable=False, index=True)
    code: Mapped[str] = mapped_column(String(64), nullable=False)
    name: Mapped[str | None] = mapped_column(String(255))
    category: Mapped[str | None] = mapped_column(String(100))
    unit_cost: Mapped[float] = mapped_column(Float, nullable=False, default=0.0)
    unit_price: Mapped[float] = mapped_column(Float, nullable=False, default=0.0)
    demand: Mapped[float] = mapped_column(Float, nullable=False, default=0.0)
    supply: Mapped[float] = mapped_column(Float, nullable=False, default=0.0)
    ending_inventory: Mapped[float] = mapped_column(Float, nullable=False, default=0.0)
    revenue: Mapped[float] = mapped_column(Float, nullable=False, default=0.0)
    margin: Mapped[float] = mapped_column(Float, nullable=False, default=0.0)
    inventory_value: Mapped[float] = mapped_column(Float, nullable=False, default=0.0)
    open_orders_value: Mapped[float] = mapped_column(Float, nullable=False, default=0.0)
    recommended_orders_value: Mapped[float] = mapped_column(Float, nullable=False, default=0.0)


class SopCyclePeriod(Base):
    """One SKU and period of a closed cycle: consensus demand, planned supply and projected inventory (units)."""

    __tablename__ = "sop_cycle_period"
    __table_args__ = (UniqueConstraint("cycle_id", "code", "period", name="uq_sop_cycle_period_key"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("sop_cycle.id", ondelete="CASCADE"), nullable=False, index=True)
    code: Mapped[str] = mapped_column(String(64), nullable=False)
    period: Mapped[dt.date] = mapped_column(Date, nullable=False)
    demand: Mapped[float] = mapped_column(Float, nullable=False, default=0.0)
    supply: Mapped[float] = mapped_column(Float, nullable=False, default=0.0)
    projected_inventory: Mapped[float] = mapped_column(Float, nullable=False, default=0.0)


class Promotion(Base):
    """Causal data of one SKU in one period (history or plan): price, promotion and named causal columns (0016)."""

    __tablename__ = "promotion"
    __table_args__ = (
        UniqueConstraint("sku_id", "period", name="uq_promotion_key"),
        CheckConstraint("price IS NULL OR price >= 0", name="price_nonneg"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    sku_id: Mapped[int] = mapped_column(ForeignKey("sku.id", ondelete="CASCADE"), nullable=False)
    period: Mapped[dt.date] = mapped_column(Date, nullable=False)
    price: Mapped[float | None] = mapped_column(Float)
    promoted: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    label: Mapped[str | None] = mapped_column(String(100))
    features: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=utcnow, onupdate=utcnow)


class CalendarEvent(Base):
    """A holiday or company event on one period, for one location ('' = every location) (migration 0016)."""

    __tablename__ = "calendar_event"
    __table_args__ = (UniqueConstraint("period", "name", "location", name="uq_calendar_event_key"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    period: Mapped[dt.date] = mapped_column(Date, nullable=False)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    location: Mapped[str] = mapped_column(String(100), nullable=False, default="", server_default="")


class DemandAdjustment(Base):
    """A commercial adjustment of the forecast (issue 19 item 1): ``change_pct`` (percent) or ``change_units`` (units
    over the month, shared by the scope's SKUs and periods) for one SKU or category (``scope_kind``) and one month
    (``period``: the month's first day), with who and why. Superseded or deleted rows stay with ``deleted_at``
    (services/consensus.py)."""

    __tablename__ = "demand_adjustment"
    __table_args__ = (
        CheckConstraint("scope_kind IN ('sku','category')", name="scope_kind_valid"),
        CheckConstraint("(change_pct IS NULL) <> (change_units IS NULL)", name="one_change"),
        Index("ix_demand_adjustment_scope", "scope_kind", "scope", "period"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    scope_kind: Mapped[str] = mapped_column(String(10), nullable=False)
    scope: Mapped[str] = mapped_column(String(100), nullable=False)
    period: Mapped[dt.date] = mapped_column(Date, nullable=False)
    change_pct: Mapped[float | None] = mapped_column(Float)
    change_units: Mapped[float | None] = mapped_column(Float)
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    user_email: Mapped[str] = mapped_column(String(255), nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    deleted_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    deleted_by: Mapped[str | None] = mapped_column(String(255))


class ConsensusLayer(Base):
    """The forecast of record of one SKU and period touched by an override or a commercial adjustment: the
    statistical forecast, after the planner overrides, and the consensus (after the commercial adjustments), as the
    latest recompute that forecast the period computed them (services/consensus_layers.py)."""

    __tablename__ = "consensus_layer"
    __table_args__ = (UniqueConstraint("sku_id", "period", name="uq_consensus_layer_key"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    sku_id: Mapped[int] = mapped_column(ForeignKey("sku.id", ondelete="CASCADE"), nullable=False)
    period: Mapped[dt.date] = mapped_column(Date, nullable=False)
    run_id: Mapped[int | None] = mapped_column(Id)
    computed_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    statistical: Mapped[float] = mapped_column(Float, nullable=False)
    overridden: Mapped[float] = mapped_column(Float, nullable=False)
    consensus: Mapped[float] = mapped_column(Float, nullable=False)
    adjustment_id: Mapped[int | None] = mapped_column(ForeignKey("demand_adjustment.id", ondelete="SET NULL"))
