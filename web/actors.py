"""Who is asking: the ``Actor`` for the current request, used by every view that calls a service.

Views never decide access themselves; they pass ``current_actor()`` to the registry services,
which ask ``registry.access``. Without a signed-in user the actor is the public.
"""

from __future__ import annotations

from flask import g
from flask_login import current_user

from registry.access import Actor


def current_actor() -> Actor:
    """The signed-in user's actor (``registry.accounts.services.actor_for``), or the public's."""
    actor = g.get("jasyl_actor")
    if actor is not None:
        return actor
    if current_user and current_user.is_authenticated:
        return current_user.actor
    return Actor.public()
