"""The officers' HTML pages (inbox, alert, board, feed health, silences, users), CSRF-checked on every form."""

from fastapi import APIRouter, Depends

from app.accounts.sessions import csrf_protect
from app.web.inbox import alerts, board, inbox, silences, users

router = APIRouter(dependencies=[Depends(csrf_protect)], include_in_schema=False)
for _module in (inbox, alerts, board, silences, users):
    router.include_router(_module.router)
