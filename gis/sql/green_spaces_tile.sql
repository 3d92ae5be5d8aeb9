-- One vector tile of green-space polygons, simplified by ST_AsMVTGeom's grid snapping.
WITH bounds AS (
    SELECT ST_TileEnvelope(:z, :x, :y) AS env,
           ST_TileEnvelope(:z, :x, :y, margin => 64.0 / 4096) AS query
)
SELECT ST_AsMVT(tile, 'green_spaces', 4096, 'geom', 'id')
FROM (
    SELECT g.id,
           ST_AsMVTGeom(g.geom_3857, bounds.env, 4096, 64, true) AS geom,
           g.name, g.category::text AS category, g.kind, round(g.area_m2)::int AS area_m2
    FROM green_spaces g, bounds
    WHERE g.geom_3857 && bounds.query AND (g.published OR :internal)
) AS tile
WHERE tile.geom IS NOT NULL
