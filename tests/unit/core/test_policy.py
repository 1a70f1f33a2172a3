"""core/policy.py: against stockpyl on random instances, against the textbook values, and properties."""

from __future__ import annotations

import ast
import csv
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from core import policy, slow_movers

stockpyl = pytest.importorskip("stockpyl", reason="stockpyl (test dependency) is not installed")
from stockpyl import eoq as sp_eoq  # noqa: E402
from stockpyl import loss_functions as sp_lf  # noqa: E402
from stockpyl import newsvendor as sp_nv  # noqa: E402

SHARED_DATA = Path(__file__).resolve().parents[4] / "shared" / "data"
EXPECTED_CSV = SHARED_DATA / "stockpyl" / "expected_values_from_tests.csv"

finite = {"allow_nan": False, "allow_infinity": False}


# --------------------------------------------------------------------------------------------------------------------
# random instances against stockpyl itself
# --------------------------------------------------------------------------------------------------------------------
def test_eoq_matches_stockpyl_on_random_instances() -> None:
    rng = np.random.default_rng(11)
    k = rng.uniform(0.5, 5000, 400)
    h = rng.uniform(0.01, 300, 400)
    d = rng.uniform(1, 500_000, 400)
    mine = np.asarray(policy.eoq(annual_demand=d, order_cost=k, holding_cost=h))
    cost = np.asarray(policy.eoq_total_cost(order_quantity=mine, annual_demand=d, order_cost=k, holding_cost=h))
    q_other = mine * rng.uniform(0.3, 3, 400)
    cost_other = np.asarray(
        policy.eoq_total_cost(order_quantity=q_other, annual_demand=d, order_cost=k, holding_cost=h)
    )
    for i in range(400):
        q_ref, c_ref = sp_eoq.economic_order_quantity(k[i], h[i], d[i])
        assert mine[i] == pytest.approx(q_ref, rel=1e-12)
        assert cost[i] == pytest.approx(c_ref, rel=1e-12)
        _, c2 = sp_eoq.economic_order_quantity(k[i], h[i], d[i], q_other[i])
        assert cost_other[i] == pytest.approx(c2, rel=1e-12)


def test_newsvendor_normal_matches_stockpyl_on_random_instances() -> None:
    rng = np.random.default_rng(12)
    n = 400
    co = rng.uniform(0.01, 100, n)
    cu = rng.uniform(0.01, 100, n)
    mu = rng.uniform(1, 5000, n)
    sd = mu * rng.uniform(0.01, 0.6, n)
    res = policy.newsvendor_normal(underage_cost=cu, overage_cost=co, demand_mean=mu, demand_std=sd)
    for i in range(n):
        q_ref, c_ref = sp_nv.newsvendor_normal(co[i], cu[i], mu[i], sd[i])
        assert res.quantity[i] == pytest.approx(q_ref, rel=1e-10)
        assert res.expected_cost[i] == pytest.approx(c_ref, rel=1e-8)
        assert res.critical_ratio[i] == pytest.approx(cu[i] / (cu[i] + co[i]))
    # cost at an arbitrary quantity = stockpyl's newsvendor_normal_cost
    q = mu * rng.uniform(0.5, 1.5, n)
    lost = np.asarray(policy.expected_shortage(level=q, mean=mu, std=sd))
    left = np.asarray(policy.expected_leftover(level=q, mean=mu, std=sd))
    for i in range(0, n, 4):
        ref = sp_nv.newsvendor_normal_cost(q[i], co[i], cu[i], mu[i], sd[i])
        assert co[i] * left[i] + cu[i] * lost[i] == pytest.approx(ref, rel=1e-8)


def test_newsvendor_profit_matches_stockpyl_explicit() -> None:
    rng = np.random.default_rng(13)
    for _ in range(200):
        v = rng.uniform(0, 5)
        c = v + rng.uniform(0.1, 10)
        p = c + rng.uniform(0.1, 20)
        h, b = rng.uniform(0, 2), rng.uniform(0, 5)
        mu = rng.uniform(5, 500)
        sd = mu * rng.uniform(0.05, 0.5)
        q_ref, profit_ref = sp_nv.newsvendor_normal_explicit(p, c, v, mu, sd, h, b)
        cu, co = policy.newsvendor_costs(price=p, unit_cost=c, salvage_value=v, holding_cost=h, stockout_cost=b)
        q = policy.newsvendor_normal(underage_cost=cu, overage_cost=co, demand_mean=mu, demand_std=sd).quantity
        assert q == pytest.approx(q_ref, rel=1e-10)
        profit = policy.newsvendor_expected_profit(
            quantity=q, price=p, unit_cost=c, salvage_value=v, demand_mean=mu, demand_std=sd, holding_cost=h,
            stockout_cost=b,
        )  # fmt: skip
        assert profit == pytest.approx(profit_ref, rel=1e-8, abs=1e-8)


def test_normal_loss_matches_stockpyl() -> None:
    z = np.linspace(-5, 5, 301)
    mine = np.asarray(policy.normal_loss(z))
    for zi, g in zip(z, mine, strict=True):
        ref, ref_bar = sp_lf.standard_normal_loss(float(zi))
        assert g == pytest.approx(ref, rel=1e-9, abs=1e-13)
        assert g + zi == pytest.approx(ref_bar, rel=1e-9, abs=1e-12)  # complementary loss G(z) + z
    rng = np.random.default_rng(14)
    for _ in range(200):
        mean, sd = rng.uniform(-50, 200), rng.uniform(0.1, 60)
        x = mean + sd * rng.uniform(-4, 4)
        n_ref, nbar_ref = sp_lf.normal_loss(x, mean, sd)
        assert policy.expected_shortage(level=x, mean=mean, std=sd) == pytest.approx(n_ref, rel=1e-9, abs=1e-10)
        assert policy.expected_leftover(level=x, mean=mean, std=sd) == pytest.approx(nbar_ref, rel=1e-9, abs=1e-10)


def test_normal_loss_is_accurate_in_the_far_tail() -> None:
    # G(k) ~ phi(k) / k^2 (1 - 3 / k^2 + 15 / k^4) for large k; the naive phi - k (1 - Phi) formula cancels out.
    for k in (8.0, 12.0, 20.0):
        approx = stats.norm.pdf(k) / k**2 * (1 - 3 / k**2 + 15 / k**4 - 105 / k**6)
        assert policy.normal_loss(k) == pytest.approx(approx, rel=1e-3)
    assert policy.normal_loss(-40.0) == pytest.approx(40.0)


# --------------------------------------------------------------------------------------------------------------------
# the textbook values pinned by stockpyl's own tests (Snyder & Shen)
# --------------------------------------------------------------------------------------------------------------------
def _call(expr: str) -> tuple[str, list, dict] | None:
    """Function name and literal arguments of a call, or None when an argument is not a literal."""
    node = ast.parse(expr, mode="eval").body
    assert isinstance(node, ast.Call)
    name = node.func.attr if isinstance(node.func, ast.Attribute) else node.func.id
    try:
        args = [ast.literal_eval(a) for a in node.args]
        kwargs = {k.arg: ast.literal_eval(k.value) for k in node.keywords}
    except ValueError:
        return None
    return name, args, kwargs


def _ours(name: str, args: list, kwargs: dict, output: str) -> float | None:
    """Our value for one stockpyl test row, or None where we implement no counterpart."""
    if name == "economic_order_quantity":
        k, h, d = args[:3]
        q = args[3] if len(args) > 3 else kwargs.get("order_quantity")
        q_star = policy.eoq(annual_demand=d, order_cost=k, holding_cost=h)
        if output == "order_quantity":
            return q_star
        return policy.eoq_total_cost(order_quantity=q_star if q is None else q, annual_demand=d, order_cost=k,
                                     holding_cost=h)  # fmt: skip
    if name == "standard_normal_loss":
        z = args[0]
        return policy.normal_loss(z) + (z if "bar" in output else 0.0)
    if name == "normal_loss":
        x, mean, sd = args
        fn = policy.expected_leftover if "bar" in output else policy.expected_shortage
        return fn(level=x, mean=mean, std=sd)
    if name in ("newsvendor_normal", "newsvendor_normal_cost"):
        if name == "newsvendor_normal_cost":
            s_given, h, p, mean, sd = args[:5]
        else:
            h, p, mean, sd = args[:4]
            s_given = kwargs.get("base_stock_level")
        periods = kwargs.get("lead_time", 0) + 1
        mu, sigma = mean * periods, sd * math.sqrt(periods)
        res = policy.newsvendor_normal(underage_cost=p, overage_cost=h, demand_mean=mu, demand_std=sigma)
        s = res.quantity if s_given is None else s_given
        if output == "base_stock_level":
            return s
        return h * policy.expected_leftover(level=s, mean=mu, std=sigma) + p * policy.expected_shortage(
            level=s, mean=mu, std=sigma
        )
    if name == "newsvendor_normal_explicit":
        r, c, v, mean, sd = args[:5]
        h = args[5] if len(args) > 5 else kwargs.get("holding_cost", 0)
        b = args[6] if len(args) > 6 else kwargs.get("stockout_cost", 0)
        cu, co = policy.newsvendor_costs(price=r, unit_cost=c, salvage_value=v, holding_cost=h, stockout_cost=b)
        s = kwargs.get("base_stock_level")
        if s is None:
            s = policy.newsvendor_normal(underage_cost=cu, overage_cost=co, demand_mean=mean, demand_std=sd).quantity
        if output == "base_stock_level":
            return s
        return policy.newsvendor_expected_profit(
            quantity=s, price=r, unit_cost=c, salvage_value=v, demand_mean=mean, demand_std=sd, holding_cost=h,
            stockout_cost=b,
        )  # fmt: skip
    if name == "newsvendor_poisson" and output == "base_stock_level" and "base_stock_level" not in kwargs:
        h, p, mean = args[:3]
        periods = (args[3] if len(args) > 3 else kwargs.get("lead_time", 0)) + 1
        return slow_movers.poisson_quantile(service_level=p / (p + h), mean=mean * periods)
    return None


def test_textbook_values_from_stockpyl_tests() -> None:
    if not EXPECTED_CSV.exists():
        pytest.skip(f"textbook values not found at {EXPECTED_CSV} (../shared/data is absent on this machine)")
    checked = 0
    with EXPECTED_CSV.open(newline="") as fh:
        for row in csv.DictReader(fh):
            if row["test_file"] not in ("test_eoq.py", "test_newsvendor.py", "test_loss_functions.py"):
                continue
            call = _call(row["call_with_instance_values"])
            ours = None if call is None else _ours(*call, row["checked_output"])
            if ours is None:
                continue
            places = int(row["places"]) if row["places"] else 7
            expected = float(row["expected"])
            assert float(ours) == pytest.approx(expected, abs=0.5 * 10**-places, rel=1e-9), row[
                "call_with_instance_values"
            ]
            checked += 1
    assert checked >= 50, f"only {checked} textbook values matched a counterpart"


# --------------------------------------------------------------------------------------------------------------------
# safety stock, reorder point, order-up-to
# --------------------------------------------------------------------------------------------------------------------
def test_safety_stock_formula_and_broadcasting() -> None:
    ss = policy.safety_stock(service_level=0.95, demand_mean=100, demand_std=20, lead_time=4, lead_time_std=1)
    assert ss == pytest.approx(1.6448536269514722 * math.sqrt(4 * 400 + 100**2 * 1))
    arr = policy.safety_stock(
        service_level=np.array([0.9, 0.95, 0.99]), demand_mean=100, demand_std=20, lead_time=np.array([[1], [4]])
    )
    assert np.shape(arr) == (2, 3)
    rop = policy.reorder_point(service_level=0.95, demand_mean=100, demand_std=20, lead_time=4, lead_time_std=1)
    assert rop == pytest.approx(400 + ss)
    s = policy.order_up_to_level(service_level=0.95, demand_mean=100, demand_std=20, lead_time=4, review_period=2)
    assert s == pytest.approx(600 + 1.6448536269514722 * 20 * math.sqrt(6))


@pytest.mark.parametrize(
    ("kwargs", "bad"),
    [
        ({"service_level": 1.0}, "service_level"),
        ({"service_level": 0.0}, "service_level"),
        ({"service_level": float("nan")}, "service_level"),
        ({"demand_std": -1.0}, "demand_std"),
        ({"demand_mean": -5.0}, "demand_mean"),
        ({"lead_time": -1.0}, "lead_time"),
        ({"lead_time_std": -0.1}, "lead_time_std"),
    ],
)
def test_policy_rejects_bad_arguments_by_name(kwargs: dict, bad: str) -> None:
    base = {"service_level": 0.95, "demand_mean": 10.0, "demand_std": 2.0, "lead_time": 3.0, "lead_time_std": 0.0}
    with pytest.raises(ValueError, match=bad):
        policy.reorder_point(**{**base, **kwargs})


def test_other_functions_reject_bad_arguments_by_name() -> None:
    with pytest.raises(ValueError, match="order_cost"):
        policy.eoq(annual_demand=100, order_cost=-1, holding_cost=1)
    with pytest.raises(ValueError, match="holding_cost"):
        policy.eoq(annual_demand=100, order_cost=1, holding_cost=-1)
    with pytest.raises(ValueError, match="annual_demand"):
        policy.eoq(annual_demand=-100, order_cost=1, holding_cost=1)
    with pytest.raises(ValueError, match="underage_cost"):
        policy.newsvendor_normal(underage_cost=-1, overage_cost=1, demand_mean=10, demand_std=1)
    with pytest.raises(ValueError, match="demand_std"):
        policy.newsvendor_normal(underage_cost=1, overage_cost=1, demand_mean=10, demand_std=-1)
    with pytest.raises(ValueError, match="underage_cost"):
        policy.newsvendor_normal(underage_cost=0, overage_cost=0, demand_mean=10, demand_std=1)
    with pytest.raises(ValueError, match="fill_rate"):
        policy.fill_rate_safety_factor(fill_rate=1.0, order_quantity=10, lead_time_demand_std=1)
    with pytest.raises(ValueError, match="order_quantity"):
        policy.fill_rate_safety_factor(fill_rate=0.9, order_quantity=0, lead_time_demand_std=1)
    with pytest.raises(ValueError, match="lead_time_demand_std"):
        policy.fill_rate_safety_factor(fill_rate=0.9, order_quantity=10, lead_time_demand_std=-1)
    with pytest.raises(ValueError, match="moq"):
        policy.round_up_to_pack(quantity=5, moq=-1, order_multiple=1)


def test_zero_demand_and_zero_variance() -> None:
    assert policy.safety_stock(service_level=0.99, demand_mean=0, demand_std=0, lead_time=5) == 0
    assert policy.reorder_point(service_level=0.99, demand_mean=0, demand_std=0, lead_time=5, lead_time_std=2) == 0
    assert policy.safety_stock(service_level=0.99, demand_mean=50, demand_std=0, lead_time=5, lead_time_std=0) == 0
    assert policy.reorder_point(service_level=0.99, demand_mean=50, demand_std=0, lead_time=5) == 250
    assert policy.eoq(annual_demand=0, order_cost=100, holding_cost=2) == 0
    assert policy.eoq(annual_demand=100, order_cost=0, holding_cost=2) == 0
    assert policy.eoq(annual_demand=100, order_cost=10, holding_cost=0) == math.inf
    res = policy.newsvendor_normal(underage_cost=3, overage_cost=1, demand_mean=0, demand_std=0)
    assert res.quantity == 0 and res.expected_cost == 0
    r = slow_movers.reorder_point_auto(
        service_level=0.95, demand_mean=0.0, demand_std=0.0, lead_time=4, demand_class="no_demand"
    )
    assert r.reorder_point[0] == 0 and r.order_up_to[0] == 0 and r.method[0] == "poisson"


@settings(max_examples=60, deadline=None)
@given(
    sl=st.floats(0.5, 0.995, **finite),
    step=st.floats(0.001, 0.004, **finite),
    d=st.floats(0.1, 1e4, **finite),
    sd=st.one_of(st.just(0.0), st.floats(1e-6, 1e3, **finite)),
    lt=st.floats(0.1, 52, **finite),
    slt=st.one_of(st.just(0.0), st.floats(1e-6, 10, **finite)),
    bump=st.floats(1.01, 3.0, **finite),
)
def test_safety_stock_grows_with_service_and_variability(
    sl: float, step: float, d: float, sd: float, lt: float, slt: float, bump: float
) -> None:
    def ss(**kw: float) -> float:
        args = {"service_level": sl, "demand_mean": d, "demand_std": sd, "lead_time": lt, "lead_time_std": slt}
        return float(policy.safety_stock(**{**args, **kw}))

    base = ss()
    assert base >= 0
    assert ss(service_level=sl + step) >= base
    assert ss(demand_std=sd * bump + 0.1) >= base
    assert ss(lead_time_std=slt * bump + 0.1) >= base
    assert ss(lead_time=lt * bump) >= base
    if sd == 0 and slt == 0:
        assert base == 0
    if sl > 0.5:
        assert ss(service_level=sl + step) > base or base == 0 == sd == slt
        assert ss(demand_std=sd * bump + 0.1) > base


@settings(max_examples=60, deadline=None)
@given(
    beta=st.floats(0.5, 0.9999, **finite),
    q=st.floats(0.1, 1e5, **finite),
    sigma=st.floats(0.01, 1e4, **finite),
)
def test_fill_rate_safety_factor_solves_the_loss_equation(beta: float, q: float, sigma: float) -> None:
    k = float(policy.fill_rate_safety_factor(fill_rate=beta, order_quantity=q, lead_time_demand_std=sigma))
    assert sigma * float(policy.normal_loss(k)) == pytest.approx((1 - beta) * q, rel=1e-6, abs=1e-9)
    fr = policy.expected_fill_rate(
        order_quantity=q, reorder_point=k * sigma, lead_time_demand_mean=0.0, lead_time_demand_std=sigma
    )
    assert fr == pytest.approx(beta, abs=1e-6)


def test_fill_rate_factor_vectorised_and_textbook() -> None:
    # Silver, Pyke & Thomas example: Q / sigma = 3.4 (P2 = 0.95 -> G(k) = 0.17 -> k ~ 0.58)
    k = policy.fill_rate_safety_factor(fill_rate=0.95, order_quantity=3.4, lead_time_demand_std=1.0)
    assert policy.normal_loss(k) == pytest.approx(0.17, rel=1e-9)
    assert 0.59 < k < 0.60  # normal loss tables: G(0.59) = 0.1716, G(0.60) = 0.1687
    ks = policy.fill_rate_safety_factor(fill_rate=[0.9, 0.99], order_quantity=100, lead_time_demand_std=[20.0, 0.0])
    assert ks[1] == 0 and np.shape(ks) == (2,)


# --------------------------------------------------------------------------------------------------------------------
# EOQ rounding and cost curves
# --------------------------------------------------------------------------------------------------------------------
@settings(max_examples=80, deadline=None)
@given(
    d=st.floats(1, 1e5, **finite),
    k=st.floats(0.1, 500, **finite),
    h=st.floats(0.01, 50, **finite),
    moq=st.sampled_from([0.0, 7.0, 50.0, 333.0]),
    mult=st.sampled_from([1.0, 6.0, 25.0, 2.5]),
)
def test_round_order_quantity_is_the_cheapest_feasible(d: float, k: float, h: float, moq: float, mult: float) -> None:
    q_star = float(policy.eoq(annual_demand=d, order_cost=k, holding_cost=h))
    q = float(
        policy.round_order_quantity(
            quantity=q_star, moq=moq, order_multiple=mult, annual_demand=d, order_cost=k, holding_cost=h
        )
    )
    assert q >= moq - 1e-9
    assert abs(q / mult - round(q / mult)) < 1e-9
    candidates = np.arange(1, int(max(q_star, moq) / mult) + 50) * mult
    candidates = candidates[candidates >= moq - 1e-9]
    costs = np.asarray(policy.eoq_total_cost(order_quantity=candidates, annual_demand=d, order_cost=k, holding_cost=h))
    best = float(policy.eoq_total_cost(order_quantity=q, annual_demand=d, order_cost=k, holding_cost=h))
    assert best <= costs.min() * (1 + 1e-12)


def test_rounding_examples() -> None:
    kw = {"annual_demand": 1300, "order_cost": 8, "holding_cost": 0.225}
    assert policy.round_order_quantity(quantity=304.05, moq=0, order_multiple=100, **kw) == 300
    assert policy.round_order_quantity(quantity=304.05, moq=350, order_multiple=50, **kw) == 350
    assert policy.round_order_quantity(quantity=304.05, moq=0, order_multiple=float("nan"), **kw) in (304, 305)
    np.testing.assert_array_equal(
        policy.round_up_to_pack(quantity=[0, 1, 12.1, 30], moq=24, order_multiple=12), [0, 24, 24, 36]
    )


def test_cost_curves() -> None:
    curve = policy.eoq_cost_curve(annual_demand=1300, order_cost=8, holding_cost=0.225)
    assert list(curve.columns) == ["quantity", "ordering_cost", "holding_cost", "total_cost"]
    best = curve.loc[curve.total_cost.idxmin(), "quantity"]
    assert abs(best - 304.05) < (curve.quantity.iloc[1] - curve.quantity.iloc[0])
    prof = policy.newsvendor_profit_curve(price=7, unit_cost=2.5, salvage_value=1.5, demand_mean=50, demand_std=10)
    q_star = policy.newsvendor_normal(underage_cost=4.5, overage_cost=1.0, demand_mean=50, demand_std=10).quantity
    assert abs(prof.loc[prof.expected_profit.idxmax(), "quantity"] - q_star) < 0.7
    assert (prof.expected_sales + prof.expected_lost_sales).round(9).eq(50).all()
    with pytest.raises(ValueError, match="quantities"):
        policy.eoq_cost_curve(annual_demand=1, order_cost=1, holding_cost=1, quantities=[0, 1])


@settings(max_examples=40, deadline=None)
@given(
    cu=st.floats(0.1, 100, **finite),
    co=st.floats(0.1, 100, **finite),
    mu=st.floats(1, 1e4, **finite),
    cv=st.floats(0.01, 1.0, **finite),
    delta=st.floats(0.01, 0.5, **finite),
)
def test_newsvendor_quantity_minimises_expected_cost(cu: float, co: float, mu: float, cv: float, delta: float) -> None:
    sd = mu * cv
    res = policy.newsvendor_normal(underage_cost=cu, overage_cost=co, demand_mean=mu, demand_std=sd)

    def cost(q: float) -> float:
        return co * float(policy.expected_leftover(level=q, mean=mu, std=sd)) + cu * float(
            policy.expected_shortage(level=q, mean=mu, std=sd)
        )

    assert res.expected_cost == pytest.approx(cost(res.quantity), rel=1e-9)
    assert res.expected_cost == pytest.approx((cu + co) * sd * stats.norm.pdf(stats.norm.ppf(cu / (cu + co))), rel=1e-7)
    assert cost(res.quantity + delta * sd) >= res.expected_cost * (1 - 1e-12)
    assert cost(res.quantity - delta * sd) >= res.expected_cost * (1 - 1e-12)
    assert res.expected_sales + res.expected_lost_sales == pytest.approx(mu)


# --------------------------------------------------------------------------------------------------------------------
# slow movers
# --------------------------------------------------------------------------------------------------------------------
def test_rop_method_rule_and_reasons() -> None:
    method, reason = slow_movers.choose_rop_method(
        lead_time_demand_mean=[50.0, 4.0, 4.0, 30.0, 6.0, 0.0],
        lead_time_demand_var=[100.0, 4.0, 20.0, 90.0, 30.0, 0.0],
        demand_class=["smooth", "smooth", "intermittent", "lumpy", "lumpy", "no_demand"],
        nonzero_count=[100, 100, 40, 30, 3, 0],
    )
    assert list(method) == ["normal", "poisson", "negative_binomial", "bootstrap", "negative_binomial", "poisson"]
    assert "50.0 >= 10" in reason[0]
    assert "4.0 < 10" in reason[1] and "1.00 <= 1.1" in reason[1]
    assert "5.00 > 1.1" in reason[2]
    assert "30 non-zero periods" in reason[3]


def test_discrete_quantiles() -> None:
    assert slow_movers.poisson_quantile(service_level=0.95, mean=4.0) == stats.poisson.ppf(0.95, 4.0)
    q = slow_movers.negative_binomial_quantile(service_level=0.9, mean=5.0, var=15.0)
    n, p = 5.0**2 / 10.0, 5.0 / 15.0
    assert q == stats.nbinom.ppf(0.9, n, p)
    assert stats.nbinom.mean(n, p) == pytest.approx(5.0) and stats.nbinom.var(n, p) == pytest.approx(15.0)
    # var <= mean falls back to Poisson
    assert slow_movers.negative_binomial_quantile(service_level=0.9, mean=5.0, var=4.0) == stats.poisson.ppf(0.9, 5.0)


def test_bootstrap_lead_time_demand_matches_the_history_distribution() -> None:
    rng = np.random.default_rng(5)
    hist = np.where(rng.random((2, 300)) < 0.3, rng.integers(1, 20, (2, 300)), 0).astype(float)
    hist[1, :50] = np.nan  # not observed yet
    samples = slow_movers.bootstrap_lead_time_demand(history=hist, lead_time=[4.0, 2.5], rng=rng, n_samples=20000)
    assert samples.shape == (2, 20000)
    assert samples[0].mean() == pytest.approx(4 * np.nanmean(hist[0]), rel=0.03)
    assert samples[1].mean() == pytest.approx(2.5 * np.nanmean(hist[1]), rel=0.03)
    assert samples[0].var() == pytest.approx(4 * np.nanvar(hist[0]), rel=0.08)
    again = slow_movers.bootstrap_lead_time_demand(
        history=hist, lead_time=[4.0, 2.5], rng=np.random.default_rng(1), n_samples=50
    )
    same = slow_movers.bootstrap_lead_time_demand(
        history=hist, lead_time=[4.0, 2.5], rng=np.random.default_rng(1), n_samples=50
    )
    np.testing.assert_array_equal(again, same)


def test_reorder_point_auto_per_method() -> None:
    rng = np.random.default_rng(3)
    hist = np.zeros((4, 104))
    hist[0] = rng.normal(50, 10, 104).clip(0)
    hist[1] = rng.poisson(0.5, 104)
    hist[2] = np.where(rng.random(104) < 0.3, rng.integers(1, 40, 104), 0)
    res = slow_movers.reorder_point_auto(
        service_level=0.95,
        demand_mean=[50.0, 0.5, hist[2].mean(), 0.0],
        demand_std=[10.0, 0.7, hist[2].std(), 0.0],
        lead_time=4.0,
        review_period=1.0,
        demand_class=["smooth", "intermittent", "lumpy", "no_demand"],
        history=hist,
        rng=rng,
        periodic_review=False,
    )
    assert list(res.method) == ["normal", "poisson", "bootstrap", "poisson"]
    assert res.reorder_point[0] == pytest.approx(
        policy.reorder_point(service_level=0.95, demand_mean=50, demand_std=10, lead_time=4)
    )
    assert res.order_up_to[0] == pytest.approx(
        policy.order_up_to_level(service_level=0.95, demand_mean=50, demand_std=10, lead_time=4, review_period=1)
    )
    var1 = 4 * 0.7**2
    assert res.reorder_point[1] == slow_movers.negative_binomial_quantile(service_level=0.95, mean=2.0, var=var1)
    assert res.reorder_point[2] == np.round(res.reorder_point[2])  # sums of integer demands
    assert res.reorder_point[3] == 0
    assert np.all(res.order_up_to >= res.reorder_point)
    np.testing.assert_allclose(res.safety_stock, res.reorder_point - np.array([50, 0.5, hist[2].mean(), 0]) * 4)
    periodic = slow_movers.reorder_point_auto(
        service_level=0.95, demand_mean=50.0, demand_std=10.0, lead_time=4.0, review_period=1.0
    )
    assert periodic.reorder_point[0] == pytest.approx(
        policy.reorder_point_periodic(service_level=0.95, demand_mean=50, demand_std=10, lead_time=4, review_period=1)
    )


def test_periodic_reorder_point_undershoot() -> None:
    mean_u, var_u = policy.review_undershoot(demand_mean=20.0, demand_std=6.0, review_period=1.0)
    assert mean_u == pytest.approx((36 + 400) / 40)
    assert var_u == pytest.approx((20**3 + 3 * 20 * 36) / 60 - mean_u**2)
    # review period -> 0: the undershoot tends to sigma^2 / (2 D) (normal increments keep overshooting)
    mean_0, var_0 = policy.review_undershoot(demand_mean=20.0, demand_std=6.0, review_period=1e-9)
    assert mean_0 == pytest.approx(36 / 40, rel=1e-6)
    cont = policy.reorder_point(service_level=0.9, demand_mean=20, demand_std=6, lead_time=4)
    near = policy.reorder_point_periodic(
        service_level=0.9, demand_mean=20, demand_std=6, lead_time=4, review_period=1e-9
    )
    assert near == pytest.approx(cont + 36 / 40, rel=1e-6)
    assert policy.reorder_point_periodic(service_level=0.9, demand_mean=0, demand_std=0, lead_time=4) == 0
