"""Demo accounts, one per role, so the demo can be tried as each kind of user."""

from __future__ import annotations

from sqlalchemy.orm import Session

from registry.access import Actor
from registry.accounts.services import add_user, find_user

DEMO_PASSWORD = "jasyl-demo-2025"
DEMO_USERS = (
    ("admin@demo.jasyl.kz", "admin", None),
    ("forester.astana@demo.jasyl.kz", "forester", "KZ-71"),
    ("forester.almaty@demo.jasyl.kz", "forester", "KZ-75"),
    ("planner@demo.jasyl.kz", "planner", None),
    ("ministry@demo.jasyl.kz", "ministry", None),
)


def ensure_demo_users(session: Session) -> list[str]:
    """Add the demo accounts that do not exist yet; returns the e-mails added."""
    added = []
    for email, role, region in DEMO_USERS:
        if find_user(session, email) is None:
            add_user(session, Actor.system("demo"), email, role, region, DEMO_PASSWORD)
            added.append(email)
    return added
