"""The JSON API ``/api/v1``: plants, green spaces, inspections, regions, species."""
