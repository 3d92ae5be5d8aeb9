"""Survey files in, validated registry records out (shapefiles, GeoPackage, GeoJSON, CSV, XLSX)."""
