"""POST /hooks/chat/{key}: a chat tool's outgoing webhook brings its messages into the war room.

Slack and Mattermost outgoing webhooks (form-encoded or JSON) and any JSON with the same
fields work: `text`, `user_name` (or `user`), and `channel_name` (or `channel`) named like the
policy's war-room chat pattern (`#incident-[ID]`), or an explicit `incident`. Tocsin's own
mirrored messages coming back, and bots, are ignored, so a mirror both ways never loops.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from tocsin.domain import commands
from tocsin.domain.actors import Actor
from tocsin.domain.errors import InvalidInput
from tocsin.domain.incidents import parse_reference, reference
from tocsin.domain.integrations import IntegrationKind
from tocsin.domain.war_room import is_mirrored
from tocsin.entrypoints.api.hooks import integration_for, read_body

router = APIRouter(tags=["webhooks"])
MAX_BYTES = 64 * 1024


def _fields(body: bytes, content_type: str) -> dict[str, Any]:
    if "json" in content_type:
        try:
            document = json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise InvalidInput(f"the body is not valid JSON: {exc}", field="body") from None
        if not isinstance(document, dict):
            raise InvalidInput("the body must be a JSON object", field="body")
        return document
    try:
        form = parse_qs(body.decode(), keep_blank_values=True)
    except UnicodeDecodeError:
        raise InvalidInput("the body is not UTF-8 form data", field="body") from None
    return {k: v[0] for k, v in form.items()}


def _text(fields: dict[str, Any], *names: str) -> str:
    for name in names:
        value = fields.get(name)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return ""


@router.post("/hooks/chat/{key}", summary="A chat tool's outgoing webhook: war-room messages")
async def chat(request: Request, key: str) -> dict[str, Any]:
    tocsin = request.app.state.tocsin
    body = await read_body(request, MAX_BYTES)
    integration = await integration_for(tocsin, key, IntegrationKind.CHAT)
    fields = _fields(body, request.headers.get("content-type", ""))
    text = _text(fields, "text")
    if not text:
        raise InvalidInput("text is missing or empty", field="text")
    if is_mirrored(text) or fields.get("bot_id") or _text(fields, "user_name") == "slackbot":
        return {"status": "ignored", "reason": "a bot's or Tocsin's own message"}
    explicit = _text(fields, "incident")
    channel = _text(fields, "channel_name", "channel")
    if explicit:
        incident_id = parse_reference(explicit)
    else:
        found = tocsin.policy.channels.war_room.incident_in_chat(channel) if channel else None
        if found is None:
            pattern = tocsin.policy.channels.war_room.chat
            raise InvalidInput(
                f"channel {channel!r} is not a war-room channel like {pattern!r}; "
                "or name the incident in `incident`",
                field="channel_name",
            )
        incident_id = found
    who = _text(fields, "user_name", "user") or "someone"
    actor = Actor(f"{who} (via {integration.name})")
    command = commands.PostMessage(incident_id, text, actor, via=integration.name)
    await run_in_threadpool(tocsin.handle, command)
    return {"status": "accepted", "incident": reference(incident_id)}
