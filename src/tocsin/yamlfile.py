"""Validate YAML against a pydantic model and report every problem with its key path and line.

Shared by the policy file and the catalog file: people edit both by hand, so an error must
say where it is, not just what is wrong.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)
Loc = tuple[str | int, ...]
_TEMPLATE_LINE = re.compile(r"^template line (\d+): (.*)$", re.S)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a file, located for a human to fix."""

    path: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}" if self.line else "file"
        return f"{where}: {self.path or '(top level)'}: {self.message}"


class YamlFileError(Exception):
    """The file cannot be used; `problems` lists every reason found."""

    kind = "file"

    def __init__(self, source: str, problems: list[Problem]) -> None:
        self.source = source
        self.problems = problems
        lines = "\n".join(f"  {source}: {p}" for p in problems)
        super().__init__(f"{len(problems)} problem(s) in {self.kind} {source}:\n{lines}")


def load_validated(text: str, source: str, model: type[M], error: type[YamlFileError]) -> M:
    """Parse YAML text and validate it as `model`, raising `error` with every located problem."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else None
        raise error(source, [Problem("", line, f"not valid YAML: {exc.problem}")]) from None
    if root is None:
        raise error(source, [Problem("", None, "the file is empty")])
    lines: dict[Loc, int] = {}
    problems: list[Problem] = []  # duplicate keys first, then whatever validation finds
    _index(root, (), lines, problems)
    data = yaml.SafeLoader(text).get_single_data()
    if not isinstance(data, dict):
        raise error(source, [Problem("", 1, "expected a mapping of sections at the top")])
    try:
        result = model.model_validate(data)
    except ValidationError as exc:
        problems.extend(_problem(err, lines) for err in exc.errors())
    if problems:
        raise error(source, problems)
    return result


def _index(node: yaml.Node, loc: Loc, lines: dict[Loc, int], problems: list[Problem]) -> None:
    """Record the line of every key and value; report duplicate keys, which YAML hides."""
    lines[loc] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value)
            line = key_node.start_mark.line + 1
            if key in seen:
                problems.append(
                    Problem(dotted((*loc, key)), line, f"duplicate key (first at line {seen[key]})")
                )
            seen[key] = line
            lines[(*loc, key, "[key]")] = line
            _index(value_node, (*loc, key), lines, problems)
            lines[(*loc, key)] = line  # point at the key, which is where people look
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _index(item, (*loc, i), lines, problems)


def _problem(err: Any, lines: dict[Loc, int]) -> Problem:
    loc: Loc = tuple(p if isinstance(p, int) else str(p) for p in err["loc"])
    line = None
    for end in range(len(loc), -1, -1):
        line = lines.get(loc[:end])
        if line is not None:
            break
    message = str(err["msg"]).removeprefix("Value error, ")
    # Validators of a whole mapping name the offending key first ("15_minutez: …"): point there.
    key, sep, rest = message.partition(": ")
    if sep and (*loc, key) in lines:
        loc, line, message = (*loc, key), lines[(*loc, key)], rest
    relative = _TEMPLATE_LINE.match(message)
    if relative and line is not None:  # block scalars start on the line after their key
        line += int(relative.group(1))
        message = relative.group(2)
    if err["type"] == "extra_forbidden":
        message = "unknown key (check its spelling)"
    elif err["type"] == "missing":
        message = "required key is missing"
    elif err["type"] == "enum" and "[key]" in loc:
        message = f"unknown key; {message[0].lower()}{message[1:]}"
    return Problem(dotted(tuple(p for p in loc if p != "[key]")), line, message)


def dotted(loc: Loc) -> str:
    """('services', 0, 'team') -> 'services[0].team'"""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out
