"""Building blocks shared by the policy's sections."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, PlainSerializer

from tocsin.policy.durations import format_duration, parse_duration

Duration = Annotated[
    timedelta, BeforeValidator(parse_duration), PlainSerializer(format_duration, when_used="json")
]


class Section(BaseModel):
    """Unknown keys are errors: a misspelt key must not be silently ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)
