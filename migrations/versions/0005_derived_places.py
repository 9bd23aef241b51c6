"""Whether a site's town and park were derived from its position; one reported figure per year, metric, stage, kind.

`town_derived` and `park_derived` say a site's town or park came from its position (true) rather than from its
owner (false): a derived one is derived again when a town or park changes, a given one never. Existing sites
cannot tell which theirs were, so they start as given (false) — nothing is overwritten; the next seed or upload
of a site records what it is.

`reported_figures` was unique on (year, metric, stage, kind), where two rows with an empty stage or kind never
collide; the constraint now treats empty as equal (NULLS NOT DISTINCT, PostgreSQL 15), so the seed loader can
upsert a figure without a stage or kind.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE sites ADD COLUMN town_derived boolean NOT NULL DEFAULT false,"
               " ADD COLUMN park_derived boolean NOT NULL DEFAULT false")
    op.execute("ALTER TABLE reported_figures DROP CONSTRAINT reported_figures_year_metric_stage_kind_key")
    op.execute("ALTER TABLE reported_figures ADD CONSTRAINT reported_figures_year_metric_stage_kind_key"
               " UNIQUE NULLS NOT DISTINCT (year, metric, stage, kind)")


def downgrade() -> None:
    op.execute("ALTER TABLE reported_figures DROP CONSTRAINT reported_figures_year_metric_stage_kind_key")
    op.execute("ALTER TABLE reported_figures ADD CONSTRAINT reported_figures_year_metric_stage_kind_key"
               " UNIQUE (year, metric, stage, kind)")
    op.execute("ALTER TABLE sites DROP COLUMN park_derived, DROP COLUMN town_derived")
