"""NDVI imagery for the map: overlays, legend and per-green-space history."""
