"""Finding a catalog person by handle, for the commands that name one."""

from __future__ import annotations

from tocsin.domain.errors import NotFound
from tocsin.domain.war_room import PersonRef
from tocsin.services.ports import UnitOfWork


def person_ref(uow: UnitOfWork, handle: str, field: str = "person") -> PersonRef:
    """The person a handle names; NotFound naming `field` when nobody has it."""
    person = uow.people.find(handle.strip().lower())
    if person is None or person.id is None:
        raise NotFound(f"no person with handle {handle!r}", field=field)
    return PersonRef(person.id, person.name)
