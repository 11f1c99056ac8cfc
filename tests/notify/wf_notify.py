"""Helpers for the delivery tests: a mailbox for aiosmtpd, an HTTP receiver, and rows to notify about."""

from __future__ import annotations

import email
import email.policy
import threading
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from app.alerts.models import Alert, AlertEvent, AlertHit
from app.ingest.models import Item
from app.matching.models import Hit, ScenarioLevelEvent
from app.notify.models import OutboxEvent


class Mailbox:
    """What the SMTP server accepted: envelope and the parsed message."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], email.message.EmailMessage]] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        msg = email.message_from_bytes(envelope.original_content or envelope.content, policy=email.policy.default)
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), msg))
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[email.message.EmailMessage]:
        return [m for _, rcpt, m in self.messages if address in rcpt]


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float
    answered: int


class Receiver:
    """A webhook receiver that answers from a per-path plan: 200, 500, 410, 302, `429:<s>`, `timeout`, …"""

    def __init__(self) -> None:
        self.requests: list[Received] = []
        self.plans: dict[str, list[str]] = defaultdict(list)
        self.delay = 0.0
        self.hang = 3.0
        self.inflight = 0
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 - http.server's hook name
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                with receiver.lock:
                    plan = receiver.plans[self.path]
                    step = plan.pop(0) if plan else "200"
                    stalls = step == "timeout"
                    code, _, arg = ("200" if stalls else step).partition(":")
                    receiver.inflight += 1
                    receiver.requests.append(Received(self.path, {k.lower(): v for k, v in self.headers.items()},
                                                      body, time.time(), int(code)))
                try:
                    time.sleep(receiver.delay + (receiver.hang if stalls else 0))
                    self.send_response(int(code))
                    if arg:
                        self.send_header("Retry-After", arg)
                    if code.startswith("3"):
                        self.send_header("Location", f"http://127.0.0.1:{receiver.port}/elsewhere")
                    reply = b"x" * 5000 if code == "500" else b"ok"
                    self.send_header("Content-Length", str(len(reply)))
                    self.end_headers()
                    self.wfile.write(reply)
                except (BrokenPipeError, ConnectionResetError):
                    pass
                finally:
                    with receiver.lock:
                        receiver.inflight -= 1

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def at(self, path: str) -> list[Received]:
        with self.lock:
            return [r for r in self.requests if r.path == path]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def add_alert(session, *, at: datetime, indicator: str = "indirect-fire-attack", severity: str = "medium",
              title: str = "Two rockets hit Camp Taji", status: str = "new") -> Alert:
    """An alert and its `created` audit row, as the alerts service writes them."""
    n = session.query(Alert).count()
    alert = Alert(indicator_id=indicator, group_key=f"{indicator}:test:{n}", status=status, severity=severity,
                  title=title, first_seen_at=at, last_seen_at=at, hit_count=1, library_version="test",
                  created_at=at)
    session.add(alert)
    session.flush()
    session.add(AlertEvent(alert_id=alert.id, at=at, actor="system", action="created", to_value=status))
    session.flush()
    return alert


def add_change(session, alert: Alert, *, at: datetime, action: str, frm: str | None = None,
               to: str | None = None) -> AlertEvent:
    ev = AlertEvent(alert_id=alert.id, at=at, actor="officer1", action=action, from_value=frm, to_value=to)
    session.add(ev)
    if action == "severity":
        alert.severity = to
    elif action == "status":
        alert.status = to
    session.flush()
    return ev


def add_level(session, *, at: datetime, scenario: str = "mlcoa-pressure", level: str = "elevated",
              previous: str = "guarded") -> ScenarioLevelEvent:
    ev = ScenarioLevelEvent(scenario_id=scenario, at=at, level=level, previous=previous, score=6.0,
                            reasons=[{"indicator": "indirect-fire-attack", "weight": 2.0, "items": 3}],
                            library_version="test")
    session.add(ev)
    session.flush()
    return ev


def outbox(session) -> list[OutboxEvent]:
    return list(session.query(OutboxEvent).order_by(OutboxEvent.id))


def add_evidence(session, alert: Alert, *, snippet: str, url: str, at: datetime) -> None:
    """The hit (with its item) behind an alert, so evidence and source links can be shown."""
    item = Item(source="wire", external_id=f"x-{alert.id}", url=url, fingerprint=f"fp{alert.id}", title=alert.title,
                summary=snippet, published_at=at, fetched_at=at)
    session.add(item)
    session.flush()
    hit = Hit(indicator_id=alert.indicator_id, kind="match", item_id=item.id, item_ids=[item.id], at=at,
              severity=alert.severity, evidence={"terms": {"attack": ["rockets"]}, "snippet": snippet},
              library_version="test")
    session.add(hit)
    session.flush()
    session.add(AlertHit(alert_id=alert.id, hit_id=hit.id))
    session.flush()
