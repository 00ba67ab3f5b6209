"""Label matchers in Alertmanager's syntax (`name="v"`, `!=`, `=~`, `!~`), for routes and silences.

Operators teams already write in Alertmanager and amtool mean the same here: regular expressions
are anchored, and a label that is absent matches as the empty string.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from tocsin.domain.errors import InvalidInput

_MATCHER = re.compile(
    r"""^\s*(?P<name>[A-Za-z_][A-Za-z0-9_.-]*)\s*(?P<op>=~|!~|!=|=)\s*
        (?:"(?P<quoted>(?:[^"\\]|\\.)*)"|(?P<bare>[^"'\s,{}]*))\s*$""",
    re.VERBOSE,
)


class Operator(StrEnum):
    EQUAL = "="
    NOT_EQUAL = "!="
    REGEX = "=~"
    NOT_REGEX = "!~"


@dataclass(frozen=True)
class Matcher:
    name: str
    op: Operator
    value: str

    def __post_init__(self) -> None:
        if self.op in (Operator.REGEX, Operator.NOT_REGEX):
            try:
                re.compile(self.value)
            except re.error as exc:
                raise InvalidInput(
                    f"matcher {self}: bad regular expression: {exc}", field="matchers"
                ) from None

    def matches(self, labels: Mapping[str, str]) -> bool:
        value = labels.get(self.name, "")
        if self.op is Operator.EQUAL:
            return value == self.value
        if self.op is Operator.NOT_EQUAL:
            return value != self.value
        found = re.fullmatch(self.value, value) is not None
        return found if self.op is Operator.REGEX else not found

    def __str__(self) -> str:
        escaped = self.value.replace("\\", "\\\\").replace('"', '\\"')
        return f'{self.name}{self.op.value}"{escaped}"'


def parse_matcher(raw: str) -> Matcher:
    """Parse one matcher such as `severity="critical"` or `env=~"prod|staging"`."""
    found = _MATCHER.match(raw)
    if found is None:
        raise InvalidInput(
            f'cannot read matcher {raw!r}; expected name="value", name!="value", '
            'name=~"regex" or name!~"regex"',
            field="matchers",
        )
    quoted = found["quoted"]
    value = re.sub(r"\\(.)", r"\1", quoted) if quoted is not None else found["bare"]
    return Matcher(found["name"], Operator(found["op"]), value)


def parse_matchers(raws: list[str] | tuple[str, ...]) -> tuple[Matcher, ...]:
    return tuple(parse_matcher(raw) for raw in raws)


def all_match(matchers: tuple[Matcher, ...], labels: Mapping[str, str]) -> bool:
    """True when every matcher matches; no matchers match everything."""
    return all(m.matches(labels) for m in matchers)
