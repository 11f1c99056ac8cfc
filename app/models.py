"""Imports every domain's models so Base.metadata (and Alembic) sees the whole schema."""

import app.notify.models  # noqa: F401 - the delivery tables
from app.accounts.models import LoginThrottle, User
from app.alerts.models import Alert, AlertEvent, AlertHit, Story, StoryItem
from app.db import Base
from app.ingest.models import Feed, Item
from app.matching.models import GazetteerAddition, Hit, Observation, RuleState, ScenarioLevelEvent, Sighting
from app.web.models import ApiKey

__all__ = [
    "Alert", "AlertEvent", "AlertHit", "ApiKey", "Base", "Feed", "GazetteerAddition", "Hit", "Item",
    "LoginThrottle", "Observation", "RuleState", "ScenarioLevelEvent", "Sighting", "Story", "StoryItem", "User",
]
