"""Keep the uploaded file itself and its format details on the upload record.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30
"""
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE uploads ADD COLUMN content bytea")
    op.execute("ALTER TABLE uploads ADD COLUMN encoding text")
    op.execute("CREATE INDEX uploads_sha256_idx ON uploads (sha256)")


def downgrade() -> None:
    op.execute("DROP INDEX uploads_sha256_idx")
    op.execute("ALTER TABLE uploads DROP COLUMN encoding")
    op.execute("ALTER TABLE uploads DROP COLUMN content")
