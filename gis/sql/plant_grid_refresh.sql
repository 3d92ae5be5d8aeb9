-- Rebuild one region's grid cells (~153 m, the z12 tile grid) from its plants. The caller holds
-- the region's plant_grid_state row FOR UPDATE, so a concurrent write marks it dirty after us.
WITH points AS (
    SELECT p.published, p.condition, ST_PointOnSurface(p.geom_3857) AS pt
    FROM plants p
    WHERE p.region_id = :region
), cells AS (
    SELECT published, condition, ST_X(pt) AS x, ST_Y(pt) AS y,
           floor(ST_X(pt) / :base)::int AS cx, floor(ST_Y(pt) / :base)::int AS cy
    FROM points
)
INSERT INTO plant_grid_cells
    (region_id, published, cx, cy, plants, condition_sum, assessed, sum_x, sum_y, geom)
SELECT :region, published, cx, cy, count(*), coalesce(sum(condition), 0), count(condition),
       sum(x), sum(y),
       ST_SetSRID(ST_MakePoint(sum(x) / count(*), sum(y) / count(*)), 3857)
FROM cells
GROUP BY published, cx, cy
