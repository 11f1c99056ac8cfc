"""The benchmark's webhook receiver: a bare ASGI app (run by uvicorn) that verifies and logs every request.

One line per request to BENCH_LOG: receipt time, path, webhook-id, the event's timestamp, verified (1/0).
BENCH_SECRETS maps each path to its endpoint secret.
"""

from __future__ import annotations

import json
import os
import time

from standardwebhooks import Webhook

_hooks = {path: Webhook(secret) for path, secret in json.loads(os.environ["BENCH_SECRETS"]).items()}
_log = open(os.environ["BENCH_LOG"], "a", buffering=1, encoding="utf-8")  # noqa: SIM115 - lives as long as the app


async def app(scope, receive, send) -> None:
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        _log.close()
        await send({"type": "lifespan.shutdown.complete"})
        return
    body, more = b"", True
    while more:
        message = await receive()
        body += message.get("body", b"")
        more = message.get("more_body", False)
    at = time.time()
    headers = {k.decode(): v.decode() for k, v in scope["headers"]}
    try:
        doc, ok = _hooks[scope["path"]].verify(body, headers), 1
    except Exception:  # a bad signature is counted, not fatal
        doc, ok = json.loads(body), 0
    _log.write(f"{at:.6f}\t{scope['path']}\t{headers.get('webhook-id')}\t{doc['timestamp']}\t{ok}\n")
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"ok"})
