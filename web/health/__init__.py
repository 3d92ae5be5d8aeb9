"""``/healthz`` and ``/readyz``: what monitors and load balancers ask of a running server."""
