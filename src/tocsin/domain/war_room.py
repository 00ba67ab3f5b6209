"""The war room's people and conversation: participants, private incidents, messages."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from tocsin.domain import events
from tocsin.domain.actors import Actor
from tocsin.domain.authority import Power, authorize
from tocsin.domain.errors import InvalidInput, NoChange, NotFound
from tocsin.domain.roles import Role, RoleAssignment
from tocsin.domain.severities import Severity
from tocsin.domain.statuses import Status
from tocsin.domain.timeline import EntryKind, TimelineEntry

MESSAGE_MAX = 4_000


class JoinReason(StrEnum):
    """Why someone is a participant; only invitations are announced on the timeline."""

    DECLARED = "declared"
    ROLE = "role"
    PAGED = "paged"
    INVITED = "invited"
    TASK = "task owner"


@dataclass(frozen=True)
class Participant:
    """A person taking part in an incident; private incidents are visible to these people only."""

    person_id: int
    reason: JoinReason
    added_at: datetime
    added_by: str


@dataclass
class Message:
    """One message in the war room's live conversation."""

    incident_id: int
    author: str
    author_user_id: int | None
    body: str
    posted_at: datetime
    via: str | None = None  # the chat integration it came through; None when posted in Tocsin
    id: int | None = None


def clean_message(body: str) -> str:
    """Trim a message and refuse empty or oversized ones."""
    text = body.strip()
    if not text:
        raise InvalidInput("message must not be empty", field="body")
    if len(text) > MESSAGE_MAX:
        raise InvalidInput(
            f"message is {len(text)} characters; the limit is {MESSAGE_MAX}", field="body"
        )
    return text


def mirrored_text(reference: str, author: str, body: str) -> str:
    """How a war-room message reads in a chat tool; the leading reference marks it as ours."""
    return f"[{reference}] {author}: {body}"


def is_mirrored(text: str) -> bool:
    """A chat message that is one of our own mirrored messages coming back: not taken in again."""
    return _MIRRORED.match(text.lstrip()) is not None


_MIRRORED = re.compile(r"^\[INC-\d+\] ")


@dataclass(frozen=True)
class PersonRef:
    """A person as a role holder, with the name shown on the timeline."""

    id: int
    name: str


class WarRoom:
    """The incident's authority and war-room rules: who may act, who may see it, who takes part,
    and its conversation. A part of Incident (which supplies the state below), kept apart so
    neither module grows past reading in one go."""

    if TYPE_CHECKING:
        id: int
        severity: Severity
        status: Status
        roles: list[RoleAssignment]
        private: bool
        participants: dict[int, Participant]
        events: list[events.Event]
        new_participants: list[Participant]
        new_messages: list[Message]

        @property
        def reference(self) -> str: ...

        def log(
            self,
            kind: EntryKind,
            body: str,
            actor: Actor,
            now: datetime,
            *,
            occurred_at: datetime | None = None,
            data: dict[str, Any] | None = None,
            corrects_seq: int | None = None,
        ) -> TimelineEntry: ...

    # ----- authority ------------------------------------------------------------------------
    def authorize(
        self,
        actor: Actor,
        power: Power,
        action: str,
        now: datetime,
        also: tuple[Role, ...] = (),
    ) -> None:
        """Refuse an action outside the actor's role; an admin's override goes on the timeline."""
        self.check_visible(actor)
        clearance = authorize(self.roles, actor, power, action, self.reference, also)
        if clearance.override:
            self.log(
                EntryKind.OVERRIDE,
                f"Admin override by {actor.name}: {clearance.note}",
                actor,
                now,
                data={"power": power.value, "action": action},
            )

    def is_visible_to(self, actor: Actor) -> bool:
        """Private incidents exist only for their participants, admins and Tocsin itself."""
        return (
            not self.private
            or actor.user_id is None
            or actor.admin
            or (actor.person_id is not None and actor.person_id in self.participants)
        )

    def check_visible(self, actor: Actor) -> None:
        if not self.is_visible_to(actor):
            raise NotFound(f"no incident {self.reference}", field="incident")

    # ----- war room ---------------------------------------------------------------------------
    def _join(self, person_id: int, reason: JoinReason, actor: Actor, now: datetime) -> bool:
        if person_id in self.participants:
            return False
        participant = Participant(person_id, reason, now, actor.name)
        self.participants[person_id] = participant
        self.new_participants.append(participant)
        return True

    def paged(self, person: PersonRef, now: datetime) -> None:
        """Someone paged for the incident takes part in it, and may see it even if private."""
        self._join(person.id, JoinReason.PAGED, Actor.system(), now)

    def take_part(self, person: PersonRef, reason: JoinReason, actor: Actor, now: datetime) -> None:
        """Someone given work on the incident (a task) takes part in it, quietly."""
        self._join(person.id, reason, actor, now)

    def invite(self, person: PersonRef, actor: Actor, now: datetime) -> None:
        """Bring someone into the war room (and, for a private incident, into the secret)."""
        self.authorize(actor, Power.DECIDE, "inviting people", now)
        if not self._join(person.id, JoinReason.INVITED, actor, now):
            raise NoChange(f"{person.name} already takes part in {self.reference}", field="person")
        self.log(
            EntryKind.PARTICIPANT_INVITED,
            f"{person.name} was invited to the war room",
            actor,
            now,
            data={"person_id": person.id, "person": person.name},
        )

    def set_private(self, private: bool, actor: Actor, now: datetime) -> None:
        """Restrict the incident to its participants and admins, or open it to everyone."""
        self.authorize(actor, Power.DECIDE, "changing who may see the incident", now)
        if private == self.private:
            state = "private" if private else "visible to everyone"
            raise NoChange(f"{self.reference} is already {state}", field="private")
        self.private = private
        if private and actor.person_id is not None:
            self._join(actor.person_id, JoinReason.DECLARED, actor, now)
        body = (
            "Made private: only participants and admins can see it"
            if private
            else "Made visible to everyone"
        )
        self.log(EntryKind.VISIBILITY_CHANGED, body, actor, now, data={"private": private})
        self.events.append(events.IncidentVisibilityChanged(self.id, private))

    def restrict(self, why: str, actor: Actor, now: datetime) -> None:
        """Make the incident private as a consequence (a security playbook), never the reverse.

        Narrowing who may see an incident needs no decision; opening it up again does.
        """
        if self.private:
            return
        self.private = True
        if actor.person_id is not None:
            self._join(actor.person_id, JoinReason.DECLARED, actor, now)
        self.log(
            EntryKind.VISIBILITY_CHANGED,
            f"Made private: {why}; only participants and admins can see it",
            actor,
            now,
            data={"private": True},
        )
        self.events.append(events.IncidentVisibilityChanged(self.id, True))

    def post_message(
        self, body: str, actor: Actor, now: datetime, via: str | None = None
    ) -> Message:
        """Say something in the war room; everyone watching sees it at once.

        `via` names the chat integration a message came through. Chat users are not Tocsin
        users, so a private incident takes no messages from chat.
        """
        self.authorize(actor, Power.ADVISE, "posting messages", now)
        if via is not None and self.private:
            raise NotFound(f"no incident {self.reference}", field="incident")
        message = Message(self.id, actor.name, actor.user_id, clean_message(body), now, via)
        self.new_messages.append(message)
        self.events.append(
            events.WarRoomMessagePosted(self.id, message.author, message.body, now, via)
        )
        return message

    @property
    def needs_commander(self) -> bool:
        """A P1 or P2 that is open without an Incident Commander is flagged until one is named."""
        return (
            self.severity.needs_commander
            and self.status.is_open
            and not self.holders(Role.INCIDENT_COMMANDER)
        )

    # ----- roles ------------------------------------------------------------------------------
    def holders(self, role: Role) -> list[RoleAssignment]:
        return [a for a in self.roles if a.role is role]

    def assign_role(self, role: Role, person: PersonRef, actor: Actor, now: datetime) -> None:
        """Give a role to a person; a single-holder role is handed over from its holder."""
        self.authorize(actor, Power.DECIDE, f"assigning the {role.label} role", now)
        current = self.holders(role)
        if any(a.person_id == person.id for a in current):
            raise NoChange(f"{person.name} is already {role.label}", field="person")
        previous = None if role.is_shared or not current else current[0]
        assignment = RoleAssignment(role, person.id, person.name, now, actor.name)
        self.roles = [a for a in self.roles if a is not previous] + [assignment]
        self._join(person.id, JoinReason.ROLE, actor, now)
        if previous is not None:
            body = f"{role.label} handed over from {previous.person_name} to {person.name}"
        else:
            body = f"{person.name} is now {role.label}"
        self.log(
            EntryKind.ROLE_ASSIGNED,
            body,
            actor,
            now,
            data={
                "role": role.value,
                "person_id": person.id,
                "person": person.name,
                "previous_person_id": previous.person_id if previous else None,
                "previous_person": previous.person_name if previous else None,
            },
        )
        self.events.append(
            events.IncidentRoleAssigned(
                self.id, role, person.id, previous.person_id if previous else None
            )
        )

    def relieve_role(self, role: Role, person_id: int | None, actor: Actor, now: datetime) -> None:
        """Take a role away; for shared roles with several holders the person must be named."""
        current = self.holders(role)
        if not current:
            raise NoChange(f"nobody is {role.label} on {self.reference}", field="role")
        if person_id is None:
            if len(current) > 1:
                names = ", ".join(a.person_name for a in current)
                raise InvalidInput(
                    f"{len(current)} people are {role.label} ({names}); name the one to relieve",
                    field="person",
                )
            target = current[0]
        else:
            matches = [a for a in current if a.person_id == person_id]
            if not matches:
                raise NoChange(
                    f"that person is not {role.label} on {self.reference}", field="person"
                )
            target = matches[0]
        if target.person_id != actor.person_id:  # anyone may step down from their own role
            self.authorize(actor, Power.DECIDE, f"relieving the {role.label}", now)
        self.roles = [a for a in self.roles if a is not target]
        self.log(
            EntryKind.ROLE_RELIEVED,
            f"{target.person_name} is no longer {role.label}",
            actor,
            now,
            data={"role": role.value, "person_id": target.person_id, "person": target.person_name},
        )
        self.events.append(events.IncidentRoleRelieved(self.id, role, target.person_id))
