-- The dots of the z14 cells in ``stale`` (cx, cy) at the dot size :dot, made from the plants
-- themselves: per dot (and per audience: published or not) the plant to draw, hazards and the
-- worst condition first, and how many plants it stands for. A hedge or a lawn keeps its own
-- shape (``lone``) and sits at its bounding box's centre. Rebuilds ``plant_dots`` and draws
-- the cells written since their rebuild.
--
-- Shaped for speed (a dense cell holds 30,000 plants): one bitmap scan over ``reach`` (the
-- caller's area: nothing when no cell is stale); coordinates from the bounding box once per
-- plant (OFFSET 0 keeps the planner from recomputing them per expression); the plant to draw
-- is the smallest ``rank`` (hazard, then condition, in the bits above the 48-bit id) of a
-- hashed group, and only those plants' attributes are read.
SELECT d.plant_id, d.cx, d.cy, d.published, d.plants, p.condition, p.hazardous,
       p.status::text AS status, p.planting_form::text AS form, p.species_id, p.planting_year,
       p.geom_3857 AS geom
FROM (
    SELECT s.cx, s.cy, k.published, count(*) AS plants,
           min(k.rank) & 281474976710655 AS plant_id
    FROM (
        SELECT p.published, (ST_XMin(p.box) + ST_XMax(p.box)) / 2 AS x,
               (ST_YMin(p.box) + ST_YMax(p.box)) / 2 AS y,
               CASE WHEN ST_XMin(p.box) = ST_XMax(p.box) AND ST_YMin(p.box) = ST_YMax(p.box)
                    THEN 0 ELSE p.id END AS lone,
               ((CASE WHEN p.hazardous THEN 0 ELSE 8 END + 6 - coalesce(p.condition, 0))::bigint << 48)
                   | p.id AS rank
        FROM (
            SELECT p.id, p.published, p.hazardous, p.condition, p.geom_3857::box3d AS box
            FROM plants p
            WHERE p.geom_3857 && (SELECT area FROM reach) AND (p.published OR :internal)
              /*filters*/
            OFFSET 0
        ) AS p
    ) AS k
    JOIN stale s ON s.cx = jasyl_tile_cell_x(k.x) AND s.cy = jasyl_tile_cell_y(k.y)
    GROUP BY s.cx, s.cy, k.published, floor(k.x / :dot), floor(k.y / :dot), k.lone
) AS d
JOIN plants p ON p.id = d.plant_id
