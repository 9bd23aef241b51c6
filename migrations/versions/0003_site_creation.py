"""Record who created a site, and from which upload, on the site itself.

A site's creation was a `site_edits` row holding a copy of every initial value; the values are the
site's own (and the upload keeps the file), so creation becomes two columns and the history shows it
from them. Edits keep their field-by-field changes.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30
"""
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE sites ADD COLUMN created_by text")
    op.execute("ALTER TABLE sites ADD COLUMN created_upload_id bigint REFERENCES uploads(id)")
    op.execute("""
        UPDATE sites s SET created_by = x.edited_by, created_upload_id = x.upload_id
        FROM site_edits x WHERE x.site_id = s.id AND x.action = 'create'""")
    op.execute("DELETE FROM site_edits WHERE action = 'create'")


def downgrade() -> None:
    op.execute("""
        INSERT INTO site_edits (site_id, action, changes, edited_at, edited_by, upload_id)
        SELECT id, 'create', '{}'::jsonb, created_at, created_by, created_upload_id FROM sites""")
    op.execute("ALTER TABLE sites DROP COLUMN created_upload_id")
    op.execute("ALTER TABLE sites DROP COLUMN created_by")
