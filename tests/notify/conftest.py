"""Delivery fixtures: a real SMTP server and a real HTTP receiver on loopback; helpers live in wf_notify.py."""

from __future__ import annotations

import socket
import sys
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

sys.path.insert(0, str(Path(__file__).parent))

from wf_notify import Mailbox, Receiver  # noqa: E402


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: runs for several seconds (deselect with -m 'not slow')")


@pytest.fixture(scope="session")
def smtp_server():
    mailbox = Mailbox()
    with socket.socket() as probe:  # aiosmtpd checks readiness by connecting, so it needs a real port up front
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield controller, mailbox
    controller.stop()


@pytest.fixture
def mailbox(smtp_server) -> Mailbox:
    smtp_server[1].messages.clear()
    return smtp_server[1]


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def settings(db_url, make_settings, smtp_server):
    """Loopback SMTP without TLS, the loopback receiver allowed by the SSRF allow-list, short timeouts."""
    return make_settings(db_url, smtp_host="127.0.0.1", smtp_port=smtp_server[0].port, smtp_security="none",
                         mail_from="Watchfloor <watchfloor@example.test>", base_url="https://wf.example.test",
                         webhook_allow_networks="127.0.0.0/8", webhook_timeout=1.0, immediate_group_wait=0.0)


