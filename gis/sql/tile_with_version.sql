-- A tile and its version (tile_version.sql) from one statement, so both see one snapshot without
-- a transaction around them; ``dirty`` says whether the plant grid waits for a rebuild (only
-- asked when the tile reads the grid).
SELECT v.holder, v.version, (
/*tile*/
) AS body, /*grid_dirty*/ AS dirty
FROM (
/*version*/
) AS v
