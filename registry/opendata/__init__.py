"""Open data: the published layers as OGC API collections and exports, and NDVI per green space."""
