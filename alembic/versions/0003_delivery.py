"""delivery: subscriptions, webhook endpoints, the outbox, deliveries and attempts, digest ledger, groups

Revision ID: 0003
Revises: 0001

The collector's cursors start at the current end of `alert_events` and `scenario_level_events`, so
an existing installation announces what happens from now on, not its whole history.
"""

import sqlalchemy as sa
from alembic import op

import app.db

revision = "0003"
down_revision = "0001"
branch_labels = None
depends_on = None

UTC = app.db.UTCDateTime(timezone=True)


def _partial(condition: str) -> dict:
    return {"postgresql_where": sa.text(condition), "sqlite_where": sa.text(condition)}


def upgrade() -> None:
    op.create_table(
        "notify_cursors",
        sa.Column("name", sa.String(50), nullable=False),
        sa.Column("last_id", sa.Integer(), nullable=False),
        sa.Column("gaps", sa.JSON(), nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_notify_cursors"),
    )
    op.create_table(
        "webhook_endpoints",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(2000), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("event_types", sa.JSON(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("disabled_reason", sa.Text(), nullable=True),
        sa.Column("secret", sa.String(100), nullable=False),
        sa.Column("previous_secret", sa.String(100), nullable=True),
        sa.Column("previous_secret_expires_at", UTC, nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_webhook_endpoints"),
    )
    op.create_table(
        "subscriptions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("channel", sa.String(10), nullable=False),
        sa.Column("email", sa.String(320), nullable=True),
        sa.Column("endpoint_id", sa.Integer(), nullable=True),
        sa.Column("mode", sa.String(10), nullable=False),
        sa.Column("digest_time", sa.String(5), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("send_empty", sa.Boolean(), nullable=False),
        sa.Column("scenarios", sa.JSON(), nullable=False),
        sa.Column("indicators", sa.JSON(), nullable=False),
        sa.Column("min_severity", sa.String(10), nullable=False),
        sa.Column("statuses", sa.JSON(), nullable=False),
        sa.Column("confirmed_at", UTC, nullable=True),
        sa.Column("confirm_sent_at", UTC, nullable=True),
        sa.Column("confirm_lease_until", UTC, nullable=True),
        sa.Column("unsubscribed_at", UTC, nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(["endpoint_id"], ["webhook_endpoints.id"],
                                name="fk_subscriptions_endpoint_id_webhook_endpoints", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_subscriptions"),
    )
    op.create_index("ix_subscriptions_mode", "subscriptions", ["mode", "channel"])
    op.create_table(
        "outbox_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.String(40), nullable=False),
        sa.Column("type", sa.String(40), nullable=False),
        sa.Column("source", sa.String(60), nullable=False),
        sa.Column("occurred_at", UTC, nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=True),
        sa.Column("indicator_id", sa.String(100), nullable=True),
        sa.Column("scenario_ids", sa.JSON(), nullable=False),
        sa.Column("severity", sa.String(10), nullable=True),
        sa.Column("silenced", sa.Boolean(), nullable=False),
        sa.Column("escalated", sa.Boolean(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("target_endpoint_id", sa.Integer(), nullable=True),
        sa.Column("fanned_out_at", UTC, nullable=True),
        sa.Column("routed_at", UTC, nullable=True),
        sa.ForeignKeyConstraint(["target_endpoint_id"], ["webhook_endpoints.id"],
                                name="fk_outbox_events_target_endpoint_id_webhook_endpoints", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_outbox_events"),
        sa.UniqueConstraint("event_id", name="uq_outbox_events_event_id"),
        sa.UniqueConstraint("source", name="uq_outbox_events_source"),
    )
    op.create_index("ix_outbox_events_unfanned", "outbox_events", ["id"], **_partial("fanned_out_at IS NULL"))
    op.create_index("ix_outbox_events_unrouted", "outbox_events", ["id"], **_partial("routed_at IS NULL"))
    op.create_index("ix_outbox_events_occurred", "outbox_events", ["occurred_at", "id"])
    op.create_index("ix_outbox_events_alert", "outbox_events", ["alert_id", "id"])
    op.create_table(
        "deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("endpoint_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UTC, nullable=False),
        sa.Column("lease_until", UTC, nullable=True),
        sa.Column("claim_token", sa.String(32), nullable=True),
        sa.Column("last_status_code", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("delivered_at", UTC, nullable=True),
        sa.ForeignKeyConstraint(["event_id"], ["outbox_events.id"], name="fk_deliveries_event_id_outbox_events",
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["endpoint_id"], ["webhook_endpoints.id"],
                                name="fk_deliveries_endpoint_id_webhook_endpoints", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_deliveries"),
        sa.UniqueConstraint("event_id", "endpoint_id", name="uq_deliveries_event_endpoint"),
    )
    op.create_index("ix_deliveries_due", "deliveries", ["endpoint_id", "next_attempt_at"],
                    **_partial("status = 'pending'"))
    op.create_index("ix_deliveries_created", "deliveries", ["created_at", "id"])
    op.create_index("ix_deliveries_endpoint", "deliveries", ["endpoint_id", "created_at", "id"])
    op.create_table(
        "delivery_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("delivery_id", sa.Integer(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("at", UTC, nullable=False),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("latency_ms", sa.Integer(), nullable=False),
        sa.Column("response", sa.Text(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["delivery_id"], ["deliveries.id"],
                                name="fk_delivery_attempts_delivery_id_deliveries", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_delivery_attempts"),
    )
    op.create_index("ix_delivery_attempts_delivery", "delivery_attempts", ["delivery_id", "id"])
    op.create_table(
        "digest_ledger",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subscription_id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(10), nullable=False),
        sa.Column("state", sa.String(12), nullable=False),
        sa.Column("window_start", UTC, nullable=False),
        sa.Column("window_end", UTC, nullable=False),
        sa.Column("message_id", sa.String(200), nullable=False),
        sa.Column("claim_token", sa.String(32), nullable=True),
        sa.Column("lease_until", UTC, nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("claimed_at", UTC, nullable=False),
        sa.Column("sent_at", UTC, nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["subscription_id"], ["subscriptions.id"],
                                name="fk_digest_ledger_subscription_id_subscriptions", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_digest_ledger"),
        sa.UniqueConstraint("subscription_id", "period", name="uq_digest_ledger_subscription_period"),
    )
    op.create_index("ix_digest_ledger_open", "digest_ledger", ["state", "lease_until"])
    op.create_table(
        "notification_groups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subscription_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("opened_at", UTC, nullable=False),
        sa.Column("send_after", UTC, nullable=False),
        sa.Column("lease_until", UTC, nullable=True),
        sa.Column("claim_token", sa.String(32), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("sent_at", UTC, nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["subscription_id"], ["subscriptions.id"],
                                name="fk_notification_groups_subscription_id_subscriptions", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_notification_groups"),
    )
    op.create_index("ix_notification_groups_due", "notification_groups", ["send_after"], **_partial("state = 'open'"))
    op.create_index("uq_notification_groups_open", "notification_groups", ["subscription_id"], unique=True,
                    **_partial("state = 'open'"))
    op.create_table(
        "notification_items",
        sa.Column("subscription_id", sa.Integer(), nullable=False),
        sa.Column("outbox_event_id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["subscription_id"], ["subscriptions.id"],
                                name="fk_notification_items_subscription_id_subscriptions", ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["outbox_event_id"], ["outbox_events.id"],
                                name="fk_notification_items_outbox_event_id_outbox_events", ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["group_id"], ["notification_groups.id"],
                                name="fk_notification_items_group_id_notification_groups", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("subscription_id", "outbox_event_id", name="pk_notification_items"),
    )
    op.create_index("ix_notification_items_group_id", "notification_items", ["group_id"])

    conn = op.get_bind()
    now = app.db.utcnow()
    cursors = sa.table("notify_cursors", sa.column("name", sa.String), sa.column("last_id", sa.Integer),
                       sa.column("gaps", sa.JSON), sa.column("updated_at", UTC))
    rows = [{"name": source, "last_id": conn.scalar(sa.text(f"SELECT COALESCE(MAX(id), 0) FROM {source}")),
             "gaps": {}, "updated_at": now} for source in ("alert_events", "scenario_level_events")]
    op.bulk_insert(cursors, rows)


def downgrade() -> None:
    for table in ("notification_items", "notification_groups", "digest_ledger", "delivery_attempts", "deliveries",
                  "outbox_events", "subscriptions", "webhook_endpoints", "notify_cursors"):
        op.drop_table(table)
