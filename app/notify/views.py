"""Pages to manage subscriptions and webhook endpoints, and the signed unsubscribe/confirm pages (no login)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.responses import Response

from app.accounts.deps import current_user, require_role
from app.accounts.models import User
from app.accounts.sessions import csrf_protect
from app.alerts.triage import STATUSES
from app.context import AppContext
from app.db import utcnow
from app.matching.schema import SEVERITIES
from app.notify import service
from app.notify.models import Delivery, DeliveryAttempt, OutboxEvent, Subscription, WebhookEndpoint
from app.notify.payloads import EVENT_TYPES, names_for
from app.notify.schemas import EndpointIn, EndpointPatch, SubscriptionIn
from app.notify.webhooks import redeliver
from app.web.deps import SESSION, get_context, get_or_404
from app.web.inbox.common import see_other
from app.web.inbox.templating import flash, render

manage = APIRouter(dependencies=[Depends(csrf_protect)])
public = APIRouter()


def _problem(e: ValidationError | service.NotifyError) -> str:
    if isinstance(e, ValidationError):
        return "; ".join(f"{'.'.join(str(p) for p in err['loc']) or 'form'}: {err['msg']}" for err in e.errors())
    return str(e)


@manage.get("/notify")
def overview(request: Request, user: User = Depends(require_role("viewer")),
             session: Session = SESSION,
             ctx: AppContext = Depends(get_context)) -> Response:
    names = names_for(ctx, session)
    return render(request, "notify/index.html", {
        "user": user, "nav": "notify", "settings": ctx.settings,
        "subscriptions": session.scalars(select(Subscription).order_by(Subscription.id)).all(),
        "endpoints": session.scalars(select(WebhookEndpoint).order_by(WebhookEndpoint.id)).all(),
        "scenarios": sorted(names.scenarios.values(), key=lambda s: s.name),
        "indicators": sorted(names.indicators.values(), key=lambda i: i.name),
        "severities": SEVERITIES, "statuses": STATUSES, "event_types": EVENT_TYPES})


@manage.post("/notify/subscriptions")
def create_subscription(
    request: Request, email: str = Form(""), endpoint_id: str = Form(""), mode: str = Form("digest"),
    name: str = Form(""), digest_time: str = Form(""), timezone: str = Form(""), send_empty: str = Form(""),
    scenarios: list[str] = Form([]), indicators: list[str] = Form([]), min_severity: str = Form("info"),
    statuses: list[str] = Form([]), user: User = Depends(require_role("officer")),
    session: Session = SESSION, ctx: AppContext = Depends(get_context),
) -> Response:
    try:
        data = SubscriptionIn(
            name=name, email=email.strip() or None, endpoint_id=int(endpoint_id) if endpoint_id.isdigit() else None,
            mode=mode,
            digest_time=digest_time or None, timezone=timezone.strip() or None, send_empty=send_empty == "on",
            scenarios=scenarios, indicators=indicators, min_severity=min_severity, statuses=statuses)
        sub = service.create_subscription(session, data, settings=ctx.settings, names=names_for(ctx, session))
    except (ValidationError, service.NotifyError) as e:
        flash(request, _problem(e), "error")
        return see_other("/notify")
    flash(request, f"subscription #{sub.id} created" +
          (f"; a confirmation link is on its way to {sub.email}" if sub.email else ""))
    return see_other("/notify")


@manage.post("/notify/subscriptions/{sub_id}/delete")
def delete_subscription(request: Request, sub_id: int, user: User = Depends(require_role("officer")),
                        session: Session = SESSION) -> Response:
    session.delete(get_or_404(session, Subscription, sub_id, "subscription"))
    flash(request, f"subscription #{sub_id} deleted")
    return see_other("/notify")


@manage.post("/notify/subscriptions/{sub_id}/confirmation")
def resend_confirmation(request: Request, sub_id: int, user: User = Depends(require_role("officer")),
                        session: Session = SESSION) -> Response:
    sub = get_or_404(session, Subscription, sub_id, "subscription")
    try:
        service.resend_confirmation(sub)
        flash(request, f"the confirmation email to {sub.email} will be sent again")
    except service.NotifyError as e:
        flash(request, str(e), "error")
    return see_other("/notify")


@manage.post("/notify/endpoints")
def create_endpoint(request: Request, url: str = Form(...), description: str = Form(""),
                    event_types: list[str] = Form([]), user: User = Depends(require_role("admin")),
                    session: Session = SESSION,
                    ctx: AppContext = Depends(get_context)) -> Response:
    try:
        ep = service.create_endpoint(session, EndpointIn(url=url, description=description, event_types=event_types),
                                     settings=ctx.settings)
    except (ValidationError, service.NotifyError) as e:
        flash(request, _problem(e), "error")
        return see_other("/notify")
    flash(request, f"endpoint #{ep.id} registered; its signing secret is on its page")
    return see_other(f"/notify/endpoints/{ep.id}")


def _endpoint(session: Session, ep_id: int) -> WebhookEndpoint:
    return get_or_404(session, WebhookEndpoint, ep_id, "webhook endpoint")


@manage.get("/notify/endpoints/{ep_id}")
def endpoint_page(request: Request, ep_id: int, user: User = Depends(require_role("admin")),
                  session: Session = SESSION) -> Response:
    ep = _endpoint(session, ep_id)
    rows = session.execute(select(Delivery, OutboxEvent).join(OutboxEvent, OutboxEvent.id == Delivery.event_id)
                           .where(Delivery.endpoint_id == ep_id)
                           .order_by(Delivery.created_at.desc(), Delivery.id.desc()).limit(50)).all()
    last = {}
    if rows:
        for a in session.scalars(select(DeliveryAttempt).where(DeliveryAttempt.delivery_id.in_([d.id for d, _ in rows]))
                                 .order_by(DeliveryAttempt.id)):
            last[a.delivery_id] = a
    dead = session.query(Delivery).filter_by(endpoint_id=ep_id, status="dead").count()
    return render(request, "notify/endpoint.html", {"user": user, "nav": "notify", "ep": ep, "rows": rows,
                                                    "last": last, "dead": dead, "now": utcnow()})


@manage.post("/notify/endpoints/{ep_id}/rotate")
def rotate(request: Request, ep_id: int, user: User = Depends(require_role("admin")),
           session: Session = SESSION,
           ctx: AppContext = Depends(get_context)) -> Response:
    ep = service.rotate_secret(session, _endpoint(session, ep_id), settings=ctx.settings, now=utcnow())
    flash(request, f"new secret; the old one keeps signing until {ep.previous_secret_expires_at:%Y-%m-%d %H:%M} UTC")
    return see_other(f"/notify/endpoints/{ep_id}")


@manage.post("/notify/endpoints/{ep_id}/enabled")
def set_enabled(request: Request, ep_id: int, enabled: str = Form(...), user: User = Depends(require_role("admin")),
                session: Session = SESSION,
                ctx: AppContext = Depends(get_context)) -> Response:
    service.update_endpoint(session, _endpoint(session, ep_id), EndpointPatch(enabled=enabled == "1"),
                            settings=ctx.settings)
    return see_other(f"/notify/endpoints/{ep_id}")


@manage.post("/notify/endpoints/{ep_id}/delete")
def delete_endpoint(request: Request, ep_id: int, user: User = Depends(require_role("admin")),
                    session: Session = SESSION) -> Response:
    session.delete(_endpoint(session, ep_id))
    flash(request, f"endpoint #{ep_id} deleted with its deliveries")
    return see_other("/notify")


@manage.post("/notify/endpoints/{ep_id}/redeliver-dead")
def redeliver_dead(request: Request, ep_id: int, user: User = Depends(require_role("admin")),
                   session: Session = SESSION) -> Response:
    n = service.redeliver_dead(session, _endpoint(session, ep_id).id, utcnow())
    flash(request, f"{n} dead deliveries queued again")
    return see_other(f"/notify/endpoints/{ep_id}")


@manage.post("/notify/deliveries/{delivery_id}/redeliver")
def redeliver_one(request: Request, delivery_id: int, user: User = Depends(require_role("admin")),
                  session: Session = SESSION) -> Response:
    d = get_or_404(session, Delivery, delivery_id, "delivery")
    redeliver(session, d, utcnow())
    flash(request, f"delivery #{delivery_id} queued again")
    return see_other(f"/notify/endpoints/{d.endpoint_id}")


def _by_token(session: Session, ctx: AppContext, purpose: str, token: str) -> Subscription:
    if purpose not in ("unsubscribe", "confirm"):
        raise HTTPException(404)
    sub = service.from_token(session, ctx.settings, purpose, token)
    if sub is None:
        raise HTTPException(404, "this link is not valid (any more)")
    return sub


@public.get("/notify/{purpose}/{token}")
def token_page(request: Request, purpose: str, token: str, session: Session = SESSION,
               ctx: AppContext = Depends(get_context), user: User | None = Depends(current_user)) -> Response:
    """A page with one button: link scanners prefetch GETs, so only the POST changes anything."""
    sub = _by_token(session, ctx, purpose, token)
    return render(request, "notify/token.html", {"user": user, "purpose": purpose, "sub": sub, "done": False})


@public.post("/notify/{purpose}/{token}")
def token_action(request: Request, purpose: str, token: str, session: Session = SESSION,
                 ctx: AppContext = Depends(get_context), user: User | None = Depends(current_user)) -> Response:
    """Unsubscribe (RFC 8058 one-click POSTs land here too) or confirm; the signed token is the authority."""
    sub = _by_token(session, ctx, purpose, token)
    (service.unsubscribe if purpose == "unsubscribe" else service.confirm)(sub, utcnow())
    return render(request, "notify/token.html", {"user": user, "purpose": purpose, "sub": sub, "done": True})


router = APIRouter(include_in_schema=False)
router.include_router(manage)
router.include_router(public)
