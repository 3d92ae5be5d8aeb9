"""Planting plans, planting events and their survival checks."""
