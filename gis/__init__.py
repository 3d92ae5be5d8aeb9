"""Spatial work with no domain rules: vector tiles, reprojection, geometry checks, rasters."""
