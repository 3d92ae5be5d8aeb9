"""Who is asking: the ``Actor`` for the current request, used by every view that calls a service.

Views never decide access themselves; they pass ``current_actor()`` to the registry services,
which ask ``registry.access``. Until a user signs in, the actor is the public.
"""

from __future__ import annotations

from flask import g

from registry.access import Actor


def current_actor() -> Actor:
    """The signed-in user's actor, or the public's."""
    actor = g.get("jasyl_actor")
    return actor if actor is not None else Actor.public()
