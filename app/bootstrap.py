"""Demo credentials for `make run`: created on first run, kept in var/ (mode 0600), shown every run."""

from __future__ import annotations

import json

from app.accounts.service import first_admin_credentials
from app.context import AppContext
from app.db import transaction
from app.web.auth import create_api_key

CREDENTIAL_STEPS: list = []  # other packages append callables (ctx, session) -> dict of new credentials
CREDENTIAL_STEPS.append(first_admin_credentials)


def ensure_demo_credentials(ctx: AppContext) -> list[str]:
    """Create what is missing (API key, and any registered step such as the first admin) and describe it."""
    path = ctx.settings.var_path / "demo-credentials.json"
    creds = json.loads(path.read_text()) if path.exists() else {}
    with transaction(ctx.sessions) as s:
        if "api_key" not in creds:
            _, creds["api_key"] = create_api_key(s, "demo (make run)")
        for step in CREDENTIAL_STEPS:
            creds.update(step(ctx, s, creds))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(creds, indent=2))
    path.chmod(0o600)
    base = ctx.settings.base_url
    lines = [f"Watchfloor: {base}/  (API docs {base}/docs)"]
    if "admin_user" in creds:
        lines.append(f"  inbox login: {creds['admin_user']} / {creds['admin_password']}")
    lines.append(f"  API key:     {creds['api_key']}   (curl -H 'Authorization: Bearer …' {base}/api/v1/hits)")
    lines.append(f"  (kept in {path})")
    return lines
