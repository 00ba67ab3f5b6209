"""JSON for webhook bodies, the database and the alert inbox: orjson, the standard library behind.

Every alert is read from a body, passes through the inbox as JSON and stores several JSON
documents, so JSON is on the hot path of ingest; orjson does it several times faster. What
orjson refuses (integers beyond 64 bits, keys that are not strings) or reads differently (NaN,
which the standard library writes and reads) goes through `json` as before.
"""

from __future__ import annotations

import json
from typing import Any

import orjson


def dumps(value: Any) -> str:
    try:
        return orjson.dumps(value).decode()
    except TypeError:  # orjson.JSONEncodeError
        return json.dumps(value)


def loads(text: str | bytes) -> Any:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:  # e.g. NaN; or invalid, which json reports in its words
        return json.loads(text)
