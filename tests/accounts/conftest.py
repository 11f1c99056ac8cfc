"""Cheap argon2 parameters for these tests: the throttling tests sign in dozens of times.

The production parameters (argon2-cffi's RFC 9106 profile) are checked by a test of their own.
"""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher

from app.accounts import service


@pytest.fixture(autouse=True)
def fast_hashes(monkeypatch):
    monkeypatch.setattr(service, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
