"""The board as of an event time: indicator states from their hits, daily trends, levels and their history."""

from __future__ import annotations

from datetime import UTC, datetime

from app.alerts.board import board, daily_hits, latest_event_at, state_of
from app.matching.scenarios import assess
from app.matching.sqlstore import SqlStore


def _at(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(tzinfo=UTC)


def _indicator(states, scenario_id, indicator_id):
    sc = next(s for s in states if s.id == scenario_id)
    return sc, next(i for i in sc.indicators if i.id == indicator_id)


def test_states_follow_the_last_hit(ctx, lib, pipeline, item):
    first, second = pipeline(item("r1", "Two rockets land inside Camp Taji", published="2020-06-01T08:00:00Z"),
                             item("r2", "Two rockets land inside Balad air base", published="2020-06-20T08:00:00Z"))
    with ctx.sessions() as s:
        expected = {"2020-06-25": "tripped", "2020-07-05": "watch", "2020-08-15": "quiet", "2020-05-01": "quiet"}
        for day, state in expected.items():
            _, ind = _indicator(board(s, lib, _at(day)), "mlcoa-pressure", "indirect-fire-attack")
            assert ind.state == state, day
        sc, ind = _indicator(board(s, lib, _at("2020-06-25T12:00:00")), "mlcoa-pressure", "indirect-fire-attack")
        assert ind.last_hit_at == _at("2020-06-20T08:00:00") and ind.last_alert_id == second
        assert len(ind.trend) == 30 and sum(ind.trend) == 2 and ind.trend[-6] == 1 and ind.trend[-25] == 1
        assert (sc.level, sc.score) == assess(lib, SqlStore(s, lib.version), "mlcoa-pressure",
                                              _at("2020-06-25T12:00:00"))[:2]
        assert sc.level != "low" and sc.history[-1][1] == sc.level
        assert latest_event_at(s) == _at("2020-06-20T08:00:00")
    assert first != second


def test_daily_hits_buckets_by_utc_day(ctx, lib, pipeline, item):
    pipeline(item("r1", "Two rockets land inside Camp Taji", published="2020-06-10T23:30:00+00:00"),
             item("r2", "Two rockets land inside Balad air base", published="2020-06-11T00:30:00+02:00"))
    with ctx.sessions() as s:
        trend = daily_hits(s, _at("2020-06-12T12:00:00"), days=3)["indirect-fire-attack"]
    assert trend == [2, 0, 0]  # 00:30+02:00 on the 11th is 22:30 UTC on the 10th


def test_state_boundaries():
    as_of = _at("2020-06-30")
    lookback = as_of - _at("2020-05-31")
    assert state_of(None, as_of, lookback) == "quiet"
    assert state_of(_at("2020-06-23T00:00:01"), as_of, lookback) == "tripped"
    assert state_of(_at("2020-06-23T00:00:00"), as_of, lookback) == "watch"
    assert state_of(_at("2020-05-31T00:00:00"), as_of, lookback) == "quiet"
