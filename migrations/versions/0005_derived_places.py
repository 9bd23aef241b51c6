"""Whether a site's town and park were derived from its position; one reported figure per year, metric, stage, kind.

`town_derived` and `park_derived` say a site's town or park came from its position (true) rather than from its
owner (false): a derived one is derived again when a town or park changes, a given one never. Existing sites do
not say which theirs were, so a placed site (a position that is more than its town) counts as derived when its
town or park is empty or is the one its position gives today — what the upsert derived — and as given otherwise.

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

# A site whose position speaks for its town and park: it has one, and it is more than its town.
PLACED = "s.geom IS NOT NULL AND s.precision NOT IN ('town', 'county')"


def upgrade() -> None:
    op.execute("ALTER TABLE sites ADD COLUMN town_derived boolean NOT NULL DEFAULT false,"
               " ADD COLUMN park_derived boolean NOT NULL DEFAULT false")
    op.execute(f"""
        UPDATE sites s SET town_derived = (s.town IS NULL OR s.town = (
            SELECT a.name FROM admin_areas a WHERE a.level = 'town'
            ORDER BY ST_Intersects(a.geom, ST_PointOnSurface(s.geom)) DESC, a.geom <-> ST_PointOnSurface(s.geom),
                     a.name LIMIT 1))
        WHERE {PLACED}""")
    op.execute(f"""
        UPDATE sites s SET park_derived = (s.park IS NULL OR s.park = (
            SELECT p.name FROM sites p WHERE p.kind = 'park' AND p.geom IS NOT NULL
              AND p.precision NOT IN ('town', 'county') AND ST_Intersects(p.geom, ST_PointOnSurface(s.geom))
            ORDER BY ST_Area(p.geom), p.name LIMIT 1))
        WHERE s.kind <> 'park' AND {PLACED}""")
    op.execute("ALTER TABLE reported_figures DROP CONSTRAINT reported_figures_year_metric_stage_kind_key")
    op.execute("ALTER TABLE reported_figures ADD CONSTRAINT reported_figures_year_metric_stage_kind_key"
               " UNIQUE NULLS NOT DISTINCT (year, metric, stage, kind)")


def downgrade() -> None:
    op.execute("ALTER TABLE reported_figures DROP CONSTRAINT reported_figures_year_metric_stage_kind_key")
    op.execute("ALTER TABLE reported_figures ADD CONSTRAINT reported_figures_year_metric_stage_kind_key"
               " UNIQUE (year, metric, stage, kind)")
    op.execute("ALTER TABLE sites DROP COLUMN park_derived, DROP COLUMN town_derived")
