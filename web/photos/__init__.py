"""Plant photos over HTTP."""
