-- The version of one tile's data: the sum of the change counters (revision 0014) of the z14
-- cells its query envelope (with the tiles' 64-pixel margin) covers, and who keeps them: cluster,
-- database and the counter table's file, which a restore, a reset, a TRUNCATE (counters back to
-- zero) or another server all change. Read it in the same snapshot as the tile, so the tile and
-- its version always belong together.
WITH q AS (
    SELECT ST_TileEnvelope(:z, :x, :y, margin => 64.0 / 4096) AS e
)
SELECT concat_ws('.', (SELECT system_identifier FROM pg_control_system()),
                 (SELECT oid FROM pg_database WHERE datname = current_database()),
                 pg_relation_filenode('tile_versions')) AS holder,
       (SELECT coalesce(sum(t.version), 0)
        FROM tile_versions t, q
        WHERE t.layer = :layer
          AND t.cx BETWEEN jasyl_tile_cell_x(ST_XMin(q.e)) AND jasyl_tile_cell_x(ST_XMax(q.e))
          AND t.cy BETWEEN jasyl_tile_cell_y(ST_YMax(q.e)) AND jasyl_tile_cell_y(ST_YMin(q.e))
       ) AS version
