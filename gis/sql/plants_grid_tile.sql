-- One vector tile of plant counts per grid cell (z < 13): a city of a million trees stays a
-- few thousand features. Each cell carries its count and mean condition grade.
WITH bounds AS (
    SELECT ST_TileEnvelope(:z, :x, :y) AS env
)
SELECT ST_AsMVT(tile, 'plants_grid', 4096, 'geom')
FROM (
    SELECT ST_AsMVTGeom(ST_Centroid(ST_Collect(p.geom_3857)), bounds.env, 4096, 0, true) AS geom,
           count(*) AS plants,
           round(avg(p.condition), 2)::float AS condition
    FROM plants p, bounds
    WHERE p.geom_3857 && bounds.env AND (p.published OR :internal)
    /*filters*/
    GROUP BY ST_SnapToGrid(ST_PointOnSurface(p.geom_3857), :cell), bounds.env
) AS tile
WHERE tile.geom IS NOT NULL
