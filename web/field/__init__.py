"""Field mode: the installable offline page for phones, and the API its outbox syncs with."""
