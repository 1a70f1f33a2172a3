"""The M5 competition layout (Walmart): ``sales_train_*.csv`` + ``calendar.csv`` (+ ``sell_prices*.csv``).

One SKU per item x store series: code = the series ``id`` without its ``_evaluation`` / ``_validation`` suffix
(``FOODS_1_001_CA_3``), name = ``item_id``, category = ``cat_id``, location = ``store_id``; the unit price is the
item's latest ``sell_price`` in that store. Daily demand: ``d_1``... mapped to dates by the calendar. M5 has no
costs or lead times: those keep their defaults (or the values already in the SKU master).
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

import pandas as pd
from sqlalchemy.orm import Session

from services.ingest import columns as cols
from services.ingest.parse import parse_wide
from services.ingest.pipeline import _finish, _stage, run_plan
from services.ingest.plan import ImportOptions, ImportResult, Progress
from services.ingest.prepare_demand import from_wide, prepare_demand
from services.ingest.report import FileRejectedError
from services.ingest.sniff import sniff
from services.ingest.validate import Field

_NAME = Field("name", "text", blank="null", max_length=255)
_CATEGORY = Field("category", "text", blank="null", max_length=100)


def find_files(directory: Path) -> tuple[Path, Path, Path | None]:
    """(sales, calendar, prices or None) in ``directory``; raises :class:`FileRejectedError` when one is missing."""
    if not directory.is_dir():
        raise FileRejectedError(f"no such folder: {directory}")
    sales = sorted(directory.glob("sales_train_*.csv"))
    if not sales:
        raise FileRejectedError(f"no sales_train_*.csv in {directory}")
    evaluation = [p for p in sales if "evaluation" in p.name]
    calendar = directory / "calendar.csv"
    if not calendar.is_file():
        raise FileRejectedError(f"no calendar.csv in {directory}")
    prices = sorted(directory.glob("sell_prices*.csv"))
    return (evaluation or sales)[0], calendar, prices[0] if prices else None


def _strip_suffix(series: pd.Series) -> pd.Series:
    return series.astype(str).str.replace(r"_(evaluation|validation)$", "", regex=True)


def _latest_prices(prices: Path) -> pd.DataFrame:
    frame = pd.read_csv(prices, dtype={"store_id": str, "item_id": str, "wm_yr_wk": "int64", "sell_price": float})
    frame = frame.sort_values("wm_yr_wk").groupby(["store_id", "item_id"], sort=False).tail(1)
    return frame[["store_id", "item_id", "sell_price"]]


def import_m5(
    *,
    session: Session,
    directory: str | Path,
    options: ImportOptions | None = None,
    user: str | None = None,
    progress: Progress | None = None,
    dry_run: bool = False,
) -> ImportResult:
    """Load an M5 folder: SKUs (created or updated) and their daily demand, in the session's transaction."""
    options = replace(options or ImportOptions(), create_skus=True)
    directory = Path(directory)
    result = ImportResult(kind="demand", file_name=f"m5:{directory.name}")
    started = time.perf_counter()
    try:
        sales, calendar_path, prices = find_files(directory)
        result.file_name = f"m5:{sales.name}"
        calendar = pd.read_csv(calendar_path, usecols=["date", "d"], dtype=str)
        mapping = dict(
            zip(calendar["d"], pd.to_datetime(calendar["date"]).to_numpy().astype("datetime64[D]"), strict=True)
        )
        sniffed = sniff(sales, max_bytes=max(options.limit(), 2 << 30))
        headers = [h.strip() for h in sniffed.header]
        needed = {"id": "sku", "item_id": "name", "cat_id": "category", "store_id": "location"}
        missing = [h for h in needed if h not in headers]
        if missing:
            raise FileRejectedError(f"{sales.name} has no {', '.join(missing)} column (M5 layout expected)")
        resolved = cols.Resolved(
            columns={field: headers.index(header) for header, field in needed.items()},
            headers=sniffed.header,
            scales={},
            ignored=[h for h in headers if h in ("dept_id", "state_id")],
        )
        periods = {i: mapping[h] for i, h in enumerate(headers) if h in mapping}
        if not periods:
            raise FileRejectedError(f"{sales.name} has no d_1, d_2, ... columns that calendar.csv knows")
        parsed = parse_wide(
            sniffed,
            resolved,
            periods,
            (cols.SKU, replace(cols.LOCATION, name="location"), _NAME, _CATEGORY),
            errors=result.errors,
            progress=_stage(progress, 0.0, 0.4),
            code_transform=_strip_suffix,
        )
        attributes = parsed.attributes
        if prices is not None and len(attributes):
            latest = _latest_prices(prices)
            merged = attributes.merge(
                latest, how="left", left_on=["location", "name"], right_on=["store_id", "item_id"]
            )
            attributes["unit_price"] = merged["sell_price"].to_numpy(dtype=float)
            attributes["_ok_unit_price"] = True
        parsed.attributes = attributes
        records = from_wide(parsed, resolved, key_location=False)
        records.layout = "m5"
        fmt_columns = {
            "sku": "id",
            "name": "item_id",
            "category": "cat_id",
            "location": "store_id",
            "periods": f"{len(periods)} columns (d_{1} ... via calendar.csv)",
        }
        if prices is not None:
            fmt_columns["unit_price"] = f"{prices.name} (latest sell_price)"
        plan = prepare_demand(
            session,
            sniffed,
            options,
            result.errors,
            _stage(progress, 0.4, 0.6),
            records=records,
            fmt_columns=fmt_columns,
            ignored=resolved.ignored,
            grain_hint="daily",
        )
    except FileRejectedError as exc:
        result.errors.add_one(line=None, column=None, value="", reason=str(exc))
        result.message = str(exc)
        return _finish(session, result, user, dry_run, started)
    return run_plan(
        session=session,
        plan=plan,
        result=result,
        options=options,
        user=user,
        progress=progress,
        dry_run=dry_run,
        started=started,
    )


def m5_series_count(directory: str | Path) -> int:
    """Number of series in the folder's sales file (for messages)."""
    sales, _calendar, _prices = find_files(Path(directory))
    with sales.open("rb") as handle:
        return max(0, sum(1 for _ in handle) - 1)


__all__ = ["find_files", "import_m5", "m5_series_count"]
