"""Which events and alerts a subscription wants (empty filter lists mean "all")."""

from __future__ import annotations

from app.alerts.models import Alert
from app.notify.models import OutboxEvent, Subscription
from app.notify.payloads import LEVEL_CHANGED, severity_rank


def alert_matches(sub: Subscription, alert: Alert, scenarios: list[str]) -> bool:
    """Scenario, indicator, minimum severity and status filters against the alert as it stands."""
    return ((not sub.scenarios or bool(set(scenarios) & set(sub.scenarios)))
            and (not sub.indicators or alert.indicator_id in sub.indicators)
            and severity_rank(alert.severity) >= severity_rank(sub.min_severity)
            and (not sub.statuses or alert.status in sub.statuses))


def level_matches(sub: Subscription, scenario_id: str, reasons: list[dict]) -> bool:
    """A level change passes the scenario filter, and the indicator filter when one behind it is listed."""
    indicators = {r.get("indicator") for r in reasons}
    return ((not sub.scenarios or scenario_id in sub.scenarios)
            and (not sub.indicators or bool(indicators & set(sub.indicators))))


def event_matches(sub: Subscription, ev: OutboxEvent, alert: Alert | None) -> bool:
    if ev.type == LEVEL_CHANGED:
        return level_matches(sub, ev.payload["scenario"]["id"], ev.payload.get("reasons", []))
    return alert is not None and alert_matches(sub, alert, ev.scenario_ids)
