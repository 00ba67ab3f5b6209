"""Typed domain errors; the API edge maps each class to an HTTP status in one table."""

from __future__ import annotations


class DomainError(Exception):
    """A rule was broken; `field` names the offending input when there is one."""

    title = "Request refused"

    def __init__(self, detail: str, *, field: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field


class InvalidInput(DomainError):
    """A value is malformed or out of range."""

    title = "Invalid input"


class NotFound(DomainError):
    """The named thing does not exist (or is not visible to the caller)."""

    title = "Not found"


class AlreadyExists(DomainError):
    """A unique name is already taken."""

    title = "Already exists"


class InvalidTransition(DomainError):
    """The incident cannot move from its current status to the one asked for."""

    title = "Invalid status transition"


class ChronologyViolation(DomainError):
    """Lifecycle timestamps would be out of order."""

    title = "Timestamps out of order"


class NoChange(DomainError):
    """The command would not change anything, which is almost always a mistake."""

    title = "Nothing to change"


class ConcurrencyConflict(DomainError):
    """Someone else changed the same thing at the same time; retrying is safe."""

    title = "Concurrent modification"


class AuthenticationFailed(DomainError):
    """Credentials are missing, wrong, expired or revoked."""

    title = "Authentication required"


class PermissionDenied(DomainError):
    """The caller is known but lacks the authority for this action."""

    title = "Permission denied"


class InboxItemFailed(DomainError):
    """Applying one accepted delivery failed; it is set aside so the others can go on."""

    title = "Delivery could not be applied"

    def __init__(self, item_id: int, detail: str) -> None:
        super().__init__(detail, field="inbox")
        self.item_id = item_id


class UpdateFailed(DomainError):
    """An incident's stakeholder updates could not be run; they are set aside for a while so
    the other incidents' updates go on."""

    title = "Stakeholder update failed"

    def __init__(self, incident_id: int, detail: str) -> None:
        super().__init__(detail, field="incident")
        self.incident_id = incident_id


class TooLarge(DomainError):
    """The request body is over the size limit."""

    title = "Request too large"


class Unavailable(DomainError):
    """Tocsin cannot take this right now (e.g. the database is away); nothing was recorded."""

    title = "Temporarily unavailable"


class RateLimited(DomainError):
    """Too many requests for this key; retry later."""

    title = "Too many requests"
