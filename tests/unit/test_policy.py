"""The policy file: the shipped default reproduces the spec; bad files say where and why."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from tocsin.domain.roles import Role
from tocsin.domain.severities import Severity
from tocsin.policy import PolicyError, load_default_policy, load_policy, load_policy_file
from tocsin.policy.durations import parse_duration, parse_offset
from tocsin.policy.loader import default_policy_text
from tocsin.policy.model import TEMPLATE_ENV


def problems(text: str) -> list[tuple[int | None, str, str]]:
    with pytest.raises(PolicyError) as err:
        load_policy(text, "p.yaml")
    return [(p.line, p.path, p.message) for p in err.value.problems]


def default_with(old: str, new: str) -> str:
    text = default_policy_text()
    assert old in text
    return text.replace(old, new, 1)


def test_default_policy_reproduces_the_spec_tables() -> None:
    policy = load_default_policy()
    assert {
        s: (lvl.name, lvl.impact, lvl.response_time) for s, lvl in policy.severities.items()
    } == {
        Severity.P1: ("Critical", "Complete service outage", timedelta(minutes=15)),
        Severity.P2: ("High", "Major feature unavailable", timedelta(minutes=30)),
        Severity.P3: ("Medium", "Degraded performance", timedelta(hours=2)),
        Severity.P4: ("Low", "Minor issues", timedelta(hours=24)),
    }
    assert policy.roles[Role.INCIDENT_COMMANDER].authority == "All decisions"
    assert policy.roles[Role.SCRIBE].authority == "None"
    p1 = policy.escalation_paths[Severity.P1]
    assert [(str(s.offset), [str(t) for t in s.targets]) for s in p1] == [
        ("immediate", ["on-call engineer", "team lead", "engineering manager"]),
        ("15m", ["director of engineering", "VP engineering"]),
        ("30m", ["CTO", "CEO (if customer impact)"]),
    ]
    assert p1[2].targets[1].condition == "customer impact"
    assert str(policy.escalation_paths[Severity.P4][0].offset) == "next_business_day"
    assert policy.notification_channels[Severity.P1] == [
        "pagerduty",
        "slack-incidents",
        "email",
        "sms",
        "phone",
    ]
    assert policy.war_room(42) == {
        "voice": "incident-bridge-42",
        "chat": "#incident-42",
        "video": "meet.company.com/incident-42",
    }
    assert policy.channels.updates.executive == "#exec-incidents"


def test_spec_blocks_load_exactly_as_written() -> None:
    spec = """
escalation_paths:
  P1:
    immediate: ["on-call engineer", "team lead", "engineering manager"]
    15_minutes: ["director of engineering", "VP engineering"]
    30_minutes: ["CTO", "CEO (if customer impact)"]
  P2:
    immediate: ["on-call engineer", "team lead"]
    30_minutes: ["engineering manager"]
    2_hours: ["director of engineering"]
  P3:
    immediate: ["on-call engineer"]
    2_hours: ["team lead"]
  P4:
    next_business_day: ["assigned engineer"]

notification_channels:
  P1: ["pagerduty", "slack-incidents", "email", "sms", "phone"]
  P2: ["pagerduty", "slack-incidents", "email"]
  P3: ["slack-incidents", "email"]
  P4: ["slack-team", "jira"]

channels:
  war_room:
    voice: "incident-bridge-[ID]"
    chat: "#incident-[ID]"
    video: "meet.company.com/incident-[ID]"
  updates:
    internal: "#incidents-status"
    customer: "status.company.com"
    executive: "#exec-incidents"
"""
    head = default_policy_text().split("escalation_paths:")[0]
    templates = "templates:" + default_policy_text().split("templates:", 1)[1]
    policy = load_policy(head + spec + templates)
    assert policy.escalation_paths == load_default_policy().escalation_paths


def test_templates_render_the_spec_messages() -> None:
    policy = load_default_policy()
    incident = {
        "reference": "INC-9",
        "severity": "P1",
        "status": "Investigating",
        "services": ["checkout"],
        "user_impact": "Nobody can pay",
        "customer_impact": "Orders fail",
        "incident_commander": "Alice",
        "war_room_url": "https://t/incidents/9",
        "status_page_url": "https://status",
    }
    declared = TEMPLATE_ENV.from_string(policy.templates.incident_declared).render(
        incident=incident, now="03:00Z"
    )
    assert declared.splitlines()[:5] == [
        "**INCIDENT DECLARED - P1**",
        "Time: 03:00Z",
        "Services Affected: checkout",
        "Impact: Nobody can pay",
        "Current Status: Investigating",
    ]
    assert "Incident Commander: Alice" in declared
    update = TEMPLATE_ENV.from_string(policy.templates.incident_update).render(
        incident=incident,
        now="03:30Z",
        summary="Rolled back",
        next_update="04:00Z",
        actions=["Scale out", "Watch errors"],
    )
    assert "**INCIDENT UPDATE - INC-9**" in update
    assert "- Scale out\n- Watch errors" in update
    assert "Customer Impact: Orders fail" in update


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("30s", timedelta(seconds=30)),
        ("15m", timedelta(minutes=15)),
        ("2h", timedelta(hours=2)),
        ("1d", timedelta(days=1)),
        ("15_minutes", timedelta(minutes=15)),
        ("2_hours", timedelta(hours=2)),
        ("1_hour", timedelta(hours=1)),
        ("immediate", timedelta(0)),
    ],
)
def test_durations(raw: str, expected: timedelta) -> None:
    assert parse_duration(raw) == expected


def test_next_business_day_is_an_offset_not_a_duration() -> None:
    assert parse_offset("next_business_day").next_business_day
    with pytest.raises(ValueError, match="expected a duration"):
        parse_duration("next_business_day")


def test_every_problem_is_reported_with_path_and_line() -> None:
    text = default_with("15_minutes:", "15_minutez:")
    text = text.replace('  P4: ["slack-team", "jira"]', '  P5: ["slack-team"]')
    text = text.replace(
        '    chat: "#incident-[ID]"', '    chat: "#incident"\n    chat: "#again-[ID]"'
    )
    text = text.replace("{{ now }}", "{{ now }", 1)
    text = text.replace("    response_time: 2h", "    response_time: soon")
    lines = text.splitlines()
    found = problems(text)

    def line_of(fragment: str) -> int:
        return next(i + 1 for i, line in enumerate(lines) if fragment in line)

    first_chat = line_of('    chat: "#incident"')
    duplicate = (
        line_of('    chat: "#again'),
        "channels.war_room.chat",
        f"duplicate key (first at line {first_chat})",
    )
    assert duplicate in found
    paths = {path: (line, message) for line, path, message in found}
    assert paths["escalation_paths.P1.15_minutez"][0] == line_of("15_minutez")
    assert "expected a duration such as 30s, 15m" in paths["escalation_paths.P1.15_minutez"][1]
    assert paths["notification_channels.P5"][0] == line_of("  P5:")
    assert paths["severities.P3.response_time"][0] == line_of("response_time: soon")
    assert paths["templates.incident_declared"] == (line_of("Time: {{ now }"), "unexpected '}'")


@pytest.mark.parametrize(
    ("old", "new", "path", "message"),
    [
        ("    name: Critical\n", "", "severities.P1.name", "required key is missing"),
        (
            "    impact: Minor issues\n",
            "    impact: Minor issues\n    colour: blue\n",
            "severities.P4.colour",
            "unknown key (check its spelling)",
        ),
        (
            '"CEO (if customer impact)"',
            '"CEO (if sunny)"',
            "escalation_paths.P1.30_minutes",
            "unknown condition 'sunny'",
        ),
        (
            'voice: "incident-bridge-[ID]"',
            'voice: "bridge"',
            "channels.war_room.voice",
            "must contain [ID]",
        ),
        (
            '  P3: ["slack-incidents", "email"]',
            '  P3: ["Slack Incidents"]',
            "notification_channels.P3",
            "must be lowercase",
        ),
        ("version: 1", "version: 2", "version", "reads policy version 1"),
    ],
)
def test_specific_problems(old: str, new: str, path: str, message: str) -> None:
    found = problems(default_with(old, new))
    assert any(p == path and message in m for _, p, m in found), found


def test_missing_severity_is_named() -> None:
    text = default_with('  P4: ["slack-team", "jira"]\n', "")
    assert any("notification_channels must define P4" in m for _, _, m in problems(text))


def test_not_yaml_and_empty_files() -> None:
    assert problems("a: [1, 2")[0][2].startswith("not valid YAML")
    assert problems("")[0][2] == "the file is empty"
    assert problems("- a\n- b")[0][2] == "expected a mapping of sections at the top"


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="cannot read the file"):
        load_policy_file(tmp_path / "missing.yaml")


def test_war_room_mirror_names_chat_destinations_only() -> None:
    mirrored = default_with("    mirror: []\n", "    mirror: [team-chat]\n")
    assert any(
        "'team-chat' has no entry in paging.destinations" in m for *_, m in problems(mirrored)
    )
    others = "".join(
        f"    {name}: {{apprise: 'json://x'}}\n"
        for name in ("pagerduty", "slack-incidents", "slack-team", "jira")
    )
    to_pagerduty = (
        f"{mirrored}\npaging:\n  destinations:\n{others}    team-chat: {{pagerduty: k}}\n"
    )
    assert any("'team-chat' is a PagerDuty destination" in m for *_, m in problems(to_pagerduty))
    to_chat = (
        f"{mirrored}\npaging:\n  destinations:\n{others}    team-chat: {{apprise: 'json://c'}}\n"
    )
    assert load_policy(to_chat, "p.yaml").channels.war_room.mirror == ["team-chat"]
    rooms = load_default_policy().channels.war_room
    assert rooms.incident_in_chat("#incident-42") == 42
    assert rooms.incident_in_chat("incident-42") == 42
    assert rooms.incident_in_chat("#incidents-status") is None


def test_a_misspelt_template_variable_is_refused_when_the_policy_loads() -> None:
    text = default_with("Summary: {{ summary }}", "Summary: {{ incident.sumary }}")
    found = problems(text)
    assert any(
        p == "templates.incident_update" and "does not render" in m and "sumary" in m
        for _, p, m in found
    ), found
