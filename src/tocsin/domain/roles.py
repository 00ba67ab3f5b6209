"""Incident roles, their responsibility and authority, and who holds them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from tocsin.domain.errors import InvalidInput


class Role(StrEnum):
    """The war-room roles of the product spec."""

    INCIDENT_COMMANDER = "incident_commander"
    TECHNICAL_LEAD = "technical_lead"
    COMMUNICATIONS_LEAD = "communications_lead"
    SCRIBE = "scribe"
    SUBJECT_MATTER_EXPERT = "subject_matter_expert"

    @property
    def label(self) -> str:
        return _LABELS[self]

    @property
    def is_shared(self) -> bool:
        """Several people may hold a shared role at once; the others have one holder."""
        return self is Role.SUBJECT_MATTER_EXPERT

    @classmethod
    def parse(cls, raw: str) -> Role:
        """Accept the key, the label, or the usual abbreviations (ic, tl, cl, sme)."""
        key = raw.strip().lower().replace("-", "_").replace(" ", "_")
        key = _ALIASES.get(key, key)
        try:
            return cls(key)
        except ValueError:
            names = ", ".join(r.value for r in cls)
            raise InvalidInput(
                f"unknown role {raw!r}; expected one of {names}", field="role"
            ) from None


_LABELS = {
    Role.INCIDENT_COMMANDER: "Incident Commander",
    Role.TECHNICAL_LEAD: "Technical Lead",
    Role.COMMUNICATIONS_LEAD: "Communications Lead",
    Role.SCRIBE: "Scribe",
    Role.SUBJECT_MATTER_EXPERT: "Subject Matter Expert",
}
_ALIASES = {
    "ic": "incident_commander",
    "commander": "incident_commander",
    "tl": "technical_lead",
    "tech_lead": "technical_lead",
    "cl": "communications_lead",
    "comms_lead": "communications_lead",
    "sme": "subject_matter_expert",
    "expert": "subject_matter_expert",
    "subject_matter_experts": "subject_matter_expert",
}


@dataclass(frozen=True)
class RoleAssignment:
    """A person holding a role on one incident, with a name snapshot for history."""

    role: Role
    person_id: int
    person_name: str
    assigned_at: datetime
    assigned_by: str
