"""Rule kinds: one module each, all registered in base.REGISTRY by their `kind`."""

from app.matching.rules import (  # noqa: F401  (importing registers the kinds)
    absence,
    calendar,
    composite,
    coordination,
    match,
    new_entity,
    quantity,
    rate,
)
from app.matching.rules.base import REGISTRY, Firing, ItemRule, ItemView, Rule, WindowRule

__all__ = ["REGISTRY", "Firing", "ItemRule", "ItemView", "Rule", "WindowRule"]
