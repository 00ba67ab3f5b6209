"""Private incidents in queries: what a viewer may not see, as one reusable SQL condition."""

from __future__ import annotations

from sqlalchemy import ColumnElement, Connection, Select, exists, or_, select, true

from tocsin.adapters import orm
from tocsin.domain.errors import NotFound
from tocsin.domain.incidents import reference
from tocsin.views.accounts import Principal


def hidden_incidents(viewer: Principal) -> Select[tuple[int]]:
    """The private incidents `viewer` does not take part in."""
    i, p = orm.incidents, orm.incident_participants
    joined = exists().where(p.c.incident_id == i.c.id, p.c.person_id == viewer.person_id)
    query = select(i.c.id).where(i.c.private.is_(True))
    return query if viewer.person_id is None else query.where(~joined)


def visible(viewer: Principal | None, incident_id: ColumnElement[int]) -> ColumnElement[bool]:
    """True for rows about no incident, a public one, or a private one the viewer is part of."""
    if viewer is None or viewer.sees_everything:
        return true()
    return or_(incident_id.is_(None), incident_id.not_in(hidden_incidents(viewer)))


def require_visible(conn: Connection, incident_id: int, viewer: Principal | None) -> None:
    """NotFound, worded as for a missing incident, unless it exists and the viewer may see it."""
    i = orm.incidents
    query = select(i.c.id).where(i.c.id == incident_id, visible(viewer, i.c.id))
    if conn.scalar(query) is None:
        raise NotFound(f"no incident {reference(incident_id)}", field="incident")
