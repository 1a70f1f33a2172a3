"""The meeting pack's "what changed since" an earlier run or a date (issue 19 item 4), on both engines, through the
service, the CLI (--since-run, --since-date) and the PDF; bad choices are one-line errors."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, update

import cli
from db.models import RecomputeRun, Sku
from db.session import session_scope
from services import briefing, consensus
from services.errors import UserFacingError
from services.recompute import recompute
from tests.integration.test_decisions import _pdf_text, _run, portfolio  # noqa: F401  (fixture)

pytestmark = pytest.mark.usefixtures("portfolio")


def _second_run() -> tuple[int, int]:
    """Lift one category's forecast by 50 % for the first forecast month and recompute: (first run, second run)."""
    with session_scope() as session:
        first = session.scalar(select(RecomputeRun.id).where(RecomputeRun.status == "finished"))
        session.execute(
            update(RecomputeRun).where(RecomputeRun.id == first).values(finished_at=dt.datetime(2026, 1, 10, 9))
        )
        category = session.scalar(select(Sku.category).order_by(Sku.code).limit(1))
        months = consensus.month_range(session)
        consensus.add_adjustment(
            session=session, scope=f"category:{category}", period=months[0], change_pct=50, reason="launch", user="t"
        )
    with session_scope() as session:
        second = recompute(session=session, triggered_by="tests").run_id
    return int(first), int(second)


def test_what_changed_since_a_run_or_a_date(capsys, tmp_path) -> None:
    first, second = _second_run()
    with session_scope() as session:
        facts, _ = briefing.portfolio_briefing_facts(session=session, since_run=first)
        pack = facts.meeting_pack
        assert pack is not None and pack.changes_label.startswith(f"run {first}")
        assert pack.changes[0].startswith(f"Compared with the latest run {second}")
        assert any("forecast" in line and " per week" in line for line in pack.changes)
        by_date, _ = briefing.portfolio_briefing_facts(session=session, since_date=dt.date(2026, 1, 11))
        assert by_date.meeting_pack.changes_label == pack.changes_label  # the latest run finished by that day
        latest, _ = briefing.portfolio_briefing_facts(session=session, since_run=second)
        assert "nothing has been recomputed since" in latest.meeting_pack.changes[0]
        for kwargs, match in (
            ({"since_run": 999_999}, "no finished run 999999"),
            ({"since_date": dt.date(2020, 1, 1)}, "no recompute had finished by"),
            ({"since_run": first, "since_date": dt.date(2026, 1, 11)}, "not both"),
            ({"since_run": first, "since_cycle": "Oct"}, "choose one"),
        ):
            with pytest.raises(UserFacingError, match=match):
                briefing.portfolio_briefing_facts(session=session, **kwargs)
    out = tmp_path / "pack.pdf"
    _run(capsys, "briefing", "--out", str(out), "--since-date", "2026-01-10", "--no-store")
    text = _pdf_text(out.read_bytes())
    assert f"What changed since run {first}" in text and f"latest run {second}" in text
    assert cli.main(["briefing", "--out", str(out), "--since-run", str(first), "--since-date", "2026-01-10"]) != 0
    assert "choose one of --since-run, --since-date" in capsys.readouterr().err
    assert cli.main(["briefing", "--out", str(out), "--since-date", "10/01/2026"]) != 0
    assert "--since-date must be a date" in capsys.readouterr().err
