"""What a running process shares: settings, the database session factory and the compiled library."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from app.config import Settings
from app.db import make_engine, make_sessionmaker, require_migrated
from app.matching.service import LibraryHolder


@dataclass
class AppContext:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    library: LibraryHolder

    @classmethod
    def create(cls, settings: Settings, *, check_schema: bool = True) -> AppContext:
        """Connect, refuse an un-migrated database, and prepare the library holder."""
        engine = make_engine(settings.database_url)
        if check_schema:
            require_migrated(engine)
        return cls(settings, engine, make_sessionmaker(engine), LibraryHolder(settings.indicators_path))
