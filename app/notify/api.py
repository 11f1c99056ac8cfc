"""Delivery API: subscriptions, webhook endpoints and their secrets, the delivery log, dead letters."""

from __future__ import annotations

import json

from fastapi import APIRouter, Depends, HTTPException, Query, Response
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from app.context import AppContext
from app.db import utcnow
from app.notify import service
from app.notify.models import Delivery, DeliveryAttempt, DigestLedger, OutboxEvent, Subscription, WebhookEndpoint
from app.notify.payloads import envelope, names_for
from app.notify.schemas import (
    AttemptOut,
    DeliveryDetail,
    DeliveryOut,
    DeliveryPage,
    EndpointCreated,
    EndpointIn,
    EndpointOut,
    EndpointPatch,
    EndpointSecret,
    LedgerOut,
    Redelivered,
    SubscriptionIn,
    SubscriptionOut,
    SubscriptionPatch,
)
from app.notify.webhooks import redeliver
from app.web.auth import require_api_key
from app.web.deps import SESSION, get_context, get_or_404
from app.web.pagination import decode_cursor, encode_cursor

router = APIRouter(prefix="/api/v1", tags=["delivery"], dependencies=[Depends(require_api_key)])


def _sub_out(sub: Subscription) -> SubscriptionOut:
    return SubscriptionOut.model_validate(sub, from_attributes=True)


def _unprocessable(e: service.NotifyError) -> HTTPException:
    return HTTPException(422, str(e))


@router.get("/subscriptions", response_model=list[SubscriptionOut])
def list_subscriptions(session: Session = SESSION):
    return [_sub_out(s) for s in session.scalars(select(Subscription).order_by(Subscription.id))]


@router.post("/subscriptions", response_model=SubscriptionOut, status_code=201)
def create_subscription(data: SubscriptionIn, session: Session = SESSION,
                        ctx: AppContext = Depends(get_context)):
    """Email subscriptions are sent a confirmation link first; nothing else goes out until it is used."""
    try:
        sub = service.create_subscription(session, data, settings=ctx.settings, names=names_for(ctx, session))
    except service.NotifyError as e:
        raise _unprocessable(e) from None
    return _sub_out(sub)


@router.get("/subscriptions/{sub_id}", response_model=SubscriptionOut)
def get_subscription(sub_id: int, session: Session = SESSION):
    return _sub_out(get_or_404(session, Subscription, sub_id, "subscription"))


@router.patch("/subscriptions/{sub_id}", response_model=SubscriptionOut)
def update_subscription(sub_id: int, patch: SubscriptionPatch,
                        session: Session = SESSION,
                        ctx: AppContext = Depends(get_context)):
    sub = get_or_404(session, Subscription, sub_id, "subscription")
    try:
        service.update_subscription(session, sub, patch, names=names_for(ctx, session))
    except service.NotifyError as e:
        raise _unprocessable(e) from None
    return _sub_out(sub)


@router.delete("/subscriptions/{sub_id}", status_code=204)
def delete_subscription(sub_id: int, session: Session = SESSION) -> Response:
    session.delete(get_or_404(session, Subscription, sub_id, "subscription"))
    return Response(status_code=204)


@router.post("/subscriptions/{sub_id}/confirmation", response_model=SubscriptionOut)
def resend_confirmation(sub_id: int, session: Session = SESSION):
    """Send the confirmation email again (on the next tick)."""
    sub = get_or_404(session, Subscription, sub_id, "subscription")
    try:
        service.resend_confirmation(sub)
    except service.NotifyError as e:
        raise _unprocessable(e) from None
    return _sub_out(sub)


@router.get("/subscriptions/{sub_id}/digests", response_model=list[LedgerOut])
def digest_ledger(sub_id: int, limit: int = Query(30, ge=1, le=365),
                  session: Session = SESSION):
    """The digest ledger: one row per period, with its state (sent, skipped, uncertain, …)."""
    get_or_404(session, Subscription, sub_id, "subscription")
    rows = session.scalars(select(DigestLedger).where(DigestLedger.subscription_id == sub_id)
                           .order_by(DigestLedger.period.desc()).limit(limit))
    return [LedgerOut.model_validate(r, from_attributes=True) for r in rows]


@router.get("/webhook-endpoints", response_model=list[EndpointOut])
def list_endpoints(session: Session = SESSION):
    return [EndpointOut.model_validate(e, from_attributes=True)
            for e in session.scalars(select(WebhookEndpoint).order_by(WebhookEndpoint.id))]


@router.post("/webhook-endpoints", response_model=EndpointCreated, status_code=201)
def create_endpoint(data: EndpointIn, session: Session = SESSION,
                    ctx: AppContext = Depends(get_context)):
    """Register an endpoint; the response carries its signing secret. URLs resolving to loopback, private,
    link-local or metadata addresses are refused unless WATCHFLOOR_WEBHOOK_ALLOW_NETWORKS allows them."""
    try:
        ep = service.create_endpoint(session, data, settings=ctx.settings)
    except service.NotifyError as e:
        raise _unprocessable(e) from None
    return EndpointCreated(**EndpointOut.model_validate(ep, from_attributes=True).model_dump(), secret=ep.secret)


@router.get("/webhook-endpoints/{ep_id}", response_model=EndpointOut)
def get_endpoint(ep_id: int, session: Session = SESSION):
    ep = get_or_404(session, WebhookEndpoint, ep_id, "webhook endpoint")
    return EndpointOut.model_validate(ep, from_attributes=True)


@router.patch("/webhook-endpoints/{ep_id}", response_model=EndpointOut)
def update_endpoint(ep_id: int, patch: EndpointPatch, session: Session = SESSION,
                    ctx: AppContext = Depends(get_context)):
    """Change URL, event types, or enable/disable (re-enabling resumes its pending deliveries)."""
    ep = get_or_404(session, WebhookEndpoint, ep_id, "webhook endpoint")
    try:
        service.update_endpoint(session, ep, patch, settings=ctx.settings)
    except service.NotifyError as e:
        raise _unprocessable(e) from None
    return EndpointOut.model_validate(ep, from_attributes=True)


@router.delete("/webhook-endpoints/{ep_id}", status_code=204)
def delete_endpoint(ep_id: int, session: Session = SESSION) -> Response:
    session.delete(get_or_404(session, WebhookEndpoint, ep_id, "webhook endpoint"))
    return Response(status_code=204)


@router.get("/webhook-endpoints/{ep_id}/secret", response_model=EndpointSecret)
def get_secret(ep_id: int, session: Session = SESSION):
    ep = get_or_404(session, WebhookEndpoint, ep_id, "webhook endpoint")
    return EndpointSecret(secret=ep.secret, previous_secret_expires_at=ep.previous_secret_expires_at)


@router.post("/webhook-endpoints/{ep_id}/rotate-secret", response_model=EndpointSecret)
def rotate_secret(ep_id: int, session: Session = SESSION,
                  ctx: AppContext = Depends(get_context)):
    """A new secret; until `previous_secret_expires_at` every request carries both signatures."""
    ep = get_or_404(session, WebhookEndpoint, ep_id, "webhook endpoint")
    service.rotate_secret(session, ep, settings=ctx.settings, now=utcnow())
    return EndpointSecret(secret=ep.secret, previous_secret_expires_at=ep.previous_secret_expires_at)


@router.post("/webhook-endpoints/{ep_id}/redeliver-dead", response_model=Redelivered)
def redeliver_dead(ep_id: int, session: Session = SESSION):
    """Queue every dead letter of the endpoint again, with a fresh retry schedule."""
    get_or_404(session, WebhookEndpoint, ep_id, "webhook endpoint")
    return Redelivered(redelivered=service.redeliver_dead(session, ep_id, utcnow()))


def _delivery_out(d: Delivery, ev: OutboxEvent) -> dict:
    return {**{k: getattr(d, k) for k in DeliveryOut.model_fields if hasattr(d, k)},
            "webhook_id": ev.event_id, "event_type": ev.type}


@router.get("/deliveries", response_model=DeliveryPage)
def list_deliveries(
    endpoint_id: int | None = Query(None), status: str | None = Query(None, description="pending, succeeded or dead"),
    limit: int = Query(50, ge=1, le=500), cursor: str | None = Query(None),
    session: Session = SESSION,
):
    """The delivery log, newest first (keyset-paginated); `status=dead` lists the dead letters."""
    q = (select(Delivery, OutboxEvent).join(OutboxEvent, OutboxEvent.id == Delivery.event_id)
         .order_by(Delivery.created_at.desc(), Delivery.id.desc()).limit(limit + 1))
    if endpoint_id is not None:
        q = q.where(Delivery.endpoint_id == endpoint_id)
    if status:
        q = q.where(Delivery.status == status)
    if cursor:
        at, did = decode_cursor(cursor)
        q = q.where(or_(Delivery.created_at < at, and_(Delivery.created_at == at, Delivery.id < did)))
    rows = session.execute(q).all()
    page = rows[:limit]
    nxt = encode_cursor(page[-1][0].created_at, page[-1][0].id) if len(rows) > limit else None
    return DeliveryPage(items=[DeliveryOut(**_delivery_out(d, ev)) for d, ev in page], next_cursor=nxt)


@router.get("/deliveries/{delivery_id}", response_model=DeliveryDetail)
def get_delivery(delivery_id: int, session: Session = SESSION):
    """One delivery with its payload and every attempt (status, latency, start of the response)."""
    d = get_or_404(session, Delivery, delivery_id, "delivery")
    ev = session.get(OutboxEvent, d.event_id)
    log = session.scalars(select(DeliveryAttempt).where(DeliveryAttempt.delivery_id == d.id)
                          .order_by(DeliveryAttempt.id))
    return DeliveryDetail(**_delivery_out(d, ev), payload=json.loads(envelope(ev.event_id, ev.type, ev.occurred_at,
                                                                              ev.payload)),
                          log=[AttemptOut.model_validate(a, from_attributes=True) for a in log])


@router.post("/deliveries/{delivery_id}/redeliver", response_model=DeliveryOut)
def redeliver_one(delivery_id: int, session: Session = SESSION):
    """Send a delivery again now (a dead letter, or a delivered one the receiver lost), same webhook-id."""
    d = get_or_404(session, Delivery, delivery_id, "delivery")
    redeliver(session, d, utcnow())
    return DeliveryOut(**_delivery_out(d, session.get(OutboxEvent, d.event_id)))
