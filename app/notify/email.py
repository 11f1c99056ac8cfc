"""Email: multipart messages rendered from templates/email/, sent over SMTP with aiosmtplib."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import formatdate, parseaddr
from pathlib import Path
from zoneinfo import ZoneInfo

import aiosmtplib
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from app.config import Settings

TEMPLATES = Path(__file__).resolve().parents[2] / "templates" / "email"
_env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]),
                   undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
_env.filters["local"] = lambda at, tz: at.astimezone(ZoneInfo(tz)).strftime("%a %d %b %Y %H:%M %Z")


def render(name: str, **context) -> tuple[str, str]:
    """The text and HTML bodies of `name` (templates `name.txt` and `name.html`)."""
    return _env.get_template(f"{name}.txt").render(**context), _env.get_template(f"{name}.html").render(**context)


def build_message(settings: Settings, *, to: str, subject: str, text: str, html: str, message_id: str,
                  unsubscribe_url: str | None = None) -> EmailMessage:
    """multipart/alternative with the RFC 8058 one-click unsubscribe headers when there is something to leave."""
    msg = EmailMessage()
    msg["From"] = settings.mail_from
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = formatdate(usegmt=True)
    msg["Message-ID"] = message_id
    msg["Auto-Submitted"] = "auto-generated"
    if unsubscribe_url:
        msg["List-Unsubscribe"] = f"<{unsubscribe_url}>"
        msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    msg.set_content(text)
    msg.add_alternative(html, subtype="html")
    return msg


async def send(settings: Settings, msg: EmailMessage, *,
               before_data: Callable[[], Awaitable[None]] | None = None) -> None:
    """Send one message. `before_data` runs once the server accepted sender and recipient, just before the
    content goes out: the last moment at which nothing has reached the server yet."""
    smtp = aiosmtplib.SMTP(
        hostname=settings.smtp_host, port=settings.smtp_port, timeout=settings.smtp_timeout,
        use_tls=settings.smtp_security == "tls", start_tls=settings.smtp_security == "starttls",
        username=settings.smtp_user,
        password=settings.smtp_password.get_secret_value() if settings.smtp_password else None)
    async with smtp:
        await smtp.mail(parseaddr(settings.mail_from)[1])
        await smtp.rcpt(parseaddr(str(msg["To"]))[1])
        if before_data is not None:
            await before_data()
        await smtp.data(msg.as_bytes(policy=SMTP_POLICY))
