-- One Mapbox vector tile of plant dots (z13, z14): a plant per 2-pixel dot with the number it
-- stands for. Cells whose dots are current (``jasyl_dot_cells``) read ``plant_dots``; the rest
-- (written since their rebuild, or every cell when the map is filtered) are made from the
-- plants in the same statement, so the tile is exact either way.
WITH bounds AS (
    SELECT ST_TileEnvelope(:z, :x, :y) AS env,
           ST_TileEnvelope(:z, :x, :y, margin => 64.0 / 4096) AS query
), covered AS (
    SELECT c.cx, c.cy, c.fresh AND NOT :filtered AS fresh
    FROM bounds, jasyl_dot_cells(bounds.query::box2d) AS c
), stale AS (
    SELECT cx, cy FROM covered WHERE NOT fresh
), reach AS (
    SELECT ST_Intersection(ST_SetSRID(ST_Extent(jasyl_tile_cell_box(s.cx, s.cy))::geometry, 3857),
                           (SELECT query FROM bounds)) AS area
    FROM stale s
), dots AS (
    SELECT d.plant_id, d.plants, d.condition, d.hazardous, d.status, d.form, d.species_id,
           d.planting_year, d.geom
    FROM plant_dots d, bounds
    WHERE d.geom && bounds.query AND d.level = :z AND (d.published OR :internal)
      AND (d.cx, d.cy) IN (SELECT cx, cy FROM covered WHERE fresh)
    UNION ALL
    SELECT m.plant_id, m.plants, m.condition, m.hazardous, m.status, m.form, m.species_id,
           m.planting_year, m.geom
    FROM (
/*from_plants*/
    ) AS m
)
SELECT ST_AsMVT(tile, 'plants', 4096, 'geom', 'id')
FROM (
    SELECT d.plant_id AS id, ST_AsMVTGeom(d.geom, bounds.env, 4096, 64, true) AS geom,
           d.plants, d.condition, d.status, d.species_id, d.planting_year, d.hazardous, d.form
           /*co2_dot*/
    FROM dots d, bounds /*co2_from*/
) AS tile
WHERE tile.geom IS NOT NULL
