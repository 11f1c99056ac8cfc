"""Signed links in emails (unsubscribe, confirm) that work without logging in, and stable Message-IDs."""

from __future__ import annotations

import hashlib
import hmac
from email.utils import parseaddr

from itsdangerous import BadSignature, URLSafeSerializer

from app.config import Settings
from app.notify.models import Subscription


def _serializer(settings: Settings, purpose: str) -> URLSafeSerializer:
    return URLSafeSerializer(settings.secret(), salt=f"watchfloor.notify.{purpose}")


def token(settings: Settings, purpose: str, sub: Subscription) -> str:
    """Names the subscription and the address, so a changed address invalidates old links."""
    return _serializer(settings, purpose).dumps({"s": sub.id, "e": sub.email or ""})


def read_token(settings: Settings, purpose: str, value: str) -> tuple[int, str] | None:
    """(subscription id, address) from a valid token, None from a forged or mangled one."""
    try:
        data = _serializer(settings, purpose).loads(value)
    except BadSignature:
        return None
    return (data["s"], data["e"]) if isinstance(data, dict) and "s" in data and "e" in data else None


def link(settings: Settings, purpose: str, sub: Subscription) -> str:
    return f"{settings.base_url.rstrip('/')}/notify/{purpose}/{token(settings, purpose, sub)}"


def message_id(settings: Settings, key: str) -> str:
    """`<key.mac@domain>`: the same for the same key (digest period, notification group) on this installation."""
    mac = hmac.new(settings.secret().encode(), key.encode(), hashlib.sha256).hexdigest()[:12]
    domain = parseaddr(settings.mail_from)[1].rpartition("@")[2] or "watchfloor.invalid"
    return f"<{key}.{mac}@{domain}>"
