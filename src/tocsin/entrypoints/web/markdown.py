"""Runbook Markdown as safe HTML: raw HTML is never passed through, and the result is sanitised."""

from __future__ import annotations

import re

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

_PARSER = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")
_TASK = re.compile(r"<li>\[( |x|X)\] ")
_ALLOWED_TAGS = nh3.ALLOWED_TAGS | {"input"}
_ATTRIBUTES = {**nh3.ALLOWED_ATTRIBUTES, "input": {"type", "disabled", "checked"}}


def render_markdown(text: str) -> Markup:
    """HTML for a runbook's Markdown; task items show as (disabled) checkboxes."""
    html = _PARSER.render(text)
    html = _TASK.sub(
        lambda m: (
            '<li><input type="checkbox" disabled' + (" checked" if m.group(1) != " " else "") + "> "
        ),
        html,
    )
    clean = nh3.clean(
        html,
        tags=_ALLOWED_TAGS,
        attributes=_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )
    return Markup(clean)  # sanitised by nh3 just above
