"""inbox: users, login throttling, silences, saved views, alert sources, full-text search over items

Revision ID: 0002
Revises: 0001

Full-text search differs by backend: PostgreSQL gets a GIN index over a `simple` tsvector expression
of the item text (no stemming, so English and Arabic are treated alike); SQLite gets an FTS5 table
with external content kept in step with `items` by triggers. A later SQLite batch migration that
recreates `items` must recreate those triggers.
"""

import sqlalchemy as sa
from alembic import op

import app.db

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# Must stay identical to app.alerts.search.PG_DOCUMENT, or PostgreSQL will not use the index.
PG_DOCUMENT = "to_tsvector('simple'::regconfig, left(title || ' ' || summary || ' ' || content, 100000))"

SQLITE_FTS = [
    "CREATE VIRTUAL TABLE items_fts USING fts5(title, summary, content, content='items', content_rowid='id', "
    "tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER items_fts_ai AFTER INSERT ON items BEGIN "
    "INSERT INTO items_fts(rowid, title, summary, content) VALUES (new.id, new.title, new.summary, new.content); "
    "END",
    "CREATE TRIGGER items_fts_ad AFTER DELETE ON items BEGIN "
    "INSERT INTO items_fts(items_fts, rowid, title, summary, content) "
    "VALUES ('delete', old.id, old.title, old.summary, old.content); END",
    "CREATE TRIGGER items_fts_au AFTER UPDATE OF title, summary, content ON items BEGIN "
    "INSERT INTO items_fts(items_fts, rowid, title, summary, content) "
    "VALUES ('delete', old.id, old.title, old.summary, old.content); "
    "INSERT INTO items_fts(rowid, title, summary, content) VALUES (new.id, new.title, new.summary, new.content); "
    "END",
    "INSERT INTO items_fts(items_fts) VALUES ('rebuild')",
]


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=100), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("session_epoch", sa.Integer(), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_login_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    op.create_table(
        "login_throttle",
        sa.Column("key", sa.String(length=300), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("first_failed_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("locked_until", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_login_throttle")),
    )
    op.create_table(
        "silences",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("target_kind", sa.String(length=20), nullable=False),
        sa.Column("target", sa.String(length=300), nullable=False),
        sa.Column("aliases", sa.JSON(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("starts_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ends_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ended_by", sa.String(length=200), nullable=True),
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_silences")),
    )
    op.create_index("ix_silences_ends_at", "silences", ["ends_at"])
    op.create_table(
        "saved_views",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("owner", sa.String(length=200), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("query", sa.Text(), nullable=False),
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_saved_views")),
        sa.UniqueConstraint("owner", "name", name="uq_saved_views_owner_name"),
    )
    op.create_table(
        "alert_sources",
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["alert_id"], ["alerts.id"], name=op.f("fk_alert_sources_alert_id_alerts"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("source", "alert_id", name=op.f("pk_alert_sources")),
    )
    with op.batch_alter_table("alerts") as batch:
        batch.add_column(sa.Column("silenced_until", app.db.UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("silence_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(op.f("fk_alerts_silence_id_silences"), "silences", ["silence_id"], ["id"],
                                 ondelete="SET NULL")
        batch.create_index("ix_alerts_assignee", ["assignee", "last_seen_at"])
        batch.create_index("ix_alerts_story", ["story_id"])
    op.create_index("ix_story_items_item", "story_items", ["item_id"])
    # stories and sources of exact duplicates are found through this column
    op.create_index("ix_items_duplicate_of", "items", ["duplicate_of_id"])

    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"CREATE INDEX ix_items_fts ON items USING gin ({PG_DOCUMENT})")
    else:
        for statement in SQLITE_FTS:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX ix_items_fts")
    else:
        for name in ("items_fts_au", "items_fts_ad", "items_fts_ai"):
            op.execute(f"DROP TRIGGER {name}")
        op.execute("DROP TABLE items_fts")
    op.drop_index("ix_items_duplicate_of", "items")
    op.drop_index("ix_story_items_item", "story_items")
    with op.batch_alter_table("alerts") as batch:
        batch.drop_index("ix_alerts_story")
        batch.drop_index("ix_alerts_assignee")
        batch.drop_constraint(op.f("fk_alerts_silence_id_silences"), type_="foreignkey")
        batch.drop_column("silence_id")
        batch.drop_column("silenced_until")
    op.drop_table("alert_sources")
    op.drop_table("saved_views")
    op.drop_index("ix_silences_ends_at", "silences")
    op.drop_table("silences")
    op.drop_table("login_throttle")
    op.drop_table("users")
