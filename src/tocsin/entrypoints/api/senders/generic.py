"""Any JSON sender: the integration's mapping says where each alert's fields are.

Each field of the mapping is a JMESPath expression (`labels.severity`, `status == 'ok'`) or, when
it contains `{{`, a Jinja template (`{{ host }}: {{ check }}`), evaluated against one alert object
with the whole body available as `body` in templates. `alerts` (JMESPath against the body) picks the
list of alert objects; without it the body is one alert. `resolved` is true unless what it finds
is empty, null, false or 0, or text saying so ("false", "0", "no", "off", "none", "null"): a
template renders to text, and senders write "false" as often as false.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

import jmespath
from jinja2 import TemplateError
from jinja2.sandbox import SandboxedEnvironment
from jmespath.exceptions import JMESPathError
from pydantic import BaseModel, ConfigDict, Field, field_validator

from tocsin.domain.alerts import AlertSignal, Link, SignalAction
from tocsin.domain.errors import InvalidInput

# Templates come from administrators but see payloads from anywhere: sandboxed, no filesystem.
_JINJA = SandboxedEnvironment(autoescape=False)
MAX_ALERTS = 1000


class GenericMapping(BaseModel):
    """Where to find each field; validated (every expression compiled) when it is saved."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    alerts: str | None = Field(None, description="JMESPath to the list of alert objects")
    title: str = Field(description="the alert's title")
    dedup_key: str | None = Field(None, description="what identifies one alert across posts")
    severity: str | None = Field(None, description="the sender's severity (critical, warning…)")
    service: str | None = Field(None, description="service slug")
    resolved: str | None = Field(
        None, description='true when the alert is resolved ("false", "0", "no": not resolved)'
    )
    description: str | None = None
    source: str | None = None
    started_at: str | None = Field(None, description="ISO 8601 start time")
    links: str | None = Field(None, description="a URL, or a list of URLs")
    labels: str | None = Field(None, description="an object of string labels for routing rules")

    @field_validator("*")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            if "{{" in value or "{%" in value:
                _JINJA.from_string(value)
            else:
                jmespath.compile(value)
        except (JMESPathError, TemplateError) as exc:
            raise ValueError(f"{value!r} is neither valid JMESPath nor Jinja: {exc}") from None
        return value


def _evaluate(expression: str | None, item: Any, body: Any) -> Any:
    if expression is None:
        return None
    if "{{" in expression or "{%" in expression:
        context = item if isinstance(item, dict) else {"item": item}
        return _JINJA.from_string(expression).render(**context, body=body).strip()
    return jmespath.search(expression, item)


def _text(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


def signals(mapping: GenericMapping, body: Any) -> tuple[AlertSignal, ...]:
    """The alerts in `body`; InvalidInput names what the mapping could not find."""
    try:
        items = jmespath.search(mapping.alerts, body) if mapping.alerts else [body]
    except JMESPathError as exc:
        raise InvalidInput(f"mapping.alerts failed: {exc}", field="body") from None
    if not isinstance(items, list) or not items:
        raise InvalidInput(
            f"the mapping's alerts expression {mapping.alerts!r} found no list of alerts",
            field="body",
        )
    if len(items) > MAX_ALERTS:
        raise InvalidInput(f"at most {MAX_ALERTS} alerts per request", field="body")
    return tuple(_signal(mapping, item, body, n) for n, item in enumerate(items))


def _signal(mapping: GenericMapping, item: Any, body: Any, n: int) -> AlertSignal:
    def get(field: str) -> Any:
        try:
            return _evaluate(getattr(mapping, field), item, body)
        except (JMESPathError, TemplateError) as exc:
            raise InvalidInput(f"alert {n}: mapping.{field} failed: {exc}", field="body") from None

    title = _text(get("title"))
    if not title:
        raise InvalidInput(
            f"alert {n}: the mapping's title {mapping.title!r} found nothing", field="body"
        )
    key = (
        _text(get("dedup_key"))
        or hashlib.sha256(json.dumps(item, sort_keys=True, default=str).encode()).hexdigest()[:32]
    )
    labels_value = get("labels")
    labels = (
        {str(k): _text(v) for k, v in labels_value.items()}
        if isinstance(labels_value, dict)
        else {}
    )
    severity, service = _text(get("severity")), _text(get("service"))
    if severity:
        labels.setdefault("severity", severity)
    if service:
        labels.setdefault("service", service)
    raw_links = get("links")
    hrefs = raw_links if isinstance(raw_links, list) else [raw_links] if raw_links else []
    started = _text(get("started_at"))
    return AlertSignal(
        dedup_key=key[:255],
        action=SignalAction.RESOLVE if _true(get("resolved")) else SignalAction.TRIGGER,
        title=title,
        description=_text(get("description")),
        source_severity=severity,
        labels=labels,
        links=tuple(Link(str(h)) for h in hrefs if isinstance(h, str) and h),
        source=_text(get("source")),
        started_at=_time(started, n),
        raw=item if isinstance(item, dict) else {"value": item},
    )


_FALSE_WORDS = frozenset({"", "false", "0", "no", "off", "none", "null"})


def _true(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() not in _FALSE_WORDS
    return bool(value)


def _time(value: str, n: int) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(
            f"alert {n}: started_at {value!r} is not ISO 8601", field="body"
        ) from None
    if parsed.tzinfo is None:
        raise InvalidInput(f"alert {n}: started_at {value!r} has no time zone", field="body")
    return parsed
