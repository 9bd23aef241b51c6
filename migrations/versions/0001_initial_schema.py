"""Create sites, stage events, edits, reference areas, users and uploads.

Revision ID: 0001
Revises:
Create Date: 2026-11-30
"""
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

KINDS = "('park','project','land_plot','green_site')"
STAGES = "('signed','started','in_production')"
PRECISIONS = "('surveyed','point','approximate','town')"


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    op.execute(f"""
    CREATE TABLE uploads (
        id bigserial PRIMARY KEY,
        user_name text,
        filename text NOT NULL,
        sha256 varchar(64) NOT NULL,
        file_format varchar(16) NOT NULL,
        crs_given text,
        crs_used text,
        kind_given varchar(16) CHECK (kind_given IS NULL OR kind_given IN {KINDS}),
        raw_rows jsonb NOT NULL DEFAULT '[]',
        report jsonb NOT NULL DEFAULT '{{}}',
        created integer NOT NULL DEFAULT 0,
        updated integer NOT NULL DEFAULT 0,
        unchanged integer NOT NULL DEFAULT 0,
        uploaded_at timestamptz NOT NULL DEFAULT now()
    )""")
    op.execute(f"""
    CREATE TABLE sites (
        id bigserial PRIMARY KEY,
        code text UNIQUE,
        kind varchar(16) NOT NULL CHECK (kind IN {KINDS}),
        name text NOT NULL CHECK (length(btrim(name)) > 0),
        name_en text,
        stage varchar(16) NOT NULL CHECK (stage IN {STAGES}),
        town text,
        park text,
        precision varchar(16) NOT NULL CHECK (precision IN {PRECISIONS}),
        source text,
        description text,
        investment_cny_100m numeric(14,4) CHECK (investment_cny_100m IS NULL OR investment_cny_100m >= 0),
        industry text,
        area_ha numeric(14,4) CHECK (area_ha IS NULL OR area_ha >= 0),
        attributes jsonb NOT NULL DEFAULT '{{}}',
        geom geometry(Geometry, 4326) NOT NULL
            CONSTRAINT sites_geom_valid CHECK (ST_IsValid(geom))
            CONSTRAINT sites_geom_type CHECK (GeometryType(geom) IN
                ('POINT','LINESTRING','MULTILINESTRING','POLYGON','MULTIPOLYGON','MULTIPOINT')),
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        version integer NOT NULL DEFAULT 1
    )""")
    op.execute("CREATE INDEX sites_geom_idx ON sites USING gist (geom)")
    op.execute("CREATE INDEX sites_kind_stage_idx ON sites (kind, stage)")
    op.execute("CREATE INDEX sites_town_idx ON sites (town)")
    op.execute(f"""
    CREATE TABLE stage_events (
        id bigserial PRIMARY KEY,
        site_id bigint NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
        stage varchar(16) NOT NULL CHECK (stage IN {STAGES}),
        reached_on date,
        date_precision varchar(8) NOT NULL DEFAULT 'day' CHECK (date_precision IN ('year','month','day')),
        recorded_at timestamptz NOT NULL DEFAULT now(),
        recorded_by text,
        upload_id bigint REFERENCES uploads(id)
    )""")
    op.execute("CREATE INDEX stage_events_site_idx ON stage_events (site_id, stage, recorded_at)")
    op.execute("""
    CREATE TABLE site_edits (
        id bigserial PRIMARY KEY,
        site_id bigint NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
        action varchar(16) NOT NULL CHECK (action IN ('create','update')),
        changes jsonb NOT NULL,
        edited_at timestamptz NOT NULL DEFAULT now(),
        edited_by text,
        upload_id bigint REFERENCES uploads(id)
    )""")
    op.execute("CREATE INDEX site_edits_site_idx ON site_edits (site_id, edited_at)")
    op.execute(f"""
    CREATE TABLE admin_areas (
        id serial PRIMARY KEY,
        level varchar(8) NOT NULL CHECK (level IN ('county','town')),
        name text NOT NULL,
        name_en text,
        precision varchar(16) NOT NULL CHECK (precision IN {PRECISIONS}),
        source text NOT NULL,
        geom geometry(MultiPolygon, 4326) NOT NULL CONSTRAINT admin_areas_geom_valid CHECK (ST_IsValid(geom)),
        UNIQUE (level, name)
    )""")
    op.execute("CREATE INDEX admin_areas_geom_idx ON admin_areas USING gist (geom)")
    op.execute("""
    CREATE TABLE users (
        id serial PRIMARY KEY,
        name text NOT NULL UNIQUE,
        role varchar(8) NOT NULL CHECK (role IN ('viewer','editor','admin')),
        token_sha256 varchar(64) NOT NULL UNIQUE,
        created_at timestamptz NOT NULL DEFAULT now()
    )""")
    # The latest event recorded for each stage gives that stage's date: events are never overwritten.
    op.execute("""
    CREATE VIEW site_stage_dates AS
    SELECT site_id,
           max(reached_on) FILTER (WHERE stage = 'signed' AND rn = 1) AS signed_on,
           max(date_precision) FILTER (WHERE stage = 'signed' AND rn = 1) AS signed_precision,
           max(reached_on) FILTER (WHERE stage = 'started' AND rn = 1) AS started_on,
           max(date_precision) FILTER (WHERE stage = 'started' AND rn = 1) AS started_precision,
           max(reached_on) FILTER (WHERE stage = 'in_production' AND rn = 1) AS in_production_on,
           max(date_precision) FILTER (WHERE stage = 'in_production' AND rn = 1) AS in_production_precision
    FROM (
        SELECT site_id, stage, reached_on, date_precision,
               row_number() OVER (PARTITION BY site_id, stage ORDER BY recorded_at DESC, id DESC) AS rn
        FROM stage_events
    ) ranked
    GROUP BY site_id""")


def downgrade() -> None:
    op.execute("DROP VIEW IF EXISTS site_stage_dates")
    for table in ("users", "admin_areas", "site_edits", "stage_events", "sites", "uploads"):
        op.execute(f"DROP TABLE IF EXISTS {table}")
