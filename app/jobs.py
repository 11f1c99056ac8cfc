"""The shape of a scheduled job, shared by every package's jobs module."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from app.context import AppContext


@dataclass(frozen=True)
class Job:
    """A coroutine run every `seconds` (never two at once in one process)."""

    id: str
    run: Callable[[AppContext], Awaitable[object]]
    seconds: Callable[[AppContext], float]
