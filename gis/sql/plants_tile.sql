-- One Mapbox vector tile of individual plants (z >= 13). Martin's query shape: the tile bounds
-- (with a 64-pixel margin) select rows by the GiST index on the stored EPSG:3857 copy.
WITH bounds AS (
    SELECT ST_TileEnvelope(:z, :x, :y) AS env,
           ST_TileEnvelope(:z, :x, :y, margin => 64.0 / 4096) AS query
)
SELECT ST_AsMVT(tile, 'plants', 4096, 'geom', 'id')
FROM (
    SELECT p.id,
           ST_AsMVTGeom(p.geom_3857, bounds.env, 4096, 64, true) AS geom,
           p.condition, p.status::text AS status, p.species_id, p.planting_year,
           p.hazardous, p.planting_form::text AS form /*co2*/
    FROM plants p, bounds /*co2_from*/
    WHERE p.geom_3857 && bounds.query AND (p.published OR :internal)
    /*filters*/
    LIMIT 50000
) AS tile
WHERE tile.geom IS NOT NULL
