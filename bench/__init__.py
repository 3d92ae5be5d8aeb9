"""Benchmarks: ``python -m bench.NAME`` prints figures and the ratio to a baseline run alongside."""
