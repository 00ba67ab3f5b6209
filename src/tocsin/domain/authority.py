"""Who may do what on an incident: the spec's role authority, enforced.

Incident Commander — all decisions; Technical Lead — technical changes; Communications Lead —
messaging; Scribe — documentation and timeline; Subject Matter Experts — advice. Notes and
messages are open to every responder. While an incident has no Incident Commander, the war room
is still forming and any responder may act; admins may always act, and that override is recorded.
Actors without a user account (Tocsin itself, integrations, an operator on the server's own
database) are not restricted.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from tocsin.domain.actors import Actor
from tocsin.domain.errors import PermissionDenied
from tocsin.domain.roles import Role, RoleAssignment


class Power(StrEnum):
    """A kind of action, granted by incident roles."""

    DECIDE = "decide"  # severity, status, resolve, roles, approvals, overrides, privacy
    TECHNICAL = "technical"  # tasks, checklists, mitigation actions, runbook steps, checks
    MESSAGING = "messaging"  # stakeholder updates, status page drafts
    DOCUMENT = "document"  # incident details, timestamps, key moments
    ADVISE = "advise"  # notes, comments, war-room messages


GRANTS: dict[Role, frozenset[Power]] = {
    Role.INCIDENT_COMMANDER: frozenset(Power),
    Role.TECHNICAL_LEAD: frozenset({Power.TECHNICAL, Power.ADVISE}),
    Role.COMMUNICATIONS_LEAD: frozenset({Power.MESSAGING, Power.ADVISE}),
    Role.SCRIBE: frozenset({Power.DOCUMENT, Power.ADVISE}),
    Role.SUBJECT_MATTER_EXPERT: frozenset({Power.ADVISE}),
}


def roles_with(power: Power) -> list[Role]:
    """The roles whose holders have `power`, most senior first."""
    return [role for role in Role if power in GRANTS[role]]


@dataclass(frozen=True)
class Clearance:
    """The outcome of a check that allowed the action; `override` says an admin stepped in."""

    override: bool = False
    note: str = ""


def authorize(
    roles: list[RoleAssignment],
    actor: Actor,
    power: Power,
    action: str,
    reference: str,
    also: tuple[Role, ...] = (),
) -> Clearance:
    """Allow or refuse `action` (worded like "changing the severity") for `actor`.

    `also` names extra roles allowed this once, e.g. a task's specialist role.
    """
    if actor.user_id is None or power is Power.ADVISE:
        return Clearance()
    held = {a.role for a in roles if actor.person_id is not None and a.person_id == actor.person_id}
    if any(power in GRANTS[role] for role in held) or held & set(also):
        return Clearance()
    if not any(a.role is Role.INCIDENT_COMMANDER for a in roles):
        return Clearance()
    allowed = roles_with(power) + [r for r in also if r not in roles_with(power)]
    needed = " or ".join(_with_holders(role, roles) for role in allowed)
    if actor.admin:
        return Clearance(True, f"{action} needs the {needed}")
    if actor.person_id is None:
        why = "your account is not linked to a catalog person, so it holds no incident role"
    else:
        why = "you hold " + (", ".join(r.label for r in Role if r in held) or "no role") + " on it"
    raise PermissionDenied(f"{action} on {reference} needs the {needed}; {why}", field="role")


def _with_holders(role: Role, roles: list[RoleAssignment]) -> str:
    names = [a.person_name for a in roles if a.role is role]
    return f"{role.label} ({', '.join(names)})" if names else role.label
