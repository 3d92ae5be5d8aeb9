"""Editing the inventory in the browser: forms for foresters, validated by the services."""
