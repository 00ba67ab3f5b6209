"""Who did something: a signed-in user, an API token, the CLI or Tocsin itself."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Actor:
    """The author of a change as it appears on the timeline."""

    name: str
    user_id: int | None = None
    person_id: int | None = None  # the catalog person the user is, for incident roles
    admin: bool = False

    @classmethod
    def system(cls) -> Actor:
        return cls(name="Tocsin")

    @property
    def is_system(self) -> bool:
        return self.user_id is None and self.name == "Tocsin"
