"""Fixtures for the HTML pages: users of each role, signed-in clients, and alerts made by the real pipeline."""

from __future__ import annotations

import re

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient

from app.accounts import service as accounts
from app.db import transaction

PASSWORD = "a long enough password"
@pytest.fixture(autouse=True)
def fast_hashes(monkeypatch):
    """Cheap argon2 parameters: these tests sign in many times (production parameters: tests/accounts)."""
    monkeypatch.setattr(accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


@pytest.fixture
def users(ctx) -> dict[str, str]:
    with transaction(ctx.sessions) as s:
        for role in ("viewer", "officer", "admin"):
            accounts.create_user(s, role, PASSWORD, role)
    return {"viewer": "viewer", "officer": "officer", "admin": "admin"}


def form_token(html: str) -> str:
    return re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)


def sign_in(client: TestClient, username: str, password: str = PASSWORD, next_: str = "/inbox"):
    token = form_token(client.get("/login").text)
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token,
                                       "next": next_}, follow_redirects=False)


@pytest.fixture
def browser_as(app, users):
    """browser_as(role) -> a TestClient signed in as the user of that role (no API key)."""
    clients = []

    def make(role: str) -> TestClient:
        client = TestClient(app)
        client.__enter__()
        clients.append(client)
        assert sign_in(client, users[role]).status_code == 303
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture(autouse=True)
def _library_once(library_parsed_once):
    """These tests never edit the library: parse its YAML once per run (tests/conftest.py)."""
