"""Benchmarks: ``python -m bench.NAME`` prints figures and the ratio to a baseline run alongside."""

import os

# A bench builds the app in its own process as the tests do: explicitly not a deployment, so
# the development signing key is allowed (``web.auth.sessions``).
os.environ.setdefault("JASYL_ENV", "test")
