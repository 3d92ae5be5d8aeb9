"""Foundation: regions, species, users, green spaces, plants, inspections, audit, imports.

Revision ID: 0001
Revises:
Create Date: 2026-11-28 17:02:33.001045
"""

from collections.abc import Sequence

import geoalchemy2  # noqa: F401
import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql

from registry.regions.reference import load_regions
from registry.species.catalogue import sync_catalogue

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ENUMS = ("plant_status", "planting_form", "green_space_category", "user_role")

# The region of a plant or green space is the database's to decide, from its geometry: every
# door (service, import, SQL console) gets the same answer. Layer-version sequences give the map
# tiles their ETags; sequences never block concurrent writers the way a counter row would.
DATABASE_LOGIC = [
    """
    CREATE FUNCTION jasyl_region_at(g geometry) RETURNS smallint
    LANGUAGE sql STABLE PARALLEL SAFE AS $$
        SELECT p.region_id FROM region_parts p
        WHERE ST_Intersects(p.geom, ST_PointOnSurface(g))
        ORDER BY p.region_id LIMIT 1
    $$
    """,
    """
    CREATE FUNCTION jasyl_set_region() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'INSERT' OR NEW.geom IS DISTINCT FROM OLD.geom
           OR NEW.region_id IS DISTINCT FROM OLD.region_id THEN
            NEW.region_id := jasyl_region_at(NEW.geom);
            IF NEW.region_id IS NULL THEN
                RAISE EXCEPTION USING
                    ERRCODE = 'check_violation',
                    MESSAGE = format('%s.geom lies outside every region of Kazakhstan', TG_TABLE_NAME),
                    COLUMN = 'geom', TABLE = TG_TABLE_NAME;
            END IF;
        END IF;
        RETURN NEW;
    END $$
    """,
    """CREATE TRIGGER plants_region BEFORE INSERT OR UPDATE OF geom, region_id ON plants
       FOR EACH ROW EXECUTE FUNCTION jasyl_set_region()""",
    """CREATE TRIGGER green_spaces_region BEFORE INSERT OR UPDATE OF geom, region_id
       ON green_spaces FOR EACH ROW EXECUTE FUNCTION jasyl_set_region()""",
    "CREATE SEQUENCE layer_version_plants",
    "CREATE SEQUENCE layer_version_green_spaces",
    """
    CREATE FUNCTION jasyl_bump_layer_version() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM nextval('layer_version_' || TG_TABLE_NAME);
        RETURN NULL;
    END $$
    """,
    """CREATE TRIGGER plants_layer_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
       ON plants FOR EACH STATEMENT EXECUTE FUNCTION jasyl_bump_layer_version()""",
    """CREATE TRIGGER green_spaces_layer_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
       ON green_spaces FOR EACH STATEMENT EXECUTE FUNCTION jasyl_bump_layer_version()""",
]

DROP_DATABASE_LOGIC = [
    "DROP TRIGGER IF EXISTS plants_layer_version ON plants",
    "DROP TRIGGER IF EXISTS green_spaces_layer_version ON green_spaces",
    "DROP FUNCTION IF EXISTS jasyl_bump_layer_version()",
    "DROP SEQUENCE IF EXISTS layer_version_plants",
    "DROP SEQUENCE IF EXISTS layer_version_green_spaces",
    "DROP TRIGGER IF EXISTS plants_region ON plants",
    "DROP TRIGGER IF EXISTS green_spaces_region ON green_spaces",
    "DROP FUNCTION IF EXISTS jasyl_set_region()",
    "DROP FUNCTION IF EXISTS jasyl_region_at(geometry)",
]


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    op.create_geospatial_table(
        "regions",
        sa.Column("id", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("kato", sa.String(length=2), nullable=False),
        sa.Column("iso_code", sa.String(length=6), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("name_en", sa.Text(), nullable=False),
        sa.Column("name_ru", sa.Text(), nullable=False),
        sa.Column("name_kk", sa.Text(), nullable=False),
        sa.Column("centre", sa.Text(), nullable=False),
        sa.Column("zones", sa.ARRAY(sa.Text()), nullable=False),
        sa.Column("aliases", sa.ARRAY(sa.Text()), nullable=False),
        sa.Column(
            "boundary",
            Geometry(
                geometry_type="MULTIPOLYGON",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column(
            "boundary_simple",
            Geometry(
                geometry_type="MULTIPOLYGON",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_regions")),
        sa.UniqueConstraint("iso_code", name=op.f("uq_regions_iso_code")),
        sa.UniqueConstraint("kato", name=op.f("uq_regions_kato")),
    )
    op.create_geospatial_index(
        "idx_regions_boundary",
        "regions",
        ["boundary"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_table(
        "species",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("latin", sa.Text(), nullable=False),
        sa.Column("name_ru", sa.Text(), nullable=False),
        sa.Column("name_kk", sa.Text(), nullable=False),
        sa.Column("name_en", sa.Text(), nullable=False),
        sa.Column("rank", sa.String(length=8), nullable=False),
        sa.Column("genus", sa.Text(), nullable=False),
        sa.Column("life_form", sa.String(length=8), nullable=False),
        sa.Column("leaf_type", sa.String(length=10), nullable=False),
        sa.Column("max_height_m", sa.Numeric(precision=5, scale=1), nullable=False),
        sa.Column("max_trunk_diameter_cm", sa.Numeric(precision=5, scale=1), nullable=False),
        sa.Column("zones", sa.ARRAY(sa.Text()), nullable=False),
        sa.Column("aliases", sa.ARRAY(sa.Text()), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_species")),
        sa.UniqueConstraint("code", name=op.f("uq_species_code")),
    )
    op.create_geospatial_table(
        "region_parts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("region_id", sa.SmallInteger(), nullable=False),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="POLYGON",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["region_id"],
            ["regions.id"],
            name=op.f("fk_region_parts_region_id_regions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_region_parts")),
    )
    op.create_geospatial_index(
        "idx_region_parts_geom",
        "region_parts",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_index(op.f("ix_region_parts_region_id"), "region_parts", ["region_id"], unique=False)
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.Text(), nullable=False),
        sa.Column("full_name", sa.Text(), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=True),
        sa.Column(
            "role",
            sa.Enum("forester", "planner", "ministry", "nursery", "admin", name="user_role"),
            nullable=False,
        ),
        sa.Column("region_id", sa.SmallInteger(), nullable=True),
        sa.Column("nursery_id", sa.Integer(), nullable=True),
        sa.Column("locale", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "role <> 'forester' OR region_id IS NOT NULL", name=op.f("ck_users_forester_has_region")
        ),
        sa.ForeignKeyConstraint(
            ["region_id"], ["regions.id"], name=op.f("fk_users_region_id_regions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
    )
    op.create_index(
        "uq_users_email_lower", "users", [sa.literal_column("lower(email)")], unique=True
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column(
            "at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("entity", sa.Text(), nullable=False),
        sa.Column("entity_id", sa.BigInteger(), nullable=True),
        sa.Column("region_id", sa.SmallInteger(), nullable=True),
        sa.Column("field", sa.Text(), nullable=True),
        sa.Column("old_value", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("new_value", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index("ix_audit_log_entity", "audit_log", ["entity", "entity_id"], unique=False)
    op.create_table(
        "import_batches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("file_name", sa.Text(), nullable=False),
        sa.Column("file_sha256", sa.Text(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("region_id", sa.SmallInteger(), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column(
            "started_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("rows_read", sa.Integer(), nullable=False),
        sa.Column("rows_imported", sa.Integer(), nullable=False),
        sa.Column("rows_updated", sa.Integer(), nullable=False),
        sa.Column("rows_rejected", sa.Integer(), nullable=False),
        sa.Column("warnings", sa.Integer(), nullable=False),
        sa.Column("encoding", sa.Text(), nullable=True),
        sa.Column("crs", sa.Text(), nullable=True),
        sa.Column("details", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.ForeignKeyConstraint(
            ["region_id"], ["regions.id"], name=op.f("fk_import_batches_region_id_regions")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_import_batches_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_batches")),
    )
    op.create_index(
        op.f("ix_import_batches_file_sha256"), "import_batches", ["file_sha256"], unique=False
    )
    op.create_geospatial_table(
        "green_spaces",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("region_id", sa.SmallInteger(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column(
            "category",
            sa.Enum("public", "limited", "special", name="green_space_category"),
            nullable=False,
        ),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("balance_holder", sa.Text(), nullable=False),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="MULTIPOLYGON",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column(
            "geom_3857",
            Geometry(
                geometry_type="MULTIPOLYGON",
                srid=3857,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            sa.Computed("ST_Transform(geom, 3857)", persisted=True),
            nullable=False,
        ),
        sa.Column(
            "area_m2",
            sa.Float(),
            sa.Computed("ST_Area(geom::geography)", persisted=True),
            nullable=False,
        ),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("published", sa.Boolean(), server_default="true", nullable=False),
        sa.Column("import_batch_id", sa.Integer(), nullable=True),
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
        sa.ForeignKeyConstraint(
            ["import_batch_id"],
            ["import_batches.id"],
            name=op.f("fk_green_spaces_import_batch_id_import_batches"),
        ),
        sa.ForeignKeyConstraint(
            ["region_id"], ["regions.id"], name=op.f("fk_green_spaces_region_id_regions")
        ),
        sa.ForeignKeyConstraint(
            ["updated_by"], ["users.id"], name=op.f("fk_green_spaces_updated_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_green_spaces")),
    )
    op.create_geospatial_index(
        "idx_green_spaces_geom",
        "green_spaces",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_geospatial_index(
        "ix_green_spaces_geom_3857",
        "green_spaces",
        ["geom_3857"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_index(op.f("ix_green_spaces_region_id"), "green_spaces", ["region_id"], unique=False)
    op.create_geospatial_table(
        "plants",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("region_id", sa.SmallInteger(), nullable=False),
        sa.Column("green_space_id", sa.Integer(), nullable=True),
        sa.Column("inventory_number", sa.Text(), nullable=False),
        sa.Column("species_id", sa.Integer(), nullable=False),
        sa.Column(
            "planting_form",
            sa.Enum("solitary", "row", "group", "hedge", "massif", name="planting_form"),
            nullable=False,
        ),
        sa.Column(
            "geom",
            Geometry(
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column(
            "geom_3857",
            Geometry(
                srid=3857,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            sa.Computed("ST_Transform(geom, 3857)", persisted=True),
            nullable=False,
        ),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("length_m", sa.Numeric(precision=9, scale=1), nullable=True),
        sa.Column("area_m2", sa.Numeric(precision=11, scale=1), nullable=True),
        sa.Column("planting_year", sa.SmallInteger(), nullable=True),
        sa.Column("age_years", sa.SmallInteger(), nullable=True),
        sa.Column("height_m", sa.Numeric(precision=5, scale=1), nullable=True),
        sa.Column("trunk_diameter_cm", sa.Numeric(precision=5, scale=1), nullable=True),
        sa.Column("crown_diameter_m", sa.Numeric(precision=5, scale=1), nullable=True),
        sa.Column("condition", sa.SmallInteger(), nullable=False),
        sa.Column("hazardous", sa.Boolean(), server_default="false", nullable=False),
        sa.Column(
            "status",
            sa.Enum("alive", "dead", "removed", "stump", "vacant", name="plant_status"),
            nullable=False,
        ),
        sa.Column("address", sa.Text(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("published", sa.Boolean(), server_default="true", nullable=False),
        sa.Column("import_batch_id", sa.Integer(), nullable=True),
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
            "GeometryType(geom) IN ('POINT','LINESTRING','MULTILINESTRING','POLYGON','MULTIPOLYGON')",
            name=op.f("ck_plants_geometry_kind"),
        ),
        sa.CheckConstraint("condition BETWEEN 1 AND 6", name=op.f("ck_plants_condition_grade")),
        sa.CheckConstraint("quantity >= 1", name=op.f("ck_plants_quantity_positive")),
        sa.ForeignKeyConstraint(
            ["green_space_id"],
            ["green_spaces.id"],
            name=op.f("fk_plants_green_space_id_green_spaces"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["import_batch_id"],
            ["import_batches.id"],
            name=op.f("fk_plants_import_batch_id_import_batches"),
        ),
        sa.ForeignKeyConstraint(
            ["region_id"], ["regions.id"], name=op.f("fk_plants_region_id_regions")
        ),
        sa.ForeignKeyConstraint(
            ["species_id"], ["species.id"], name=op.f("fk_plants_species_id_species")
        ),
        sa.ForeignKeyConstraint(
            ["updated_by"], ["users.id"], name=op.f("fk_plants_updated_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plants")),
        sa.UniqueConstraint(
            "region_id", "inventory_number", name=op.f("uq_plants_region_id_inventory_number")
        ),
    )
    op.create_geospatial_index(
        "idx_plants_geom",
        "plants",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_geospatial_index(
        "ix_plants_geom_3857",
        "plants",
        ["geom_3857"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_index(op.f("ix_plants_green_space_id"), "plants", ["green_space_id"], unique=False)
    op.create_index(op.f("ix_plants_region_id"), "plants", ["region_id"], unique=False)
    op.create_index(op.f("ix_plants_species_id"), "plants", ["species_id"], unique=False)
    op.create_table(
        "inspections",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("plant_id", sa.BigInteger(), nullable=False),
        sa.Column("inspected_on", sa.Date(), nullable=False),
        sa.Column("inspector", sa.Text(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("condition", sa.SmallInteger(), nullable=False),
        sa.Column("hazardous", sa.Boolean(), nullable=False),
        sa.Column("height_m", sa.Numeric(precision=5, scale=1), nullable=True),
        sa.Column("trunk_diameter_cm", sa.Numeric(precision=5, scale=1), nullable=True),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "condition BETWEEN 1 AND 6", name=op.f("ck_inspections_condition_grade")
        ),
        sa.ForeignKeyConstraint(
            ["plant_id"],
            ["plants.id"],
            name=op.f("fk_inspections_plant_id_plants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_inspections_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inspections")),
    )
    op.create_index(op.f("ix_inspections_plant_id"), "inspections", ["plant_id"], unique=False)
    for statement in DATABASE_LOGIC:
        op.execute(statement)
    bind = op.get_bind()
    load_regions(bind)
    sync_catalogue(bind)


def downgrade() -> None:
    for statement in DROP_DATABASE_LOGIC:
        op.execute(statement)
    op.drop_index(op.f("ix_inspections_plant_id"), table_name="inspections")
    op.drop_table("inspections")
    op.drop_index(op.f("ix_plants_species_id"), table_name="plants")
    op.drop_index(op.f("ix_plants_region_id"), table_name="plants")
    op.drop_index(op.f("ix_plants_green_space_id"), table_name="plants")
    op.drop_geospatial_index(
        "ix_plants_geom_3857", table_name="plants", postgresql_using="gist", column_name="geom_3857"
    )
    op.drop_geospatial_index(
        "idx_plants_geom", table_name="plants", postgresql_using="gist", column_name="geom"
    )
    op.drop_geospatial_table("plants")
    op.drop_index(op.f("ix_green_spaces_region_id"), table_name="green_spaces")
    op.drop_geospatial_index(
        "ix_green_spaces_geom_3857",
        table_name="green_spaces",
        postgresql_using="gist",
        column_name="geom_3857",
    )
    op.drop_geospatial_index(
        "idx_green_spaces_geom",
        table_name="green_spaces",
        postgresql_using="gist",
        column_name="geom",
    )
    op.drop_geospatial_table("green_spaces")
    op.drop_index(op.f("ix_import_batches_file_sha256"), table_name="import_batches")
    op.drop_table("import_batches")
    op.drop_index("ix_audit_log_entity", table_name="audit_log")
    op.drop_table("audit_log")
    op.drop_index("uq_users_email_lower", table_name="users")
    op.drop_table("users")
    op.drop_index(op.f("ix_region_parts_region_id"), table_name="region_parts")
    op.drop_geospatial_index(
        "idx_region_parts_geom",
        table_name="region_parts",
        postgresql_using="gist",
        column_name="geom",
    )
    op.drop_geospatial_table("region_parts")
    op.drop_table("species")
    op.drop_geospatial_index(
        "idx_regions_boundary",
        table_name="regions",
        postgresql_using="gist",
        column_name="boundary",
    )
    op.drop_geospatial_table("regions")
    for enum_name in ENUMS:
        sa.Enum(name=enum_name).drop(op.get_bind(), checkfirst=True)
