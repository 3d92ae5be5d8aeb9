"""Forest nurseries: seed lots, growing stock by stage, dispatch to akimats, provenance."""
