"""User administration (admin role): create users, change roles, reset passwords, disable accounts."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from app.accounts import service as accounts
from app.accounts.deps import require_role
from app.accounts.models import ROLES, User
from app.web.deps import SESSION, get_or_404
from app.web.inbox.common import see_other
from app.web.inbox.templating import flash, render

router = APIRouter()


@router.get("/admin/users")
def users(request: Request, user: User = Depends(require_role("admin")),
          session: Session = SESSION) -> Response:
    return render(request, "users.html", {"user": user, "users": accounts.list_users(session), "roles": ROLES})


@router.post("/admin/users")
def add(request: Request, username: str = Form(""), password: str = Form(""), role: str = Form("viewer"),
        user: User = Depends(require_role("admin")), session: Session = SESSION) -> Response:
    try:
        made = accounts.create_user(session, username, password, role)
        flash(request, f"user {made.username} ({made.role}) created")
    except accounts.AccountError as e:
        flash(request, str(e), "error")
    return see_other("/admin/users")


@router.post("/admin/users/{user_id}")
def change(request: Request, user_id: int, role: str = Form(""), password: str = Form(""), disabled: str = Form(""),
           user: User = Depends(require_role("admin")), session: Session = SESSION) -> Response:
    target = get_or_404(session, User, user_id, "user")
    try:
        leaving_admin = target.role == "admin" and not target.disabled and (role not in ("", "admin") or disabled)
        if leaving_admin and accounts.count_admins(session) <= 1:
            raise accounts.AccountError("keep at least one enabled admin")
        if role and role != target.role:
            accounts.set_role(session, target, role)
        if password:
            accounts.set_password(session, target, password)
        if disabled in ("0", "1") and (disabled == "1") != target.disabled:
            accounts.set_disabled(session, target, disabled == "1")
        flash(request, f"user {target.username} updated")
    except accounts.AccountError as e:
        flash(request, str(e), "error")
    return see_other("/admin/users")
