-- One low-zoom tile (z < 13) from the precomputed grid cells: each tile cell adds up the ~153 m
-- cells inside it (they nest exactly: a z-cell is 2^(12-z) base cells). Regions whose cells are
-- behind their plants (``dirty``, read in the same statement) are aggregated from the plants on
-- the fly, so counts stay exact; with none dirty that branch is a one-time false filter and never
-- runs.
WITH bounds AS (
    SELECT ST_TileEnvelope(:z, :x, :y) AS env
), dirty AS (
    SELECT region_id FROM plant_grid_state WHERE dirty
), cells AS (
    SELECT c.cx, c.cy, c.plants, c.condition_sum, c.assessed, c.sum_x, c.sum_y
    FROM plant_grid_cells c, bounds
    WHERE c.geom && bounds.env AND (c.published OR :internal)
      AND c.region_id NOT IN (SELECT region_id FROM dirty)
    UNION ALL
    SELECT floor(ST_X(pt) / :base)::int, floor(ST_Y(pt) / :base)::int, 1, coalesce(condition, 0),
           (condition IS NOT NULL)::int, ST_X(pt), ST_Y(pt)
    FROM (
        SELECT p.condition, ST_PointOnSurface(p.geom_3857) AS pt
        FROM plants p, bounds
        WHERE EXISTS (SELECT 1 FROM dirty)
          AND p.region_id IN (SELECT region_id FROM dirty)
          AND p.geom_3857 && bounds.env AND (p.published OR :internal)
    ) AS fresh
    WHERE ST_Intersects(pt, (SELECT env FROM bounds))
)
SELECT ST_AsMVT(tile, 'plants_grid', 4096, 'geom')
FROM (
    SELECT ST_AsMVTGeom(
               ST_SetSRID(ST_MakePoint(sum(sum_x) / sum(plants), sum(sum_y) / sum(plants)), 3857),
               (SELECT env FROM bounds), 4096, 0, true) AS geom,
           sum(plants)::int AS plants,
           -- over the assessed plants only; none assessed: no mean (not "healthy")
           round(sum(condition_sum)::numeric / nullif(sum(assessed), 0), 2)::float AS condition
    FROM cells
    GROUP BY floor(cx / :factor), floor(cy / :factor)
) AS tile
WHERE tile.geom IS NOT NULL
