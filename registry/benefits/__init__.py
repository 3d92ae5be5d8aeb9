"""Ecosystem benefits of trees: carbon stored and sequestered, rain intercepted, their value.

The method and its sources: ``../shared/guides/benefits.md``. Reference data (equations per
species, constants, precipitation, prices) are versioned CSV files in ``reference/``, loaded into
the database by migration 0026; ``rules`` holds the pure equations, the database mirrors them in
``jasyl_plant_benefit`` (one plant: its card, the OGC collection) and, set-based for a whole
statement's plants, in the triggers that keep ``benefit_tallies`` current in the writing
transaction (migration 0028; ``tests/test_benefit_tallies_set.py`` holds the two equal).
"""
