-- Attribute filters shared by the plant tiles; a NULL parameter means "any".
    AND (CAST(:species AS int[]) IS NULL OR p.species_id = ANY(CAST(:species AS int[])))
    AND (CAST(:conditions AS int[]) IS NULL OR p.condition = ANY(CAST(:conditions AS int[])))
    AND (CAST(:statuses AS text[]) IS NULL OR p.status::text = ANY(CAST(:statuses AS text[])))
    AND (CAST(:regions AS int[]) IS NULL OR p.region_id = ANY(CAST(:regions AS int[])))
    AND (CAST(:year_from AS int) IS NULL OR p.planting_year >= CAST(:year_from AS int))
    AND (CAST(:year_to AS int) IS NULL OR p.planting_year <= CAST(:year_to AS int))
