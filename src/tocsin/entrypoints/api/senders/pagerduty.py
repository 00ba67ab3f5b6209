"""PagerDuty Events API v2: alert events and change events, with PagerDuty's own responses."""

from __future__ import annotations

import json
import uuid
from typing import Any, Literal, TypeVar

from fastapi.responses import JSONResponse
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, model_validator

from tocsin import jsontext
from tocsin.domain.alerts import AlertSignal, Link, SignalAction

MAX_BYTES = 512 * 1024


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class Image(_Lenient):
    src: str = Field(min_length=1)
    href: str = ""
    alt: str = ""


class EventLink(_Lenient):
    href: str = Field(min_length=1)
    text: str = ""


class AlertPayload(_Lenient):
    summary: str = Field(min_length=1, max_length=1024)
    source: str = Field(min_length=1, max_length=255)
    severity: Literal["critical", "error", "warning", "info"]
    timestamp: AwareDatetime | None = None
    component: str = ""
    group: str = ""
    class_: str = Field("", alias="class")
    custom_details: Any = None


class AlertEvent(_Lenient):
    routing_key: str = Field(min_length=1)
    event_action: Literal["trigger", "acknowledge", "resolve"]
    dedup_key: str | None = Field(None, max_length=255)
    payload: AlertPayload | None = None
    images: list[Image] = []
    links: list[EventLink] = []
    client: str = ""
    client_url: str = ""

    @model_validator(mode="after")
    def _needs(self) -> AlertEvent:
        if self.event_action == "trigger" and self.payload is None:
            raise ValueError("'payload' is required for a trigger event")
        if self.event_action != "trigger" and not self.dedup_key:
            raise ValueError(f"'dedup_key' is required for an {self.event_action} event")
        return self


class ChangePayload(_Lenient):
    summary: str = Field(min_length=1, max_length=1024)
    source: str = ""
    timestamp: AwareDatetime | None = None
    custom_details: Any = None


class ChangeEvent(_Lenient):
    routing_key: str = Field(min_length=1)
    payload: ChangePayload
    links: list[EventLink] = []


class InvalidEvent(Exception):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


M = TypeVar("M", bound=BaseModel)


def parse(body: bytes, model: type[M]) -> tuple[M, dict[str, Any]]:
    """Validate a body: the event and the document as sent. InvalidEvent lists every problem
    in PagerDuty's words."""
    try:
        document = jsontext.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidEvent([f"the body is not valid JSON: {exc}"]) from None
    if not isinstance(document, dict):
        raise InvalidEvent(["the body must be a JSON object"])
    try:
        return model.model_validate(document), document
    except ValidationError as exc:
        raise InvalidEvent([_problem(err) for err in exc.errors()]) from None


def _problem(err: Any) -> str:
    where = ".".join(str(p) for p in err["loc"])
    message = str(err["msg"]).removeprefix("Value error, ")
    return f"'{where}': {message}" if where else message


def signal(event: AlertEvent, raw: dict[str, Any]) -> AlertSignal:
    action = SignalAction(event.event_action)
    key = event.dedup_key or uuid.uuid4().hex  # a trigger without a key always opens a new alert
    payload = event.payload
    if payload is None:
        return AlertSignal(key, action, raw=raw)
    fields = {
        "source": payload.source,
        "severity": payload.severity,
        "component": payload.component,
        "group": payload.group,
        "class": payload.class_,
    }
    links = [Link(link.href, link.text) for link in event.links]
    links += [Link(image.href or image.src, image.alt or "Image") for image in event.images]
    if event.client_url:
        links.append(Link(event.client_url, event.client or "Sender"))
    return AlertSignal(
        dedup_key=key,
        action=action,
        title=payload.summary,
        source_severity=payload.severity,
        labels={k: v for k, v in fields.items() if v},
        details=details(payload.custom_details),
        links=tuple(links),
        source=payload.source,
        started_at=payload.timestamp,
        raw=raw,
    )


def details(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    return value if isinstance(value, dict) else {"details": value}


def accepted(dedup_key: str | None) -> JSONResponse:
    return JSONResponse(accepted_body(dedup_key), status_code=202)


def accepted_body(dedup_key: str | None) -> dict[str, Any]:
    body: dict[str, Any] = {"status": "success", "message": "Event processed"}
    if dedup_key is not None:
        body["dedup_key"] = dedup_key
    return body


def invalid(problems: list[str], status: int = 400) -> JSONResponse:
    return JSONResponse(
        {"status": "invalid event", "message": "Event object is invalid", "errors": problems},
        status_code=status,
    )


def throttled() -> JSONResponse:
    return JSONResponse(
        {
            "status": "throttle event",
            "message": "Requests for this routing key are arriving too quickly; retry later",
        },
        status_code=429,
        headers={"Retry-After": "5"},
    )
