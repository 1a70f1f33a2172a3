"""The one-SKU briefing (planners): status banner, demand and forecast charts, the policy card with its order
policy, purchase orders and the commentary.

Pure: typed facts in (:class:`reports.data.SkuBriefing`), PDF bytes out; the house style is :mod:`reports.pdf_base`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from fpdf import FontFace
from fpdf.enums import Align, MethodReturnValue, XPos, YPos

from ai import wording
from core import formats
from reports import charts
from reports.data import (
    PolicyCard,
    SkuBriefing,
    TimeSeries,
    is_missing,
)
from reports.formatting import (
    MISSING,
    fmt_date,
    fmt_datetime,
    fmt_days,
    fmt_int,
    fmt_money,
    fmt_num,
    fmt_pct,
    fmt_qty,
)
from reports.pdf_base import (
    BODY_SIZE,
    FONT,
    MARGIN,
    OVERDUE_FACE,
    SMALL_SIZE,
    TABLE_SIZE,
    BriefingPDF,
    make_pdf,
    pdf_bytes,
    rgb,
)
from reports.theme import BRAND, status_color, tint


def build_sku_briefing(data: SkuBriefing, *, cjk_font_path: str | Path | None = None, lang: str | None = None) -> bytes:
    """Build the one-SKU briefing PDF.

    Sections: cover block; status banner with its reason; SKU master and stock / order facts; demand history
    with forecast band and overrides; projected stock path with safety stock, reorder point and the recommended
    order; policy card (classification, service level, lead time and its source, safety stock, reorder point,
    EOQ, newsvendor quantity, order policy -- one-shot (newsvendor) with its critical ratio and horizon demand, or
    replenishment --, reorder-point method and why); forecast model with its accuracy and the runners-up;
    commentary.

    Parameters
    ----------
    data
        The facts to print (see :class:`reports.data.SkuBriefing`).
    cjk_font_path
        Optional CJK font file; by default a known installed font is used when the text needs one.
    lang
        The document's language (BCP 47, e.g. "en-GB"); by default ``DEFAULT_LANG``
        (the briefing service passes the settings' ``APP_LOCALE``).

    Returns
    -------
    bytes
        The PDF document.
    """
    if not isinstance(data, SkuBriefing):
        raise ValueError(f"data must be a SkuBriefing, got {type(data).__name__}")
    sku, policy = data.sku, data.policy
    sym = data.currency_symbol
    pdf = make_pdf(data, header_right=f"{data.title} \u00b7 {sku.code}", cjk_font_path=cjk_font_path, lang=lang)
    pdf.cover(
        title=data.title,
        subtitle=f"{sku.code} \u2014 {sku.name}",
        meta=(
            ("Company", data.company_name),
            ("Generated", fmt_datetime(data.generated_at)),
            ("Data as of", fmt_date(data.data_as_of)),
            ("Run", data.run_id),
        ),
        accent=status_color(data.status),
    )
    _status_banner(pdf, data.status, data.status_reason)

    order = data.recommended_order
    master = [
        ("SKU", sku.code),
        ("Name", sku.name),
        ("Category", sku.category or MISSING),
        ("Supplier", sku.supplier or MISSING),
        ("Location", sku.location or MISSING),
        ("Unit cost / price", f"{_money2(sku.unit_cost, sym)} / {_money2(sku.unit_price, sym)}"),
        ("MOQ / order multiple", f"{fmt_qty(sku.moq)} / {fmt_qty(sku.order_multiple)}"),
    ]
    stock = [
        ("On hand", fmt_qty(sku.on_hand)),
        ("On order", fmt_qty(sku.on_order)),
        ("Days of cover", _cover_text(policy)),
        ("Safety stock", fmt_qty(policy.safety_stock)),
        ("Reorder point", fmt_qty(policy.reorder_point)),
        ("Recommended order", fmt_qty(order.qty) if order else "none"),
        ("Order by", _order_by_text(order.order_by, data.generated_at) if order else MISSING),
    ]
    if order is not None and not is_missing(order.value):
        stock.append(("Order value", fmt_money(order.value, sym)))
    pdf.section("SKU and stock position", keep_with=45)
    _two_kv_tables(pdf, ("SKU master", master), ("Stock and order", stock))

    demand_h, stock_h = 56.0, 50.0
    pdf.section("Demand and forecast", keep_with=demand_h)
    y = pdf.get_y()
    svg = charts.demand_forecast_chart(
        data.history,
        data.forecast,
        data.overrides,
        data_as_of=data.data_as_of,
        width_mm=pdf.epw,
        height_mm=demand_h,
        cjk_font_path=pdf.cjk_font_path,
    )
    pdf.image_svg(svg, x=MARGIN, y=y, w=pdf.epw, h=demand_h, alt_text=_series_alt("Demand history", data.history))
    pdf.set_y(y + demand_h)
    caption = (
        f"{sku.grain.capitalize()} periods. Forecast by {policy.forecast_model}; shaded band p10 to p90."
        if len(data.forecast)
        else f"{sku.grain.capitalize()} periods. No forecast in this run."
    )
    if len(data.overrides):
        caption += (
            f" {len(data.overrides)} planner override{'s' if len(data.overrides) != 1 else ''} shown as diamonds."
        )
    pdf.paragraph(caption, size=SMALL_SIZE, color=BRAND["muted"])

    pdf.section("Projected stock", keep_with=stock_h)
    y = pdf.get_y()
    svg = charts.stock_projection_chart(
        data.projected_stock,
        safety_stock=policy.safety_stock,
        reorder_point=policy.reorder_point,
        order=order,
        width_mm=pdf.epw,
        height_mm=stock_h,
        cjk_font_path=pdf.cjk_font_path,
    )
    alt = _series_alt("Projected stock", data.projected_stock)
    alt += f"; safety stock {fmt_qty(policy.safety_stock)}, reorder point {fmt_qty(policy.reorder_point)}"
    pdf.image_svg(svg, x=MARGIN, y=y, w=pdf.epw, h=stock_h, alt_text=alt)
    pdf.set_y(y + stock_h)

    _policy_section(pdf, data)
    pdf.section("Commentary", keep_with=25)
    pdf.commentary(data.commentary, empty_text="No commentary was generated for this SKU.")
    return pdf_bytes(pdf)


def _series_alt(name: str, series: TimeSeries) -> str:
    """A chart's text alternative: how many periods, the range of dates and the lowest, highest and last value."""
    values = [float(v) for v in series.values if not is_missing(v)]
    if not values:
        return f"{name}: no data"
    span = f" from {fmt_date(series.dates[0])} to {fmt_date(series.dates[-1])}"
    return (
        f"{name}: {len(values)} periods{span}; lowest {fmt_qty(min(values))}, highest {fmt_qty(max(values))},"
        f" last {fmt_qty(values[-1])}"
    )


def _money2(value: float | None, symbol: str) -> str:
    if is_missing(value):
        return MISSING
    return f"{'-' if value < 0 else ''}{symbol}{abs(value):,.2f}"  # type: ignore[operator,arg-type]


def _status_banner(pdf: BriefingPDF, status: str, reason: str) -> None:
    color = status_color(status)
    pdf.set_font(FONT, "", BODY_SIZE)
    label_w = 34.0
    text_w = pdf.epw - label_w - 6
    height = max(
        pdf.multi_cell(text_w, 4.6, reason or MISSING, dry_run=True, output=MethodReturnValue.HEIGHT) + 6, 12.0
    )
    y = pdf.get_y() + 2
    pdf.set_fill_color(*tint(color, 0.88))
    pdf.rect(MARGIN, y, pdf.epw, height, style="F")
    pdf.set_fill_color(*rgb(color))
    pdf.rect(MARGIN, y, 1.5, height, style="F")
    pdf.set_xy(MARGIN + 4, y + 2.5)
    pdf.set_font(FONT, "", SMALL_SIZE - 0.5)
    pdf.set_text_color(*rgb(BRAND["muted"]))
    pdf.cell(label_w - 4, 3, "HEALTH STATUS")
    pdf.status_pill(status, x=MARGIN + 4, y=y + 6.2, size=BODY_SIZE)
    pdf.set_xy(MARGIN + label_w + 2, y + 3)
    pdf.set_font(FONT, "", BODY_SIZE)
    pdf.set_text_color(*rgb(BRAND["text"]))
    pdf.multi_cell(text_w, 4.6, reason or MISSING, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_y(y + height)
    pdf._reset_style()


def _kv_table(pdf: BriefingPDF, title: str, pairs: Sequence[tuple[str, str]], *, width: float, align: str) -> None:
    label_w = width * 0.42
    with pdf.table(
        width=width,
        align=align,
        col_widths=(label_w, width - label_w),
        headings_style=FontFace(
            emphasis="BOLD", color=rgb(BRAND["primary"]), fill_color=rgb(BRAND["panel"]), size_pt=TABLE_SIZE + 0.5
        ),
    ) as table:
        head = table.row()
        head.cell(title, colspan=2)
        for label, value in pairs:
            row = table.row()
            row.cell(label, style=FontFace(color=rgb(BRAND["muted"])))
            overdue = "overdue by" in value  # an order-by date past the briefing's date (_order_by_text): red
            row.cell(value, style=OVERDUE_FACE if overdue else FontFace(emphasis="BOLD"))


def _pattern_text(p: PolicyCard) -> str:
    """ "smooth (ADI 1.05: regular)": the demand class and its ADI in the words of ai.wording (as on the SKU page)."""
    cls = p.demand_class.replace("_", " ") or MISSING
    band = wording.adi_band(p.adi)
    return f"{cls} (ADI {fmt_num(p.adi, 2)}: {band.word})" if band is not None else cls


def _cover_text(p: PolicyCard) -> str:
    """ "21 (short: below the 28-day lead time)": days of cover in the words of ai.wording's cover bands."""
    words = wording.cover_text(p.days_of_cover, p.lead_time_mean_days)
    return fmt_days(p.days_of_cover) + (f" ({words})" if words else "")


def _two_kv_tables(
    pdf: BriefingPDF, left: tuple[str, Sequence[tuple[str, str]]], right: tuple[str, Sequence[tuple[str, str]]]
) -> None:
    width = (pdf.epw - 6) / 2
    rows = max(len(left[1]), len(right[1])) + 1
    pdf.ensure_space(rows * 6.5)
    y0, page0 = pdf.get_y(), pdf.page
    _kv_table(pdf, left[0], left[1], width=width, align=Align.L)
    if pdf.page != page0:  # the left table broke across pages: stack the right one below it
        pdf.ln(3)
        _kv_table(pdf, right[0], right[1], width=width, align=Align.L)
        return
    y_left = pdf.get_y()
    pdf.set_y(y0)
    _kv_table(pdf, right[0], right[1], width=width, align=Align.R)
    if pdf.page == page0:
        pdf.set_y(max(y_left, pdf.get_y()))


def _policy_section(pdf: BriefingPDF, data: SkuBriefing) -> None:
    p = data.policy
    lead = f"{fmt_num(p.lead_time_mean_days)} d"
    if not is_missing(p.lead_time_std_days):
        lead += f" \u00b1 {fmt_num(p.lead_time_std_days)} d"
    policy = [
        ("Demand pattern", _pattern_text(p)),
        ("ABC / XYZ class", f"{p.abc or MISSING} / {p.xyz or MISSING}"),
        ("Forecast error", wording.cv_text(p.forecast_cv) or MISSING),
        ("Service level target", fmt_pct(p.service_level)),
        ("Lead time", lead),
        ("Lead time source", p.lead_time_source or MISSING),
        ("Safety stock", fmt_qty(p.safety_stock)),
        ("Reorder point", fmt_qty(p.reorder_point)),
        ("EOQ", fmt_qty(p.eoq)),
        ("Newsvendor quantity", fmt_qty(p.newsvendor_qty)),
        *_order_policy_rows(p, grain=data.sku.grain),
    ]
    forecast = [
        ("Chosen model", p.forecast_model or MISSING),
        ("MASE", fmt_num(p.mase, 2)),
        ("WAPE", fmt_pct(p.wape)),
        ("Bias", fmt_num(p.bias, 2)),
    ]
    for rank, (model, score) in enumerate(list(p.runners_up)[:5], start=1):
        forecast.append((f"Runner-up {rank}", f"{model} \u00b7 MASE {fmt_num(score, 2)}"))
    pdf.section("Policy card", keep_with=70)
    _two_kv_tables(pdf, ("Inventory policy", policy), ("Forecast model", forecast))
    pdf.ln(2.5)
    pdf.set_font(FONT, "B", SMALL_SIZE + 0.5)
    pdf.set_text_color(*rgb(BRAND["primary"]))
    pdf.cell(0, 4.5, f"Reorder point method: {p.rop_method or MISSING}", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.paragraph(p.rop_method_reason or MISSING, size=SMALL_SIZE + 0.5)
    if p.one_shot:
        pdf.paragraph(ONE_SHOT_NOTE, size=SMALL_SIZE, color=BRAND["muted"])


def _order_by_text(order_by: Any, as_of: Any) -> str:
    """The order-by date of the SKU briefing, ``2026-11-30 (overdue by 6 days)`` when it is before ``as_of``."""
    late = formats.overdue_days(order_by, as_of) if as_of is not None else None
    return f"{fmt_date(order_by)} ({formats.overdue_text(late)})" if late else fmt_date(order_by)


ONE_SHOT_POLICY = "One-shot (newsvendor)"
PHASE_OUT_POLICY = "Phase-out (stopped seller, not replenished)"
REPLENISHMENT_POLICY = "Replenishment"
ONE_SHOT_NOTE = (
    "One-shot buy: ordered once with the newsvendor quantity less the inventory position; "
    "the reorder point does not trigger it."
)
_PERIOD_UNITS = {"daily": "day", "weekly": "week", "monthly": "month"}


def _order_policy_rows(p: PolicyCard, *, grain: str) -> list[tuple[str, str]]:
    """The policy card's order policy rows, as on the SKU page: a one-shot SKU is ordered by the newsvendor (its
    critical ratio and the demand over the forecast horizon), the others are replenished from the reorder point."""
    if p.phase_out:
        return [("Order policy", PHASE_OUT_POLICY)]
    if not p.one_shot:
        return [("Order policy", REPLENISHMENT_POLICY)]
    rows = [("Order policy", ONE_SHOT_POLICY), ("Critical ratio", fmt_num(p.critical_ratio, 2))]
    demand = fmt_int(p.horizon_demand)
    if p.horizon_periods and not is_missing(p.horizon_demand):
        unit = _PERIOD_UNITS.get(grain, "period")
        demand += f" over {p.horizon_periods} {unit}{'s' if p.horizon_periods != 1 else ''}"
    rows.append(("Horizon demand", demand))
    return rows
