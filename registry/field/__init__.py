"""Field mode: changes recorded on a phone without signal, applied exactly once when synced."""
