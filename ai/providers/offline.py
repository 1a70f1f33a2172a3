"""The offline writer: readable prose from the facts alone, no network, no model.

It is the default provider when no Gemini key is set and the fallback whenever a model's text fails the grounding
check. The text is 3-6 sentences built from situation-specific sentences (which statuses dominate, whether demand
rises or falls, how volatile it is, whether value at risk is concentrated, what changed since the previous run), not
one template with blanks. Every number is a fact value formatted by ``ai.facts.fmt_*``, so the text always passes
``ai.grounding.check_text``; sentences are dropped (least important first) if the text would exceed the length the
prompt allows.
"""

from __future__ import annotations

from ..facts import (
    STATUSES,
    Facts,
    Number,
    PortfolioFacts,
    SkuBrief,
    SkuFacts,
    fmt_money,
    fmt_number,
    fmt_pct,
)
from ..prompts import MAX_CHARS, MAX_SENTENCES, Prompt
from .base import register_provider

MODEL_NAME = "offline-v1"
FLAT_TREND_PCT = 5.0  # |trend| below this reads as "flat"
HEALTHY_SHARE = 0.7  # at least this share of normal SKUs opens with "Most of the portfolio is healthy"
CONCENTRATED_PCT = 60.0  # top risks holding at least this share of value at risk read as "concentrated"

_MODEL_WORDS = {
    "seasonal_naive": "seasonal naive",
    "ets": "exponential smoothing",
    "croston_sba": "Croston-SBA",
    "tsb": "TSB",
    "ml_gbm": "gradient-boosting",
}
_STATUS_WORDS = {
    "stockout_risk": "at risk of stocking out",
    "surge": "surging",
    "low_velocity": "slow-moving",
    "dead_stock": "dead stock",
    "overstock": "overstocked",
    "normal": "normal",
}
_COUNT_PHRASES = {
    "stockout_risk": "{k} at risk of stocking out",
    "surge": "{k} with surging demand",
    "low_velocity": "{k} slow-moving",
    "dead_stock": "{k} holding dead stock",
    "overstock": "{k} overstocked",
}


def _n(value: Number) -> str:
    return fmt_number(value)


def _abs_pct(value: Number) -> str:
    return fmt_pct(abs(value))


def _join(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _skus(count: int) -> str:
    return f"{_n(count)} SKU" if count == 1 else f"{_n(count)} SKUs"


def _model_words(model: str | None) -> str | None:
    return None if model is None else _MODEL_WORDS.get(model, model.replace("_", " "))


def _fit(lead: str, middle: list[str], last: str, *, max_sentences: int, max_chars: int) -> str:
    """Lead + as many middle sentences as fit (in priority order) + last, within the sentence and character bounds."""
    chosen: list[str] = []
    for sentence in middle:
        candidate = [lead, *chosen, sentence, last]
        if len(candidate) <= max_sentences and len(" ".join(candidate)) <= max_chars:
            chosen.append(sentence)
    return " ".join([lead, *chosen, last])


# ---------------------------------------------------------------------------------------------------------------
# portfolio
# ---------------------------------------------------------------------------------------------------------------


def _portfolio_overview(facts: PortfolioFacts) -> tuple[str, str | None]:
    """Return the opening sentence and the dominant issue (None when everything is normal)."""
    counts, total = facts.status_counts, facts.sku_count
    issues = {status: counts.get(status, 0) for status in STATUSES if status != "normal" and counts.get(status, 0)}
    money = fmt_money(facts.inventory_value, currency=facts.currency) if facts.inventory_value is not None else None
    if not issues:
        held = f", holding {money} of stock" if money else ""
        return f"All {_skus(total)} are running normally{held}, with no stockout, surge or excess flags.", None
    dominant = max(issues, key=lambda status: (issues[status], -STATUSES.index(status)))
    listed = _join([_COUNT_PHRASES[status].format(k=_n(count)) for status, count in issues.items()])
    others = _join(
        [_COUNT_PHRASES[status].format(k=_n(count)) for status, count in issues.items() if status != dominant]
    )
    if counts.get("normal", 0) >= HEALTHY_SHARE * total:
        normal = _n(counts["normal"])
        return (
            f"Most of the portfolio is healthy: {normal} of {_skus(total)} are normal; the exceptions are {listed}.",
            (dominant),
        )
    extra = f", alongside {others}" if others else ""
    k = _n(issues[dominant])
    if dominant == "stockout_risk":
        return f"Supply is the pressing issue this run, with {k} of {_skus(total)} at risk of stocking out{extra}.", (
            dominant
        )
    if dominant == "surge":
        return f"Demand is running ahead of plan: {k} of {_skus(total)} show a surge{extra}.", dominant
    if dominant in ("low_velocity", "dead_stock"):
        return f"Weak demand is the main theme of this run across {_skus(total)}: {listed}.", dominant
    return f"Excess stock is the main theme, with {k} of {_skus(total)} overstocked{extra}.", dominant


def _portfolio_risk(facts: PortfolioFacts) -> str | None:
    if facts.value_at_risk is None:
        return None
    money = fmt_money(facts.value_at_risk, currency=facts.currency)
    if facts.value_at_risk <= 0 or not facts.top_risks:
        return "No value is at risk at the moment."
    first = facts.top_risks[0]
    first_money = fmt_money(first.value_at_risk or 0, currency=facts.currency)
    share = facts.risk_concentration_pct
    if len(facts.top_risks) == 1:
        if share is not None and share >= 100:
            return f"All of the {money} at risk sits with {first.name}."
        return f"{first.name} alone carries {first_money} of the {money} at risk."
    top = len(facts.top_risks)
    if share is not None and share >= 100:
        return f"Only {_n(top)} SKUs carry the {money} at risk, led by {first.name} at {first_money}."
    if share is not None and share >= CONCENTRATED_PCT:
        return (
            f"Exposure is concentrated: the top {_n(top)} SKUs hold {fmt_pct(share)} of the {money} at risk, "
            f"led by {first.name} at {first_money}."
        )
    tail = f", and the top {_n(top)} together hold only {fmt_pct(share)}" if share is not None else ""
    return f"The {money} at risk is spread widely; the largest single exposure is {first.name} at {first_money}{tail}."


def _portfolio_fill_rate(facts: PortfolioFacts) -> str | None:
    rate, change = facts.fill_rate_pct, facts.fill_rate_change_pts
    if rate is None:
        return None
    if change is None:
        return f"Fill rate stands at {fmt_pct(rate)}."
    if change > 0:
        return f"Fill rate improved to {fmt_pct(rate)}, up {_n(abs(change))} points on the previous run."
    if change < 0:
        return f"Fill rate slipped to {fmt_pct(rate)}, {_n(abs(change))} points below the previous run."
    return f"Fill rate held steady at {fmt_pct(rate)}."


def _portfolio_change(facts: PortfolioFacts) -> str | None:
    change = facts.value_at_risk_change
    parts: list[str] = []
    if change is not None:
        money = fmt_money(abs(change), currency=facts.currency)
        if change > 0:
            parts.append(f"value at risk has grown by {money}")
        elif change < 0:
            parts.append(f"value at risk is down {money}")
        else:
            parts.append("value at risk is unchanged")
    stockouts = (facts.status_count_changes or {}).get("stockout_risk")
    if stockouts:
        more_or_fewer = "more" if stockouts > 0 else "fewer"
        verb = "SKU is" if abs(stockouts) == 1 else "SKUs are"
        parts.append(f"{_n(abs(stockouts))} {more_or_fewer} {verb} at risk of stocking out")
    inventory = facts.inventory_value_change
    if inventory and len(parts) < 2:
        direction = "risen" if inventory > 0 else "fallen"
        parts.append(f"inventory value has {direction} by {fmt_money(abs(inventory), currency=facts.currency)}")
    if not parts:
        return None
    text = _join(parts)
    return f"Since the previous run, {text}."


def _portfolio_movers(facts: PortfolioFacts) -> str | None:
    if not facts.top_movers:
        return None
    period = facts.period
    up = next((m for m in facts.top_movers if m.demand_trend_pct is not None and m.demand_trend_pct > 0), None)
    down = next((m for m in facts.top_movers if m.demand_trend_pct is not None and m.demand_trend_pct < 0), None)
    first: SkuBrief = facts.top_movers[0]
    if up is not None and down is not None:
        return (
            f"Among the movers, {up.name} is up {_abs_pct(up.demand_trend_pct or 0)} on its baseline "
            f"while {down.name} is down {_abs_pct(down.demand_trend_pct or 0)}."
        )
    if first.demand_trend_pct is None:
        level = f", now selling {_n(first.demand_recent)} units a {period}" if first.demand_recent is not None else ""
        return f"The biggest mover is {first.name}, which has only just started selling{level}."
    level = f" to {_n(first.demand_recent)} units a {period}" if first.demand_recent is not None else ""
    if first.demand_trend_pct > 0:
        return f"{first.name} is the biggest mover, with demand up {_abs_pct(first.demand_trend_pct)}{level}."
    return f"Demand has dropped most for {first.name}, down {_abs_pct(first.demand_trend_pct)}{level}."


def _portfolio_action(facts: PortfolioFacts, dominant: str | None) -> str:
    stockouts = facts.status_counts.get("stockout_risk", 0)
    if dominant is None:
        return "No action is needed beyond the regular ordering cycle."
    if dominant == "stockout_risk":
        first = next((r for r in facts.top_risks if r.status == "stockout_risk"), None)
        start = f", starting with {first.name}" if first is not None else ""
        return f"The first call is to expedite replenishment for the {_skus(stockouts)} at risk{start}."
    need = "needs" if stockouts == 1 else "need"
    also = f", while the {_skus(stockouts)} at risk of stocking out still {need} expediting" if stockouts else ""
    if dominant == "surge":
        return f"Check supply for the surging items before the next order cycle{also}."
    if dominant == "overstock":
        return f"Pausing replenishment on the overstocked lines would release cash fastest{also}."
    return f"Slowing orders on the weak sellers and clearing dead stock would free up cash and space{also}."


def _portfolio_master_data(facts: PortfolioFacts) -> str | None:
    """SKUs whose master data is still at its defaults; those without a unit cost are not in the money values."""
    count = facts.incomplete_master_data_skus
    if not count:
        return None
    missing = facts.unit_cost_missing_skus
    cost = (
        f"; {_n(missing)} of them {'have' if missing != 1 else 'has'} no unit cost, so their stock is not in the "
        "values above"
        if missing
        else ""
    )
    return f"{_skus(count)} {'have' if count != 1 else 'has'} incomplete master data{cost}."


def write_portfolio(facts: PortfolioFacts, *, max_sentences: int = MAX_SENTENCES, max_chars: int = MAX_CHARS) -> str:
    """Write the portfolio commentary (3-6 sentences) from ``facts``."""
    if facts.sku_count == 0:
        return (
            "The portfolio has no SKUs in this run. There is no demand, stock or value at risk to report. "
            "Load sales history and the SKU master to get a commentary."
        )
    lead, dominant = _portfolio_overview(facts)
    middle = [
        sentence
        for sentence in (
            _portfolio_risk(facts),
            _portfolio_fill_rate(facts),
            _portfolio_change(facts),
            _portfolio_movers(facts),
            _portfolio_master_data(facts),
        )
        if sentence
    ]
    if not middle:
        middle = ["No fill rate or value-at-risk figures are available for this run."]
    return _fit(lead, middle, _portfolio_action(facts, dominant), max_sentences=max_sentences, max_chars=max_chars)


# ---------------------------------------------------------------------------------------------------------------
# one SKU
# ---------------------------------------------------------------------------------------------------------------


def _ref(facts: SkuFacts) -> str:
    return facts.code if facts.name == facts.code else f"{facts.name} ({facts.code})"


def _sku_lead(facts: SkuFacts) -> str:
    ref, period = _ref(facts), facts.period
    cover, lead = facts.days_of_cover, facts.lead_time_days
    recent, baseline, trend = facts.demand_recent, facts.demand_baseline, facts.demand_trend_pct
    if facts.status == "stockout_risk":
        rule = _stockout_lead(facts, ref)
        if rule is not None:
            return rule
        if facts.on_hand is not None and facts.reorder_point is not None:
            return (
                f"{ref} is at risk of stocking out, with {_n(facts.on_hand)} units on hand "
                f"against a reorder point of {_n(facts.reorder_point)}."
            )
        return f"{ref} is at risk of stocking out."
    if facts.status == "surge":
        if recent is not None and trend is not None and baseline is not None:
            return (
                f"Demand for {ref} is surging: recent sales average {_n(recent)} units a {period}, "
                f"{_abs_pct(trend)} {'above' if trend >= 0 else 'below'} the baseline of {_n(baseline)}."
            )
        return f"Demand for {ref} is surging well above its forecast."
    if facts.status == "low_velocity":
        if recent is not None and baseline is not None:
            return (
                f"{ref} is moving slowly, selling {_n(recent)} units a {period} against a baseline of {_n(baseline)}."
            )
        return f"{ref} is moving slowly compared with its usual demand."
    if facts.status == "dead_stock":
        left = f", yet {_n(facts.on_hand)} units remain on hand" if facts.on_hand else ""
        idle = facts.periods_since_last_sale
        if idle and (facts.status_reason or "").startswith("Phase-out"):
            plural = period if idle == 1 else f"{period}s"
            return (
                f"{ref} has stopped selling: no sale for {_n(idle)} {plural}, so it is phased out, not reordered{left}."
            )
        if idle:
            plural = period if idle == 1 else f"{period}s"
            return f"{ref} has not sold for {_n(idle)} {plural}{left}."
        return f"{ref} has stopped selling{left}."
    if facts.status == "overstock":
        if cover is not None and lead is not None:
            return (
                f"{ref} holds far more stock than it needs: {_n(cover)} days of cover "
                f"for a lead time of {_n(lead)} days."
            )
        return f"{ref} holds far more stock than its demand needs."
    if cover is not None:
        return f"{ref} is in good shape, with {_n(cover)} days of cover and no health flags."
    return f"{ref} is in good shape, with no health flags."


def _stockout_lead(facts: SkuFacts, ref: str) -> str | None:
    """The stockout sentence names the rule that fired (``stockout_rule``) and says how cover compares with the lead
    time in the words of :mod:`ai.wording` -- never "at risk ... it has 91 days of cover" alone."""
    cover, lead, rop, position = (
        facts.days_of_cover,
        facts.lead_time_days,
        facts.reorder_point,
        facts.inventory_position,
    )
    rule = facts.stockout_rule
    short = facts.cover_vs_lead_time == "short"
    if rule in ("cover", "reorder_point_and_cover") and cover is not None and lead is not None and short:
        also = (
            f", and its position of {_n(position)} units is at or below the reorder point of {_n(rop)}"
            if rule == "reorder_point_and_cover" and position is not None and rop is not None
            else ""
        )
        return (
            f"{ref} is at risk of stocking out: its {_n(cover)} days of cover are shorter than its "
            f"{_n(lead)}-day lead time{also}."
        )
    if rule == "reorder_point" and position is not None and rop is not None:
        outlast = ""
        if cover is not None and lead is not None and not short:
            outlast = f", although its {_n(cover)} days of cover outlast the {_n(lead)}-day lead time"
        return (
            f"{ref} is at risk of stocking out: its position of {_n(position)} units (on hand plus on order) is at "
            f"or below the reorder point of {_n(rop)}{outlast}."
        )
    if cover is not None and lead is not None:
        compare = "shorter than" if short else "against"
        return (
            f"{ref} is at risk of stocking out: it has {_n(cover)} days of cover, {compare} a {_n(lead)}-day lead time."
        )
    return None


def _sku_status_change(facts: SkuFacts) -> str | None:
    before = facts.previous_status
    if before is None or before == facts.status:
        return None
    return f"This is new since the previous run, when it was {_STATUS_WORDS.get(before, before)}."


def _sku_trend(facts: SkuFacts) -> str | None:
    recent, baseline, trend, period = facts.demand_recent, facts.demand_baseline, facts.demand_trend_pct, facts.period
    if recent is None:
        return None
    if trend is None:
        return f"It has only just started selling, at {_n(recent)} units a {period}." if recent > 0 else None
    if abs(trend) < FLAT_TREND_PCT:
        return f"Demand is flat at {_n(recent)} units a {period}, in line with its baseline."
    if trend > 0:
        return (
            f"Demand is rising: {_n(recent)} units a {period} recently, "
            f"{_abs_pct(trend)} above the baseline of {_n(baseline or 0)}."
        )
    return f"Demand has eased to {_n(recent)} units a {period}, {_abs_pct(trend)} below the baseline."


def _sku_volatility(facts: SkuFacts) -> str | None:
    cv, model = facts.volatility_cv, _model_words(facts.forecast_model)
    if facts.status == "surge" and facts.surge_z is not None:
        return f"Recent sales sit {_n(facts.surge_z)} standard deviations above the forecast, too far to be noise."
    if cv is None:
        return None
    change = ""
    if facts.volatility_cv_change:
        direction = "up" if facts.volatility_cv_change > 0 else "down"
        change = f", {direction} {_n(abs(facts.volatility_cv_change))} since the previous run"
    word = facts.volatility_word or "variable"  # the CV band's word (ai.wording), the same on the SKU page and PDF
    if facts.volatility_level == "high":
        cushion = (
            f", so the safety stock of {_n(facts.safety_stock)} units does much of the work"
            if facts.safety_stock
            else ""
        )
        return f"Demand is {word}: forecast errors are as large as demand itself (CV {_n(cv)}{change}){cushion}."
    if facts.volatility_level == "moderate":
        via = f" under the {model} model" if model else ""
        return f"Demand is {word}, with a forecast-error CV of {_n(cv)}{via}{change}."
    via = f"the {model} forecast" if model else "the forecast"
    return f"Demand is {word}: {via} tracks it closely (CV {_n(cv)}{change})."


def _moved(change: Number, *, up: str, down: str) -> str:
    return up if change > 0 else down


def _sku_policy(facts: SkuFacts) -> str | None:
    if facts.one_shot:  # a seasonal buy: no reorder point or safety stock drives its order
        if facts.newsvendor_qty is None:
            return None
        held = f" against {_n(facts.on_hand)} units on hand" if facts.on_hand is not None else ""
        season = _n(facts.newsvendor_qty)
        return f"It is a one-shot seasonal buy: the newsvendor quantity for the season is {season} units{held}."
    ss, rop = facts.safety_stock, facts.reorder_point
    if ss is None or rop is None or (ss == 0 and rop == 0 and not facts.safety_stock_change):
        return None
    ss_change, rop_change = facts.safety_stock_change, facts.reorder_point_change
    if ss_change is None or rop_change is None:
        if facts.status == "overstock" and facts.on_hand is not None:
            return f"On hand is {_n(facts.on_hand)} units against a reorder point of only {_n(rop)}."
        if facts.status == "low_velocity":
            return f"Its reorder point is {_n(rop)} units, with {_n(ss)} units of safety stock."
        return f"The policy holds {_n(ss)} units of safety stock with a reorder point of {_n(rop)}."
    if ss_change == 0 and rop_change == 0:
        return f"Safety stock ({_n(ss)} units) and the reorder point ({_n(rop)}) are unchanged since the previous run."
    parts = []
    if rop_change:
        verb = _moved(rop_change, up="risen", down="fallen")
        parts.append(f"the reorder point has {verb} by {_n(abs(rop_change))} to {_n(rop)}")
    if ss_change:
        verb = _moved(ss_change, up="grown", down="shrunk")
        parts.append(f"safety stock has {verb} by {_n(abs(ss_change))} to {_n(ss)} units")
    return f"Since the previous run {' and '.join(parts)}."


def _sku_risk(facts: SkuFacts) -> str | None:
    value = facts.value_at_risk
    if not value or value <= 0:
        return None
    money = fmt_money(value, currency=facts.currency)
    change = ""
    if facts.value_at_risk_change:
        delta = fmt_money(abs(facts.value_at_risk_change), currency=facts.currency)
        change = f", {'up' if facts.value_at_risk_change > 0 else 'down'} {delta} on the previous run"
    if facts.status == "overstock":
        beyond = "what the season can sell" if facts.one_shot else "target"
        return f"The stock above {beyond} is worth {money} at cost{change}."
    if facts.status == "low_velocity":
        return f"Slow sales leave {money} of stock at risk{change}."
    if facts.status == "dead_stock":
        return f"That stock is worth {money} at cost and is unlikely to sell without action{change}."
    return f"Roughly {money} of margin is at risk over the lead time{change}."


def _sku_master_data(facts: SkuFacts) -> str | None:
    """Master data at its defaults: say which, and that the money values are unknown without a unit cost."""
    fields = facts.incomplete_master_data
    if not fields:
        return None
    money = ", so its money values are unknown" if "unit cost" in fields else ""
    return f"Its master data is incomplete: {_join(list(fields))} still at the defaults{money}."


def _sku_action(facts: SkuFacts) -> str:
    qty = facts.recommended_qty
    if facts.one_shot:
        if facts.status == "stockout_risk":
            return f"Place the season's order of {_n(qty)} units now." if qty else "Expedite the open orders now."
        if facts.status in ("overstock", "dead_stock", "low_velocity"):
            return "Do not reorder; plan a markdown or a return before the season ends."
        return f"The season's order is {_n(qty)} units." if qty else "No further order is needed this season."
    if facts.status == "stockout_risk":
        return f"Order {_n(qty)} units now to restore cover." if qty else "Expedite the open orders to restore cover."
    if facts.status == "surge":
        more = f" and place the recommended {_n(qty)} units" if qty else ""
        return f"Confirm the surge with sales{more} before the next cycle."
    if facts.status == "low_velocity":
        return "Hold back on new orders until demand recovers."
    if facts.status == "dead_stock":
        return "Consider a clearance sale or a return to the supplier."
    if facts.status == "overstock":
        return "Pause replenishment until cover comes back toward target."
    return f"The next routine order is {_n(qty)} units." if qty else "No action is needed this cycle."


_SKU_PRIORITY = {
    "stockout_risk": ("status_change", "risk", "policy", "trend", "volatility"),
    "surge": ("volatility", "status_change", "policy", "risk"),
    "low_velocity": ("risk", "status_change", "policy", "volatility"),
    "dead_stock": ("risk", "status_change", "policy"),
    "overstock": ("risk", "trend", "status_change", "policy", "volatility"),
    "normal": ("trend", "volatility", "policy", "status_change", "risk"),
}


def write_sku(facts: SkuFacts, *, max_sentences: int = MAX_SENTENCES, max_chars: int = MAX_CHARS) -> str:
    """Write the commentary of one SKU (3-6 sentences) from ``facts``; the order of topics depends on the status."""
    candidates = {
        "status_change": _sku_status_change(facts),
        "risk": _sku_risk(facts),
        "policy": _sku_policy(facts),
        "trend": _sku_trend(facts),
        "volatility": _sku_volatility(facts),
    }
    middle = [candidates[key] for key in _SKU_PRIORITY[facts.status] if candidates.get(key)]
    incomplete = _sku_master_data(facts)
    if incomplete:  # first: it qualifies every figure that follows
        middle.insert(0, incomplete)
    if not middle:
        middle = ["No further figures are available for this SKU."]
    return _fit(_sku_lead(facts), middle, _sku_action(facts), max_sentences=max_sentences, max_chars=max_chars)


@register_provider("offline")
class OfflineWriter:
    """Provider that writes from the facts without any model (the default and the fallback)."""

    name = "offline"
    model = MODEL_NAME

    def __init__(self, *, max_sentences: int = MAX_SENTENCES, max_chars: int = MAX_CHARS) -> None:
        if max_sentences < 3:
            raise ValueError(f"max_sentences must be >= 3, got {max_sentences}")
        self.max_sentences = max_sentences
        self.max_chars = max_chars

    def __repr__(self) -> str:
        return "OfflineWriter()"

    def write(self, facts: Facts) -> str:
        """Return the commentary for ``facts`` (portfolio or SKU)."""
        if isinstance(facts, PortfolioFacts):
            return write_portfolio(facts, max_sentences=self.max_sentences, max_chars=self.max_chars)
        if isinstance(facts, SkuFacts):
            return write_sku(facts, max_sentences=self.max_sentences, max_chars=self.max_chars)
        raise ValueError(f"facts must be PortfolioFacts or SkuFacts, got {type(facts).__name__}")

    def generate(self, prompt: Prompt) -> str:
        """Provider interface: ignore the texts and write from ``prompt.facts``."""
        return self.write(prompt.facts)
