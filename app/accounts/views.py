"""Sign in and sign out (HTML forms, CSRF-checked like every other form)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from app.accounts.deps import current_user
from app.accounts.models import User
from app.accounts.service import Throttled, authenticate
from app.accounts.sessions import csrf_protect, end_session, start_session
from app.db import utcnow
from app.web.deps import SESSION
from app.web.inbox.common import local_path, see_other
from app.web.inbox.templating import render

router = APIRouter(dependencies=[Depends(csrf_protect)], include_in_schema=False)


@router.get("/login")
def login_form(request: Request, next: str = "/inbox", user: User | None = Depends(current_user)) -> Response:
    return render(request, "login.html", {"next": local_path(next, "/inbox"), "error": None, "username": "",
                                          "signed_in": user})


@router.post("/login")
def login(request: Request, username: str = Form(""), password: str = Form(""), next: str = Form("/inbox"),
          session: Session = SESSION) -> Response:
    target = local_path(next, "/inbox")
    address = request.client.host if request.client else "unknown"
    try:
        user = authenticate(session, username, password, address, utcnow())
    except Throttled as t:
        minutes = max(1, round((t.retry_after - utcnow()).total_seconds() / 60))
        return render(request, "login.html", {
            "next": target, "username": username, "signed_in": None,
            "error": f"Too many failed sign-ins for {username!r} from here. Try again in {minutes} min."},
            status_code=429, headers={"Retry-After": str(minutes * 60)})
    if user is None:
        return render(request, "login.html", {"next": target, "username": username, "signed_in": None,
                                              "error": "Wrong username or password."}, status_code=401)
    start_session(request, user)
    return see_other(target)


@router.post("/logout")
def logout(request: Request) -> Response:
    end_session(request)
    return see_other("/login")
