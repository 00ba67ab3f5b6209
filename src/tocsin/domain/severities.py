"""Incident severity levels P1 (critical) to P4 (low)."""

from __future__ import annotations

from enum import StrEnum

from tocsin.domain.errors import InvalidInput


class Severity(StrEnum):
    """P1 is the most severe; comparisons follow urgency, not string order."""

    P1 = "P1"
    P2 = "P2"
    P3 = "P3"
    P4 = "P4"

    @property
    def rank(self) -> int:
        """1 for P1 … 4 for P4: lower is more urgent."""
        return int(self.value[1])

    @property
    def needs_commander(self) -> bool:
        """P1 and P2 must have an Incident Commander; Tocsin flags them until they do."""
        return self.rank <= 2

    def is_more_severe_than(self, other: Severity) -> bool:
        return self.rank < other.rank

    @classmethod
    def parse(cls, raw: str, *, field: str = "severity") -> Severity:
        """Accept `P1` … `P4` in any case, with a message listing the levels otherwise."""
        try:
            return cls(raw.strip().upper())
        except ValueError:
            raise InvalidInput(
                f"unknown severity {raw!r}; expected one of P1, P2, P3, P4", field=field
            ) from None
