"""Keyset pagination cursors: opaque, stable under inserts, no OFFSET scans."""

from __future__ import annotations

import base64
from datetime import datetime

from fastapi import HTTPException


def encode_cursor(at: datetime, row_id: int) -> str:
    return base64.urlsafe_b64encode(f"{at.isoformat()}|{row_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        at, row_id = raw.rsplit("|", 1)
        return datetime.fromisoformat(at), int(row_id)
    except (ValueError, UnicodeDecodeError):
        raise HTTPException(400, "invalid cursor: pass back the next_cursor of a previous page") from None
