"""Felling permits and the compensatory planting they oblige."""
