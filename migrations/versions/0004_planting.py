"""Planting plans and events, survival checks, care, felling and compensation, yearly reports.

The planting tables are a contract for the nursery work (issue 7), whose later merge migration
adds ``planting_plan_lines.nursery_id`` and ``planting_events.shipment_id``/``batch_id``.

Revision ID: 0004
Revises: 0001
Create Date: 2026-11-28 17:20:32.908177
"""

from collections.abc import Sequence

import geoalchemy2  # noqa: F401
import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Enum types this revision owns (``planting_form`` belongs to 0001 and is only reused).
ENUMS = {
    "planting_season": ("spring", "autumn"),
    "plan_status": ("draft", "approved"),
    "planting_unit": ("pieces", "running_m", "m2"),
    "planting_performer": ("akimat", "contractor", "volunteers"),
    "felling_reason": ("sanitary", "construction", "utilities", "emergency", "adjacent_death"),
    "species_protection": ("none", "red_book", "rare"),
    "compensation_case": (
        "permitted",
        "adjacent",
        "illegal",
        "illegal_red_book",
        "illegal_rare",
    ),
    "care_kind": (
        "watering",
        "pruning_formative",
        "pruning_sanitary",
        "crown_reduction",
        "sanitary_felling",
        "stump_removal",
        "fertilising",
        "pest_control",
        "mowing",
        "winter_protection",
        "irrigation_repair",
    ),
    "care_unit": ("pieces", "running_m", "m2", "m3", "ha"),
    "report_status": ("draft", "submitted", "approved", "returned"),
}

# ``planting_tallies`` is kept current by the database: every door that writes planting events
# or survival checks (services, bulk loads, SQL console) moves the national figures the same
# way, and the ministry's report reads a few thousand tally rows instead of a million events.
# Events are immutable in their counted columns; deleting one takes its checks out with it.
DATABASE_LOGIC = [
    """
    CREATE FUNCTION jasyl_tally_add(
        r smallint, y smallint, s integer, f planting_form, u planting_unit, d_events integer,
        d_planted numeric, d_replanted numeric, d_compensatory numeric,
        d_checked_1 numeric, d_alive_1 numeric, d_checked_3 numeric, d_alive_3 numeric
    ) RETURNS void LANGUAGE sql AS $$
        INSERT INTO planting_tallies AS t (region_id, year, species_id, planting_form, unit,
            events, planted, replanted, compensatory, checked_1, alive_1, checked_3, alive_3)
        VALUES (r, y, s, f, u, d_events, d_planted, d_replanted, d_compensatory,
                d_checked_1, d_alive_1, d_checked_3, d_alive_3)
        ON CONFLICT (region_id, year, species_id, planting_form, unit) DO UPDATE SET
            events = t.events + EXCLUDED.events,
            planted = t.planted + EXCLUDED.planted,
            replanted = t.replanted + EXCLUDED.replanted,
            compensatory = t.compensatory + EXCLUDED.compensatory,
            checked_1 = t.checked_1 + EXCLUDED.checked_1,
            alive_1 = t.alive_1 + EXCLUDED.alive_1,
            checked_3 = t.checked_3 + EXCLUDED.checked_3,
            alive_3 = t.alive_3 + EXCLUDED.alive_3
    $$
    """,
    """
    CREATE FUNCTION jasyl_tally_event() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        e planting_events;
        sign integer;
        c1 numeric := 0; a1 numeric := 0; c3 numeric := 0; a3 numeric := 0;
    BEGIN
        IF TG_OP = 'INSERT' THEN e := NEW; sign := 1; ELSE e := OLD; sign := -1; END IF;
        IF TG_OP = 'DELETE' THEN
            SELECT coalesce(sum(e.quantity) FILTER (WHERE season = 1), 0),
                   coalesce(sum(alive) FILTER (WHERE season = 1), 0),
                   coalesce(sum(e.quantity) FILTER (WHERE season = 3), 0),
                   coalesce(sum(alive) FILTER (WHERE season = 3), 0)
              INTO c1, a1, c3, a3 FROM survival_checks WHERE event_id = e.id;
        END IF;
        PERFORM jasyl_tally_add(e.region_id, e.year, e.species_id, e.planting_form, e.unit, sign,
            sign * CASE WHEN e.replaces_event_id IS NULL THEN e.quantity ELSE 0 END,
            sign * CASE WHEN e.replaces_event_id IS NULL THEN 0 ELSE e.quantity END,
            sign * CASE WHEN e.felling_permit_id IS NULL THEN 0 ELSE e.quantity END,
            sign * c1, sign * a1, sign * c3, sign * a3);
        RETURN NULL;
    END $$
    """,
    """
    CREATE FUNCTION jasyl_tally_check(event bigint, season smallint, alive numeric, sign integer)
    RETURNS void LANGUAGE plpgsql AS $$
    DECLARE
        e planting_events;
    BEGIN
        SELECT * INTO e FROM planting_events WHERE id = event;
        IF NOT FOUND THEN
            RETURN;  -- the event's own deletion already took the check out of the tally
        END IF;
        PERFORM jasyl_tally_add(e.region_id, e.year, e.species_id, e.planting_form, e.unit,
            0, 0, 0, 0,
            sign * CASE WHEN season = 1 THEN e.quantity ELSE 0 END,
            sign * CASE WHEN season = 1 THEN alive ELSE 0 END,
            sign * CASE WHEN season = 3 THEN e.quantity ELSE 0 END,
            sign * CASE WHEN season = 3 THEN alive ELSE 0 END);
    END $$
    """,
    """
    CREATE FUNCTION jasyl_tally_survival() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP IN ('UPDATE', 'DELETE') THEN
            PERFORM jasyl_tally_check(OLD.event_id, OLD.season, OLD.alive, -1);
        END IF;
        IF TG_OP IN ('UPDATE', 'INSERT') THEN
            PERFORM jasyl_tally_check(NEW.event_id, NEW.season, NEW.alive, 1);
        END IF;
        RETURN NULL;
    END $$
    """,
    """
    CREATE FUNCTION jasyl_refuse_event_recount() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION USING ERRCODE = 'check_violation',
            MESSAGE = 'a planting event''s counted fields cannot change; record a new event';
    END $$
    """,
    """
    CREATE FUNCTION jasyl_rebuild_planting_tallies() RETURNS void LANGUAGE sql AS $$
        DELETE FROM planting_tallies;
        INSERT INTO planting_tallies (region_id, year, species_id, planting_form, unit, events,
            planted, replanted, compensatory, checked_1, alive_1, checked_3, alive_3)
        SELECT e.region_id, e.year, e.species_id, e.planting_form, e.unit, count(*),
               coalesce(sum(e.quantity) FILTER (WHERE e.replaces_event_id IS NULL), 0),
               coalesce(sum(e.quantity) FILTER (WHERE e.replaces_event_id IS NOT NULL), 0),
               coalesce(sum(e.quantity) FILTER (WHERE e.felling_permit_id IS NOT NULL), 0),
               coalesce(sum(e.quantity) FILTER (WHERE s1.alive IS NOT NULL), 0),
               coalesce(sum(s1.alive), 0),
               coalesce(sum(e.quantity) FILTER (WHERE s3.alive IS NOT NULL), 0),
               coalesce(sum(s3.alive), 0)
        FROM planting_events e
        LEFT JOIN survival_checks s1 ON s1.event_id = e.id AND s1.season = 1
        LEFT JOIN survival_checks s3 ON s3.event_id = e.id AND s3.season = 3
        GROUP BY 1, 2, 3, 4, 5
    $$
    """,
    """CREATE TRIGGER planting_events_tally AFTER INSERT ON planting_events
       FOR EACH ROW EXECUTE FUNCTION jasyl_tally_event()""",
    """CREATE TRIGGER planting_events_untally BEFORE DELETE ON planting_events
       FOR EACH ROW EXECUTE FUNCTION jasyl_tally_event()""",
    """CREATE TRIGGER planting_events_recount BEFORE UPDATE OF region_id, species_id,
       planting_form, planted_on, quantity, unit, replaces_event_id, felling_permit_id
       ON planting_events FOR EACH ROW EXECUTE FUNCTION jasyl_refuse_event_recount()""",
    """CREATE TRIGGER survival_checks_tally AFTER INSERT OR UPDATE OR DELETE ON survival_checks
       FOR EACH ROW EXECUTE FUNCTION jasyl_tally_survival()""",
    # A submitted report is a snapshot: its figures never change, whoever tries.
    """
    CREATE FUNCTION jasyl_lock_submitted_report() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF OLD.status <> 'draft' AND NEW.content IS DISTINCT FROM OLD.content THEN
            RAISE EXCEPTION USING ERRCODE = 'check_violation',
                MESSAGE = format('report %s edition %s is %s; its figures are locked',
                                 OLD.id, OLD.edition, OLD.status);
        END IF;
        RETURN NEW;
    END $$
    """,
    """CREATE TRIGGER region_reports_locked BEFORE UPDATE OF content ON region_reports
       FOR EACH ROW EXECUTE FUNCTION jasyl_lock_submitted_report()""",
]
DATABASE_FUNCTIONS = (
    "jasyl_tally_event()",
    "jasyl_tally_survival()",
    "jasyl_tally_check(bigint, smallint, numeric, integer)",
    "jasyl_refuse_event_recount()",
    "jasyl_rebuild_planting_tallies()",
    "jasyl_lock_submitted_report()",
    "jasyl_tally_add(smallint, smallint, integer, planting_form, planting_unit, integer, "
    "numeric, numeric, numeric, numeric, numeric, numeric, numeric)",
)


def upgrade() -> None:
    for name, values in ENUMS.items():
        postgresql.ENUM(*values, name=name).create(op.get_bind(), checkfirst=True)
    op.create_table(
        "planting_tallies",
        sa.Column("region_id", sa.SmallInteger(), nullable=False),
        sa.Column("year", sa.SmallInteger(), nullable=False),
        sa.Column("species_id", sa.Integer(), nullable=False),
        sa.Column(
            "planting_form",
            postgresql.ENUM(
                "solitary",
                "row",
                "group",
                "hedge",
                "massif",
                name="planting_form",
                create_type=False,
            ),
            nullable=False,
        ),
        sa.Column(
            "unit",
            postgresql.ENUM("pieces", "running_m", "m2", name="planting_unit", create_type=False),
            nullable=False,
        ),
        sa.Column("events", sa.Integer(), nullable=False),
        sa.Column("planted", sa.Numeric(precision=14, scale=1), nullable=False),
        sa.Column("replanted", sa.Numeric(precision=14, scale=1), nullable=False),
        sa.Column("compensatory", sa.Numeric(precision=14, scale=1), nullable=False),
        sa.Column("checked_1", sa.Numeric(precision=14, scale=1), nullable=False),
        sa.Column("alive_1", sa.Numeric(precision=14, scale=1), nullable=False),
        sa.Column("checked_3", sa.Numeric(precision=14, scale=1), nullable=False),
        sa.Column("alive_3", sa.Numeric(precision=14, scale=1), nullable=False),
        sa.PrimaryKeyConstraint(
            "region_id",
            "year",
            "species_id",
            "planting_form",
            "unit",
            name=op.f("pk_planting_tallies"),
        ),
    )
    op.create_table(
        "care_plans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("region_id", sa.SmallInteger(), nullable=False),
        sa.Column("year", sa.SmallInteger(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column(
            "status",
            postgresql.ENUM("draft", "approved", name="plan_status", create_type=False),
            nullable=False,
        ),
        sa.Column("approved_by", sa.Integer(), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("updated_by", sa.Integer(), nullable=True),
        sa.CheckConstraint("year BETWEEN 2000 AND 2100", name=op.f("ck_care_plans_plan_year")),
        sa.ForeignKeyConstraint(
            ["approved_by"], ["users.id"], name=op.f("fk_care_plans_approved_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["region_id"], ["regions.id"], name=op.f("fk_care_plans_region_id_regions")
        ),
        sa.ForeignKeyConstraint(
            ["updated_by"], ["users.id"], name=op.f("fk_care_plans_updated_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_care_plans")),
    )
    op.create_index(op.f("ix_care_plans_region_id"), "care_plans", ["region_id"], unique=False)
    op.create_table(
        "compensation_ratios",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("region_id", sa.SmallInteger(), nullable=False),
        sa.Column(
            "case",
            postgresql.ENUM(
                "permitted",
                "adjacent",
                "illegal",
                "illegal_red_book",
                "illegal_rare",
                name="compensation_case",
                create_type=False,
            ),
            nullable=False,
        ),
        sa.Column("ratio", sa.Integer(), nullable=False),
        sa.Column("updated_by", sa.Integer(), nullable=True),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("ratio > 0", name=op.f("ck_compensation_ratios_ratio_positive")),
        sa.ForeignKeyConstraint(
            ["region_id"], ["regions.id"], name=op.f("fk_compensation_ratios_region_id_regions")
        ),
        sa.ForeignKeyConstraint(
            ["updated_by"], ["users.id"], name=op.f("fk_compensation_ratios_updated_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_compensation_ratios")),
        sa.UniqueConstraint(
            "region_id", "case", name=op.f("uq_compensation_ratios_region_id_case")
        ),
    )
    op.create_table(
        "felling_permits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("region_id", sa.SmallInteger(), nullable=False),
        sa.Column("number", sa.Text(), nullable=False),
        sa.Column(
            "reason",
            postgresql.ENUM(
                "sanitary",
                "construction",
                "utilities",
                "emergency",
                "adjacent_death",
                name="felling_reason",
                create_type=False,
            ),
            nullable=False,
        ),
        sa.Column("legal", sa.Boolean(), nullable=False),
        sa.Column(
            "protection",
            postgresql.ENUM(
                "none", "red_book", "rare", name="species_protection", create_type=False
            ),
            nullable=False,
        ),
        sa.Column(
            "case",
            postgresql.ENUM(
                "permitted",
                "adjacent",
                "illegal",
                "illegal_red_book",
                "illegal_rare",
                name="compensation_case",
                create_type=False,
            ),
            nullable=False,
        ),
        sa.Column("felled_on", sa.Date(), nullable=False),
        sa.Column("holder", sa.Text(), nullable=False),
        sa.Column("trees", sa.Integer(), nullable=False),
        sa.Column("ratio", sa.Integer(), nullable=False),
        sa.Column("owed", sa.Integer(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "trees > 0 AND ratio > 0 AND owed = trees * ratio",
            name=op.f("ck_felling_permits_obligation"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_felling_permits_created_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["region_id"], ["regions.id"], name=op.f("fk_felling_permits_region_id_regions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_felling_permits")),
        sa.UniqueConstraint(
            "region_id", "number", name=op.f("uq_felling_permits_region_id_number")
        ),
    )
    op.create_index(op.f("ix_felling_permits_due_on"), "felling_permits", ["due_on"], unique=False)
    op.create_index(
        op.f("ix_felling_permits_region_id"), "felling_permits", ["region_id"], unique=False
    )
    op.create_table(
        "planting_plans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("region_id", sa.SmallInteger(), nullable=False),
        sa.Column("district", sa.Text(), nullable=False),
        sa.Column("year", sa.SmallInteger(), nullable=False),
        sa.Column(
            "season",
            postgresql.ENUM("spring", "autumn", name="planting_season", create_type=False),
            nullable=False,
        ),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("funding_source", sa.Text(), nullable=False),
        sa.Column(
            "status",
            postgresql.ENUM("draft", "approved", name="plan_status", create_type=False),
            nullable=False,
        ),
        sa.Column("approved_by", sa.Integer(), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("updated_by", sa.Integer(), nullable=True),
        sa.CheckConstraint("year BETWEEN 2000 AND 2100", name=op.f("ck_planting_plans_plan_year")),
        sa.ForeignKeyConstraint(
            ["approved_by"], ["users.id"], name=op.f("fk_planting_plans_approved_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["region_id"], ["regions.id"], name=op.f("fk_planting_plans_region_id_regions")
        ),
        sa.ForeignKeyConstraint(
            ["updated_by"], ["users.id"], name=op.f("fk_planting_plans_updated_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_planting_plans")),
    )
    op.create_index(
        op.f("ix_planting_plans_region_id"), "planting_plans", ["region_id"], unique=False
    )
    op.create_table(
        "region_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("region_id", sa.SmallInteger(), nullable=False),
        sa.Column("year", sa.SmallInteger(), nullable=False),
        sa.Column("edition", sa.SmallInteger(), nullable=False),
        sa.Column(
            "status",
            postgresql.ENUM(
                "draft",
                "submitted",
                "approved",
                "returned",
                name="report_status",
                create_type=False,
            ),
            nullable=False,
        ),
        sa.Column("content", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "built_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("built_by", sa.Integer(), nullable=True),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("submitted_by", sa.Integer(), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reviewed_by", sa.Integer(), nullable=True),
        sa.Column("review_comment", sa.Text(), nullable=False),
        sa.CheckConstraint("edition >= 1", name=op.f("ck_region_reports_edition_positive")),
        sa.ForeignKeyConstraint(
            ["built_by"], ["users.id"], name=op.f("fk_region_reports_built_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["region_id"], ["regions.id"], name=op.f("fk_region_reports_region_id_regions")
        ),
        sa.ForeignKeyConstraint(
            ["reviewed_by"], ["users.id"], name=op.f("fk_region_reports_reviewed_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["submitted_by"], ["users.id"], name=op.f("fk_region_reports_submitted_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_region_reports")),
        sa.UniqueConstraint(
            "region_id", "year", "edition", name=op.f("uq_region_reports_region_id_year_edition")
        ),
    )
    op.create_geospatial_table(
        "planting_plan_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("species_id", sa.Integer(), nullable=False),
        sa.Column(
            "planting_form",
            postgresql.ENUM(
                "solitary",
                "row",
                "group",
                "hedge",
                "massif",
                name="planting_form",
                create_type=False,
            ),
            nullable=False,
        ),
        sa.Column("quantity", sa.Numeric(precision=12, scale=1), nullable=False),
        sa.Column(
            "unit",
            postgresql.ENUM("pieces", "running_m", "m2", name="planting_unit", create_type=False),
            nullable=False,
        ),
        sa.Column("green_space_id", sa.Integer(), nullable=True),
        sa.Column(
            "area",
            Geometry(
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
            ),
            nullable=True,
        ),
        sa.Column("funding_source", sa.Text(), nullable=False),
        sa.Column("supplier", sa.Text(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_planting_plan_lines_quantity_positive")),
        sa.ForeignKeyConstraint(
            ["green_space_id"],
            ["green_spaces.id"],
            name=op.f("fk_planting_plan_lines_green_space_id_green_spaces"),
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["planting_plans.id"],
            name=op.f("fk_planting_plan_lines_plan_id_planting_plans"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["species_id"], ["species.id"], name=op.f("fk_planting_plan_lines_species_id_species")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_planting_plan_lines")),
    )
    op.create_index(
        op.f("ix_planting_plan_lines_plan_id"), "planting_plan_lines", ["plan_id"], unique=False
    )
    op.create_geospatial_table(
        "care_works",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("region_id", sa.SmallInteger(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=True),
        sa.Column("year", sa.SmallInteger(), nullable=False),
        sa.Column(
            "kind",
            postgresql.ENUM(
                "watering",
                "pruning_formative",
                "pruning_sanitary",
                "crown_reduction",
                "sanitary_felling",
                "stump_removal",
                "fertilising",
                "pest_control",
                "mowing",
                "winter_protection",
                "irrigation_repair",
                name="care_kind",
                create_type=False,
            ),
            nullable=False,
        ),
        sa.Column(
            "unit",
            postgresql.ENUM(
                "pieces", "running_m", "m2", "m3", "ha", name="care_unit", create_type=False
            ),
            nullable=False,
        ),
        sa.Column("planned_volume", sa.Numeric(precision=14, scale=1), nullable=True),
        sa.Column("planned_on", sa.Date(), nullable=True),
        sa.Column("planned_cost", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column("done_volume", sa.Numeric(precision=14, scale=1), nullable=True),
        sa.Column("done_on", sa.Date(), nullable=True),
        sa.Column("done_cost", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column("plant_id", sa.BigInteger(), nullable=True),
        sa.Column("green_space_id", sa.Integer(), nullable=True),
        sa.Column(
            "area",
            Geometry(
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
            ),
            nullable=True,
        ),
        sa.Column("performer", sa.Text(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("updated_by", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "(planned_cost IS NULL OR planned_cost >= 0) AND (done_cost IS NULL OR done_cost >= 0)",
            name=op.f("ck_care_works_costs_not_negative"),
        ),
        sa.CheckConstraint(
            "(planned_volume IS NULL OR planned_volume > 0) AND (done_volume IS NULL OR done_volume > 0)",
            name=op.f("ck_care_works_volumes_positive"),
        ),
        sa.CheckConstraint(
            "plant_id IS NOT NULL OR green_space_id IS NOT NULL OR area IS NOT NULL",
            name=op.f("ck_care_works_has_target"),
        ),
        sa.ForeignKeyConstraint(
            ["green_space_id"],
            ["green_spaces.id"],
            name=op.f("fk_care_works_green_space_id_green_spaces"),
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["care_plans.id"],
            name=op.f("fk_care_works_plan_id_care_plans"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["plant_id"], ["plants.id"], name=op.f("fk_care_works_plant_id_plants")
        ),
        sa.ForeignKeyConstraint(
            ["region_id"], ["regions.id"], name=op.f("fk_care_works_region_id_regions")
        ),
        sa.ForeignKeyConstraint(
            ["updated_by"], ["users.id"], name=op.f("fk_care_works_updated_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_care_works")),
    )
    op.create_index(op.f("ix_care_works_plan_id"), "care_works", ["plan_id"], unique=False)
    op.create_index(op.f("ix_care_works_plant_id"), "care_works", ["plant_id"], unique=False)
    op.create_index(
        "ix_care_works_region_id_year", "care_works", ["region_id", "year"], unique=False
    )
    op.create_table(
        "felling_permit_plants",
        sa.Column("permit_id", sa.Integer(), nullable=False),
        sa.Column("plant_id", sa.BigInteger(), nullable=False),
        sa.Column("trees", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["permit_id"],
            ["felling_permits.id"],
            name=op.f("fk_felling_permit_plants_permit_id_felling_permits"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["plant_id"], ["plants.id"], name=op.f("fk_felling_permit_plants_plant_id_plants")
        ),
        sa.PrimaryKeyConstraint("permit_id", "plant_id", name=op.f("pk_felling_permit_plants")),
    )
    op.create_table(
        "planting_events",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("region_id", sa.SmallInteger(), nullable=False),
        sa.Column("plan_line_id", sa.Integer(), nullable=True),
        sa.Column("species_id", sa.Integer(), nullable=False),
        sa.Column(
            "planting_form",
            postgresql.ENUM(
                "solitary",
                "row",
                "group",
                "hedge",
                "massif",
                name="planting_form",
                create_type=False,
            ),
            nullable=False,
        ),
        sa.Column("planted_on", sa.Date(), nullable=False),
        sa.Column(
            "year",
            sa.SmallInteger(),
            sa.Computed("(EXTRACT(year FROM planted_on))::smallint", persisted=True),
            nullable=False,
        ),
        sa.Column("quantity", sa.Numeric(precision=12, scale=1), nullable=False),
        sa.Column(
            "unit",
            postgresql.ENUM("pieces", "running_m", "m2", name="planting_unit", create_type=False),
            nullable=False,
        ),
        sa.Column("green_space_id", sa.Integer(), nullable=True),
        sa.Column(
            "performer_kind",
            postgresql.ENUM(
                "akimat", "contractor", "volunteers", name="planting_performer", create_type=False
            ),
            nullable=False,
        ),
        sa.Column("performer", sa.Text(), nullable=False),
        sa.Column("replaces_event_id", sa.BigInteger(), nullable=True),
        sa.Column("felling_permit_id", sa.Integer(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_planting_events_quantity_positive")),
        sa.CheckConstraint(
            "replaces_event_id IS DISTINCT FROM id",
            name=op.f("ck_planting_events_not_self_replacing"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_planting_events_created_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["felling_permit_id"],
            ["felling_permits.id"],
            name=op.f("fk_planting_events_felling_permit_id_felling_permits"),
        ),
        sa.ForeignKeyConstraint(
            ["green_space_id"],
            ["green_spaces.id"],
            name=op.f("fk_planting_events_green_space_id_green_spaces"),
        ),
        sa.ForeignKeyConstraint(
            ["plan_line_id"],
            ["planting_plan_lines.id"],
            name=op.f("fk_planting_events_plan_line_id_planting_plan_lines"),
        ),
        sa.ForeignKeyConstraint(
            ["region_id"], ["regions.id"], name=op.f("fk_planting_events_region_id_regions")
        ),
        sa.ForeignKeyConstraint(
            ["replaces_event_id"],
            ["planting_events.id"],
            name=op.f("fk_planting_events_replaces_event_id_planting_events"),
        ),
        sa.ForeignKeyConstraint(
            ["species_id"], ["species.id"], name=op.f("fk_planting_events_species_id_species")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_planting_events")),
    )
    op.create_index(
        op.f("ix_planting_events_felling_permit_id"),
        "planting_events",
        ["felling_permit_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_planting_events_plan_line_id"), "planting_events", ["plan_line_id"], unique=False
    )
    op.create_index(
        "ix_planting_events_region_id_year", "planting_events", ["region_id", "year"], unique=False
    )
    op.create_index(
        op.f("ix_planting_events_replaces_event_id"),
        "planting_events",
        ["replaces_event_id"],
        unique=False,
    )
    op.create_table(
        "planting_event_plants",
        sa.Column("event_id", sa.BigInteger(), nullable=False),
        sa.Column("plant_id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["planting_events.id"],
            name=op.f("fk_planting_event_plants_event_id_planting_events"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["plant_id"],
            ["plants.id"],
            name=op.f("fk_planting_event_plants_plant_id_plants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("event_id", "plant_id", name=op.f("pk_planting_event_plants")),
        sa.UniqueConstraint("plant_id", name=op.f("uq_planting_event_plants_plant_id")),
    )
    op.create_table(
        "survival_checks",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("event_id", sa.BigInteger(), nullable=False),
        sa.Column("season", sa.SmallInteger(), nullable=False),
        sa.Column("checked_on", sa.Date(), nullable=False),
        sa.Column("alive", sa.Numeric(precision=12, scale=1), nullable=False),
        sa.Column("dead", sa.Numeric(precision=12, scale=1), nullable=False),
        sa.Column("replaced", sa.Numeric(precision=12, scale=1), nullable=False),
        sa.Column("inspector", sa.Text(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "alive >= 0 AND dead >= 0 AND replaced >= 0", name=op.f("ck_survival_checks_counts")
        ),
        sa.CheckConstraint("replaced <= dead", name=op.f("ck_survival_checks_replaced_of_dead")),
        sa.CheckConstraint("season IN (1, 3)", name=op.f("ck_survival_checks_season")),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["planting_events.id"],
            name=op.f("fk_survival_checks_event_id_planting_events"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_survival_checks_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survival_checks")),
        sa.UniqueConstraint("event_id", "season", name=op.f("uq_survival_checks_event_id_season")),
    )
    for statement in DATABASE_LOGIC:
        op.execute(statement)


def downgrade() -> None:
    for function in DATABASE_FUNCTIONS:
        op.execute(f"DROP FUNCTION IF EXISTS {function} CASCADE")
    op.drop_table("survival_checks")
    op.drop_table("planting_event_plants")
    op.drop_index(op.f("ix_planting_events_replaces_event_id"), table_name="planting_events")
    op.drop_index("ix_planting_events_region_id_year", table_name="planting_events")
    op.drop_index(op.f("ix_planting_events_plan_line_id"), table_name="planting_events")
    op.drop_index(op.f("ix_planting_events_felling_permit_id"), table_name="planting_events")
    op.drop_table("planting_events")
    op.drop_table("felling_permit_plants")
    op.drop_index("ix_care_works_region_id_year", table_name="care_works")
    op.drop_index(op.f("ix_care_works_plant_id"), table_name="care_works")
    op.drop_index(op.f("ix_care_works_plan_id"), table_name="care_works")
    op.drop_geospatial_table("care_works")
    op.drop_index(op.f("ix_planting_plan_lines_plan_id"), table_name="planting_plan_lines")
    op.drop_geospatial_table("planting_plan_lines")
    op.drop_table("region_reports")
    op.drop_index(op.f("ix_planting_plans_region_id"), table_name="planting_plans")
    op.drop_table("planting_plans")
    op.drop_index(op.f("ix_felling_permits_region_id"), table_name="felling_permits")
    op.drop_index(op.f("ix_felling_permits_due_on"), table_name="felling_permits")
    op.drop_table("felling_permits")
    op.drop_table("compensation_ratios")
    op.drop_index(op.f("ix_care_plans_region_id"), table_name="care_plans")
    op.drop_table("care_plans")
    op.drop_table("planting_tallies")
    for name in ENUMS:
        postgresql.ENUM(name=name).drop(op.get_bind(), checkfirst=True)
