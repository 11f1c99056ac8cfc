"""`calendar`: symbolic dates that raise the severity of other indicators' hits near them."""

from __future__ import annotations

from datetime import date

from app.matching.rules.base import Firing, Rule, register


@register
class CalendarRule(Rule):
    kind = "calendar"

    def applies(self, firing: Firing) -> bool:
        return firing.indicator_id != self.id and ("*" in self.spec.applies_to
                                                   or firing.indicator_id in self.spec.applies_to)

    def modify(self, firing: Firing) -> None:
        """Raise the firing's severity when its event time is within the days around a symbolic date."""
        if not self.applies(firing):
            return
        day = firing.at.date()
        for sd in self.spec.dates:
            month, dom = int(sd.date[:2]), int(sd.date[3:])
            for year in (day.year - 1, day.year, day.year + 1):
                try:
                    anchor = date(year, month, dom)
                except ValueError:
                    continue
                if abs((day - anchor).days) <= sd.days:
                    firing.raise_severity(self.spec.raise_by, {
                        "indicator": self.id, "date": anchor.isoformat(), "name": sd.name})
                    return
