-- Rebuild the dots of the z14 cell (:cx, :cy) at zoom :level (dot size :dot). Run in one
-- REPEATABLE READ transaction with the counter the cell is marked with, so the dots and the
-- counter they claim come from one snapshot.
WITH stale AS (
    SELECT CAST(:cx AS int) AS cx, CAST(:cy AS int) AS cy
), reach AS (
    SELECT jasyl_tile_cell_box(CAST(:cx AS int), CAST(:cy AS int)) AS area
)
INSERT INTO plant_dots (level, plant_id, cx, cy, published, plants, condition, hazardous,
                        status, form, species_id, planting_year, geom)
SELECT :level, f.plant_id, f.cx, f.cy, f.published, f.plants, f.condition, f.hazardous,
       f.status, f.form, f.species_id, f.planting_year, f.geom
FROM (
/*from_plants*/
) AS f
