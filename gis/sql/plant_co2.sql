-- A plant record's class of CO₂ stored for the map's "CO₂ stored" colours: 1 below the first of
-- :co2_breaks (kg), 6 from the last; NULL (the attribute left out) when it has no figure.
(SELECT width_bucket(b.co2_stored_kg::float8, CAST(:co2_breaks AS float8[])) + 1
 FROM jasyl_plant_benefit(p, kc.k) b)
