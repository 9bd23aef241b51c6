"""The pipeline's first stage `planned`, the precision `county` (place unknown, no geometry), reported figures.

Existing rows keep their stages and positions: no existing site is `county`, so every one keeps its geometry.
`site_stage_dates` gains `planned_on`/`planned_precision` at its end (CREATE OR REPLACE VIEW may only append).
`reported_figures` holds the county totals the source documents report, for "reported vs mapped".

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

STAGES = "('planned','signed','started','in_production')"
OLD_STAGES = "('signed','started','in_production')"
PRECISIONS = "('surveyed','point','approximate','town','county')"
OLD_PRECISIONS = "('surveyed','point','approximate','town')"


def stage_dates_view(stages: tuple[str, ...]) -> str:
    """Return the view of each site's latest event per stage, with a date and precision column per stage."""
    columns = ",\n".join(
        f"max(reached_on) FILTER (WHERE stage = '{stage}' AND rn = 1) AS {stage}_on,\n"
        f"max(date_precision) FILTER (WHERE stage = '{stage}' AND rn = 1) AS {stage}_precision"
        for stage in stages)
    return f"""
    CREATE OR REPLACE VIEW site_stage_dates AS
    SELECT site_id, {columns}
    FROM (
        SELECT site_id, stage, reached_on, date_precision,
               row_number() OVER (PARTITION BY site_id, stage ORDER BY recorded_at DESC, id DESC) AS rn
        FROM stage_events
    ) ranked
    GROUP BY site_id"""


def upgrade() -> None:
    for table, column in (("sites", "stage"), ("stage_events", "stage")):
        op.execute(f"ALTER TABLE {table} DROP CONSTRAINT {table}_{column}_check")
        op.execute(f"ALTER TABLE {table} ADD CONSTRAINT {table}_{column}_check CHECK ({column} IN {STAGES})")
    op.execute("ALTER TABLE sites DROP CONSTRAINT sites_precision_check")
    op.execute(f"ALTER TABLE sites ADD CONSTRAINT sites_precision_check CHECK (precision IN {PRECISIONS})")
    op.execute("ALTER TABLE sites ALTER COLUMN geom DROP NOT NULL")
    # A site has no position exactly when its place is unknown; a position is never invented.
    op.execute("ALTER TABLE sites ADD CONSTRAINT sites_county_has_no_geom"
               " CHECK ((precision = 'county') = (geom IS NULL))")
    op.execute(stage_dates_view(("signed", "started", "in_production", "planned")))
    op.execute("""
    CREATE TABLE reported_figures (
        id bigserial PRIMARY KEY,
        year integer NOT NULL CHECK (year BETWEEN 1990 AND 2100),
        stage varchar(16) CHECK (stage IS NULL OR stage IN """ + STAGES + """),
        kind varchar(16) CHECK (kind IS NULL OR kind IN ('park','project','land_plot','green_site')),
        metric text NOT NULL,
        value numeric(16,4) NOT NULL,
        unit text NOT NULL,
        source text NOT NULL,
        UNIQUE (year, metric, stage, kind)
    )""")


def downgrade() -> None:
    op.execute("DROP TABLE reported_figures")
    op.execute("DROP VIEW site_stage_dates")
    op.execute(stage_dates_view(("signed", "started", "in_production")))
    op.execute("DELETE FROM stage_events WHERE stage = 'planned'")
    op.execute("UPDATE sites SET stage = 'signed' WHERE stage = 'planned'")
    # Sites whose place is unknown cannot exist without the column being nullable: refuse rather than delete.
    op.execute("DO $$ BEGIN IF EXISTS (SELECT 1 FROM sites WHERE geom IS NULL) THEN RAISE EXCEPTION"
               " 'sites of precision county have no geometry; place or delete them before downgrading'; END IF; END $$")
    op.execute("ALTER TABLE sites DROP CONSTRAINT sites_county_has_no_geom")
    op.execute("ALTER TABLE sites ALTER COLUMN geom SET NOT NULL")
    op.execute("ALTER TABLE sites DROP CONSTRAINT sites_precision_check")
    op.execute(f"ALTER TABLE sites ADD CONSTRAINT sites_precision_check CHECK (precision IN {OLD_PRECISIONS})")
    for table, column in (("sites", "stage"), ("stage_events", "stage")):
        op.execute(f"ALTER TABLE {table} DROP CONSTRAINT {table}_{column}_check")
        op.execute(f"ALTER TABLE {table} ADD CONSTRAINT {table}_{column}_check CHECK ({column} IN {OLD_STAGES})")
