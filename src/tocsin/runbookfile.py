"""The runbook file format (Markdown with YAML front matter), shared by the CLI, API and demo.

---
title: Checkout is down
services: [checkout]
alerts: [CheckoutErrorRate]
private: false
actions:
  - name: rollback-checkout
    method: POST
    url: https://deploy.example.com/rollback
    headers: {Authorization: "Bearer ${DEPLOY_TOKEN}"}
    body: '{"reason": "{{ reference }}"}'
    requires_approval: true
---
- [ ] Roll back the last deploy {action: rollback-checkout}
"""

from __future__ import annotations

import re
from importlib import resources
from pathlib import PurePath
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from tocsin.domain import commands
from tocsin.domain.actions import DEFAULT_TIMEOUT, MAX_TIMEOUT
from tocsin.domain.errors import InvalidInput
from tocsin.yamlfile import YamlFileError, load_validated

_FRONT = re.compile(r"\A---[ \t]*\r?\n(?P<yaml>.*?)^---[ \t]*\r?$\n?", re.S | re.M)
_SLUG_CHARS = re.compile(r"[^a-z0-9_-]+")


class RunbookFileError(YamlFileError):
    kind = "runbook"


class ActionCreate(BaseModel):
    """An HTTP action: `${NAME}` in the URL or headers is a secret from the server's environment."""

    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, Field(min_length=1, max_length=63)]
    method: str = "POST"
    url: Annotated[str, Field(min_length=1, max_length=2048)]
    title: str = ""
    headers: dict[str, str] = Field(default_factory=dict)
    body: str = Field(
        "", description="Jinja template: reference, title, severity, status, services"
    )
    timeout: Annotated[float, Field(gt=0, le=MAX_TIMEOUT)] = DEFAULT_TIMEOUT
    requires_approval: bool = False
    expect_status: Annotated[int | None, Field(ge=100, le=599)] = None

    def spec(self) -> commands.ActionSpec:
        return commands.ActionSpec(
            name=self.name,
            method=self.method,
            url=self.url,
            title=self.title,
            headers=tuple(self.headers.items()),
            body=self.body,
            timeout=self.timeout,
            requires_approval=self.requires_approval,
            expect_status=self.expect_status,
        )


class FrontMatter(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: Annotated[str, Field(min_length=1, max_length=200)]
    slug: str | None = None
    services: list[str] = Field(default_factory=list)
    alerts: list[str] = Field(default_factory=list)
    private: bool = False
    actions: list[ActionCreate] = Field(default_factory=list)


def slug_from_name(name: str) -> str:
    """`Data Loss.md` → `data-loss`."""
    stem = PurePath(name).stem.lower()
    return _SLUG_CHARS.sub("-", stem).strip("-_") or "runbook"


def parse_runbook(text: str, source: str) -> commands.RunbookSpec:
    """One runbook file as a spec; a problem names the file, the line and the key."""
    found = _FRONT.match(text.lstrip("\ufeff"))
    if found is None:
        raise InvalidInput(
            f"{source}: a runbook starts with YAML front matter between '---' lines, "
            "with at least a title",
            field="front_matter",
        )
    # A leading newline keeps the line numbers of problems those of the file.
    try:
        meta = load_validated("\n" + found.group("yaml"), source, FrontMatter, RunbookFileError)
    except RunbookFileError as exc:
        problems = "; ".join(str(p) for p in exc.problems)
        raise InvalidInput(f"{source}: {problems}", field="front_matter") from None
    return commands.RunbookSpec(
        slug=meta.slug or slug_from_name(source),
        title=meta.title,
        body=text[found.end() :],
        services=tuple(meta.services),
        alerts=tuple(meta.alerts),
        private=meta.private,
        actions=tuple(a.spec() for a in meta.actions),
        source=source,
    )


def builtin_runbooks() -> list[tuple[str, str]]:
    """The emergency playbooks shipped with Tocsin, as (file name, text)."""
    folder = resources.files("tocsin") / "runbooks"
    return sorted(
        (item.name, item.read_text(encoding="utf-8"))
        for item in folder.iterdir()
        if item.name.endswith(".md")
    )
