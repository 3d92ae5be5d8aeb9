"""Ecosystem benefits of trees: carbon stored and sequestered, rain intercepted, their value.

The method and its sources: ``../shared/guides/benefits.md``. Reference data (equations per
species, constants, precipitation, prices) are versioned CSV files in ``reference/``, loaded into
the database by migration 0026; ``rules`` holds the pure equations, the database mirrors them in
``jasyl_plant_benefit`` to keep ``benefit_tallies`` current in the writing transaction.
"""
