"""Who is on call: the schedules API, `tocsin oncall`, the On call pages and the iCalendar feeds.

The fake clock stands at 2026-03-29 00:30 UTC, the night Europe/Berlin springs forward. The
schedule hands off every Monday at 09:00 Berlin time, alice and bob in turn from 2 March, so bob's
week from 23 March is 167 hours long; carol stands in for alice on the night of 1 April.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from icalendar import Calendar
from pydantic import SecretStr

from tests.conftest import make_token
from tests.e2e.test_cli import Cli
from tests.e2e.test_web_pages import browser_for, create_user, text_of
from tests.fakes import FakeClock
from tocsin.bootstrap import Tocsin
from tocsin.domain import commands
from tocsin.domain.accounts import OrgRole, Scope
from tocsin.entrypoints.app import create_app

SECRET = "feed-secret-for-tests-0123456789"
BASE = "http://127.0.0.1:8080"
EN_DASH = "\u2013"  # between the times of a shift on the page
SCHEDULE: dict[str, Any] = {
    "slug": "platform",
    "name": "Platform on call",
    "time_zone": "Europe/Berlin",
    "layers": [
        {
            "name": "Primary",
            "rotation": {
                "type": "weekly",
                "participants": ["alice", "bob"],
                "start": "2026-03-02T09:00",
            },
        }
    ],
    "overrides": [
        {
            "start": "2026-04-01T18:00",
            "end": "2026-04-02T09:00",
            "person": "carol",
            "replaces": "alice",
        }
    ],
}


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def z(text: str) -> str:
    """An instant as the API writes it."""
    return f"{text}Z"


@pytest.fixture
def oncall(catalog: Tocsin) -> Tocsin:
    """The test catalog plus the platform schedule, a team on it and its service; feeds on."""
    catalog.handle(
        commands.ImportCatalog(
            schedules=(SCHEDULE,),
            teams=(
                commands.TeamSpec(
                    "platform", "Platform", members=(("carol", "team lead"),), schedule="platform"
                ),
            ),
            services=(commands.ServiceSpec("gateway", "API gateway", team="platform", tier=1),),
        )
    )
    catalog.settings = catalog.settings.model_copy(update={"feed_secret": SecretStr(SECRET)})
    return catalog


@pytest.fixture
def admin_api(oncall: Tocsin) -> Iterator[TestClient]:
    token = make_token(oncall, Scope.ADMIN)
    with TestClient(create_app(oncall), headers={"Authorization": f"Bearer {token}"}) as client:
        yield client


@pytest.fixture
def anonymous(oncall: Tocsin) -> Iterator[TestClient]:
    """What a calendar app is: no session, no token."""
    with TestClient(create_app(oncall)) as client:
        yield client


def shifts_of(body: dict[str, Any]) -> list[tuple[str, str, str, bool]]:
    return [(s["person"], s["starts_at"], s["ends_at"], s["override"]) for s in body["shifts"]]


# ----- API --------------------------------------------------------------------------------------
def test_schedules_list_who_is_on_call_now_and_until_when(oncall: Tocsin, api: TestClient) -> None:
    listed = api.get("/api/v1/schedules")
    assert listed.status_code == 200, listed.text
    assert listed.json() == [
        {
            "slug": "platform",
            "name": "Platform on call",
            "time_zone": "Europe/Berlin",
            "teams": ["platform"],
            "on_call": [
                {
                    "person": "bob",
                    "name": "Bob Chen",
                    "email": "bob@example.com",
                    "schedule": "platform",
                    "schedule_name": "Platform on call",
                    "team": None,
                    "until": z("2026-03-30T07:00:00"),  # Monday 09:00 in Berlin, now CEST
                }
            ],
            "updated_at": listed.json()[0]["updated_at"],
            "feed_url": None,  # a write token is not an admin's: no feed URLs
        }
    ]


def test_a_schedule_shows_two_weeks_of_shifts_with_the_override(
    oncall: Tocsin, api: TestClient
) -> None:
    body = api.get("/api/v1/schedules/platform").json()
    assert (body["start"], body["end"]) == (z("2026-03-29T00:30:00"), z("2026-04-12T00:30:00"))
    assert shifts_of(body) == [
        ("bob", z("2026-03-29T00:30:00"), z("2026-03-30T07:00:00"), False),
        ("alice", z("2026-03-30T07:00:00"), z("2026-04-01T16:00:00"), False),
        ("carol", z("2026-04-01T16:00:00"), z("2026-04-02T07:00:00"), True),
        ("alice", z("2026-04-02T07:00:00"), z("2026-04-06T07:00:00"), False),
        ("bob", z("2026-04-06T07:00:00"), z("2026-04-12T00:30:00"), False),
    ]
    assert [(o["kind"], o["person"], o["replaces"]) for o in body["overrides"]] == [
        ("replace", "carol", "alice")
    ]
    assert [(p["person"], p["name"]) for p in body["people"]] == [
        ("alice", "Alice Martin"),
        ("bob", "Bob Chen"),
        ("carol", "Carol Diaz"),
    ]
    assert all(p["feed_url"] is None for p in body["people"])


def test_the_week_clocks_spring_forward_is_an_hour_short(oncall: Tocsin, api: TestClient) -> None:
    week = api.get(
        "/api/v1/schedules/platform",
        params={"start": "2026-03-23T09:00:00+01:00", "end": "2026-03-30T09:00:00+02:00"},
    )
    assert week.status_code == 200, week.text
    only = week.json()["shifts"]
    assert shifts_of(week.json()) == [
        ("bob", z("2026-03-23T08:00:00"), z("2026-03-30T07:00:00"), False)
    ]
    hours = datetime.fromisoformat(only[0]["ends_at"]) - datetime.fromisoformat(
        only[0]["starts_at"]
    )
    assert hours.total_seconds() == 167 * 3600


def test_who_is_on_call_for_a_service_a_schedule_or_everything(
    oncall: Tocsin, api: TestClient
) -> None:
    def who(**params: str) -> list[tuple[Any, ...]]:
        response = api.get("/api/v1/oncall", params=params)
        assert response.status_code == 200, response.text
        return [(p["person"], p["schedule"], p["team"], p["until"]) for p in response.json()]

    # gateway's team has a schedule: the schedule decides, as paging does.
    assert who(service="gateway") == [("bob", "platform", "platform", z("2026-03-30T07:00:00"))]
    assert who(service="gateway", at="2026-04-01T17:00:00Z") == [
        ("carol", "platform", "platform", z("2026-04-02T07:00:00"))
    ]
    # checkout's team has none: its members with the on-call engineer role, with no end.
    assert who(service="Checkout") == [("alice", None, "payments", None)]
    assert who(service="search") == [], "search has no team"
    assert who(schedule="platform", at="2026-04-02T07:00:00Z") == [
        ("alice", "platform", None, z("2026-04-06T07:00:00"))
    ]
    assert who() == [("bob", "platform", None, z("2026-03-30T07:00:00"))]
    assert who(at="2026-03-01T12:00:00Z") == [], "before the rotation's first hand-off"


def test_oncall_refusals_name_the_problem(oncall: Tocsin, api: TestClient) -> None:
    both = api.get("/api/v1/oncall", params={"service": "gateway", "schedule": "platform"})
    assert both.status_code == 422
    assert both.json()["detail"] == "ask for a service or a schedule, not both"
    assert api.get("/api/v1/oncall", params={"service": "nope"}).json()["detail"] == (
        "no service 'nope'"
    )
    assert api.get("/api/v1/schedules/nope").status_code == 404
    naive = api.get("/api/v1/oncall", params={"at": "2026-04-01T17:00:00"})
    assert naive.status_code == 422 and naive.json()["errors"][0]["field"] == "at"
    backwards = api.get(
        "/api/v1/schedules/platform",
        params={"start": "2026-04-01T00:00:00Z", "end": "2026-03-01T00:00:00Z"},
    )
    assert backwards.status_code == 422
    assert backwards.json()["detail"] == "end must be later than start"
    too_long = api.get(
        "/api/v1/schedules/platform",
        params={"start": "2026-01-01T00:00:00Z", "end": "2028-01-01T00:00:00Z"},
    )
    assert too_long.json()["detail"] == "end must be at most 366 days after start"


def test_schedules_need_a_token(oncall: Tocsin, anonymous: TestClient) -> None:
    assert anonymous.get("/api/v1/schedules").status_code == 401
    assert anonymous.get("/api/v1/oncall").status_code == 401


# ----- iCalendar feeds ----------------------------------------------------------------------------
def events(response: Any) -> list[tuple[str, datetime, datetime]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    calendar = Calendar.from_ical(response.content)
    assert calendar["VERSION"] == "2.0" and calendar["PRODID"]
    found = []
    for event in calendar.walk("VEVENT"):
        assert event["UID"] and event["DTSTAMP"]
        found.append((str(event["SUMMARY"]), event.decoded("DTSTART"), event.decoded("DTEND")))
    return found


def uids(response: Any) -> list[str]:
    return [str(e["UID"]) for e in Calendar.from_ical(response.content).walk("VEVENT")]


def test_admins_get_feed_urls_and_a_calendar_app_reads_them(
    oncall: Tocsin, admin_api: TestClient, anonymous: TestClient, clock: FakeClock
) -> None:
    listed = admin_api.get("/api/v1/schedules").json()[0]
    assert listed["feed_url"].startswith(f"{BASE}/feeds/schedules/platform.ics?token=")
    detail = admin_api.get("/api/v1/schedules/platform").json()
    people = {p["person"]: p["feed_url"] for p in detail["people"]}
    assert detail["feed_url"] == listed["feed_url"]
    assert people["carol"].startswith(f"{BASE}/feeds/people/carol.ics?token=")

    schedule_feed = anonymous.get(listed["feed_url"].removeprefix(BASE))
    shifts = events(schedule_feed)
    # Four weeks back from midnight (the rotation starts 2 March) to twelve weeks ahead.
    assert shifts[:8] == [
        ("Alice Martin on call", utc("2026-03-02T08:00"), utc("2026-03-09T08:00")),
        ("Bob Chen on call", utc("2026-03-09T08:00"), utc("2026-03-16T08:00")),
        ("Alice Martin on call", utc("2026-03-16T08:00"), utc("2026-03-23T08:00")),
        ("Bob Chen on call", utc("2026-03-23T08:00"), utc("2026-03-30T07:00")),  # 167 hours
        ("Alice Martin on call", utc("2026-03-30T07:00"), utc("2026-04-01T16:00")),
        ("Carol Diaz on call", utc("2026-04-01T16:00"), utc("2026-04-02T07:00")),
        ("Alice Martin on call", utc("2026-04-02T07:00"), utc("2026-04-06T07:00")),
        ("Bob Chen on call", utc("2026-04-06T07:00"), utc("2026-04-13T07:00")),
    ]
    assert shifts[-1][2] == utc("2026-06-22T00:00"), "the window ends twelve weeks on"
    assert b"DTSTART:20260323T080000Z" in schedule_feed.content

    clock.advance(hours=5)  # a calendar app refreshing later sees the same events
    again = anonymous.get(listed["feed_url"].removeprefix(BASE))
    assert uids(again) == uids(schedule_feed)
    assert len(set(uids(again))) == len(shifts)

    carol = anonymous.get(people["carol"].removeprefix(BASE))
    assert events(carol) == [
        ("On call: Platform on call", utc("2026-04-01T16:00"), utc("2026-04-02T07:00"))
    ]
    bob = events(anonymous.get(people["bob"].removeprefix(BASE)))
    assert {summary for summary, _, _ in bob} == {"On call: Platform on call"}
    assert bob[1] == ("On call: Platform on call", utc("2026-03-23T08:00"), utc("2026-03-30T07:00"))


def test_a_wrong_or_missing_token_finds_no_feed(
    oncall: Tocsin, admin_api: TestClient, anonymous: TestClient
) -> None:
    url = admin_api.get("/api/v1/schedules").json()[0]["feed_url"].removeprefix(BASE)
    token = url.split("token=")[1]
    refused = [
        "/feeds/schedules/platform.ics",
        "/feeds/schedules/platform.ics?token=" + token[:-1] + ("A" if token[-1] != "A" else "B"),
        f"/feeds/people/bob.ics?token={token}",  # a schedule's token opens nothing else
        f"/feeds/schedules/other.ics?token={token}",
    ]
    for path in refused:
        response = anonymous.get(path)
        assert response.status_code == 404, path
        assert "no such feed" in response.text
        assert "BEGIN:VCALENDAR" not in response.text


def test_feeds_are_off_until_the_secret_is_set(oncall: Tocsin, admin_api: TestClient) -> None:
    url = admin_api.get("/api/v1/schedules").json()[0]["feed_url"].removeprefix(BASE)
    oncall.settings = oncall.settings.model_copy(update={"feed_secret": SecretStr("")})
    off = admin_api.get(url)
    assert off.status_code == 404 and "TOCSIN_FEED_SECRET" in off.text
    assert admin_api.get("/api/v1/schedules").json()[0]["feed_url"] is None


def test_changing_the_secret_revokes_every_feed_url(oncall: Tocsin, admin_api: TestClient) -> None:
    url = admin_api.get("/api/v1/schedules").json()[0]["feed_url"].removeprefix(BASE)
    assert admin_api.get(url).status_code == 200
    oncall.settings = oncall.settings.model_copy(
        update={"feed_secret": SecretStr("another-secret-0123456789")}
    )
    assert admin_api.get(url).status_code == 404
    fresh = admin_api.get("/api/v1/schedules").json()[0]["feed_url"].removeprefix(BASE)
    assert fresh != url and admin_api.get(fresh).status_code == 200


# ----- CLI --------------------------------------------------------------------------------------
@pytest.fixture
def cli(oncall: Tocsin, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Cli:
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setenv("TOCSIN_FEED_SECRET", SECRET)
    return Cli(capsys, monkeypatch, "--database-url", oncall.settings.database_url)


def test_oncall_who_from_the_cli(cli: Cli) -> None:
    # No offset means UTC, whatever the machine's zone.
    assert [
        (p["person"], p["until"]) for p in cli.json("oncall", "who", "--at", "2026-04-01T17:00")
    ] == [("carol", z("2026-04-02T07:00:00"))]
    table = cli("oncall", "who", "--service", "gateway", "--at", "2026-03-29T00:30:00Z")
    assert "Bob Chen" in table and "Platform on call" in table and "2026-03-30 07:00:00Z" in table
    by_role = cli("oncall", "who", "--service", "checkout", "--at", "2026-03-29T00:30")
    assert "Alice Martin" in by_role and "(team role)" in by_role
    assert "Nobody is on call for service search." in cli("oncall", "who", "--service", "search")
    assert "no service 'nope'" in cli("oncall", "who", "--service", "nope", code=1)
    assert "is not an ISO 8601 time" in cli("oncall", "who", "--at", "tomorrow", code=1)
    assert "UTC" in cli("oncall", "who", "--help")


def test_oncall_schedule_from_the_cli(cli: Cli) -> None:
    week = cli("oncall", "schedule", "platform", "--start", "2026-03-23T09:00+01:00", "--days", "7")
    assert "Platform on call (platform), times in Europe/Berlin" in week
    assert "Bob Chen" in week and "Mon 2026-03-23 09:00 CET" in week
    row = next(line for line in week.splitlines() if "Bob Chen" in line)
    assert "Mon 2026-03-30 09:00 CEST" in row and " 167 " in row, "the DST week is 167 hours"
    assert f"{BASE}/feeds/schedules/platform.ics?token=" in week
    two = cli.json("oncall", "schedule", "platform", "--start", "2026-03-30T07:00Z")
    assert [(s["person"], s["override"]) for s in two["shifts"]] == [
        ("alice", False),
        ("carol", True),
        ("alice", False),
        ("bob", False),
    ]
    listed = cli("oncall", "list")
    assert "platform" in listed and "Platform on call" in listed and "Europe/Berlin" in listed
    assert "no on-call schedule 'nope'" in cli("oncall", "schedule", "nope", code=1)


def test_oncall_against_a_server(
    oncall: Tocsin,
    live_server: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    remote = Cli(
        capsys, monkeypatch, "--url", live_server, "--token", make_token(oncall, Scope.READ)
    )
    # The server's clock decides "now".
    assert [p["person"] for p in remote.json("oncall", "who", "--schedule", "platform")] == ["bob"]
    shown = remote.json(
        "oncall", "schedule", "platform", "--start", "2026-04-01T00:00Z", "--days", "1"
    )
    assert [(s["person"], s["override"]) for s in shown["shifts"]] == [
        ("alice", False),
        ("carol", True),
    ]
    assert shown["feed_url"] is None, "a read token is handed no feed URL"
    assert "ask for a service or a schedule" in remote(
        "oncall", "who", "--service", "gateway", "--schedule", "platform", code=1
    )


def test_schedules_import_from_the_catalog_file(cli: Cli, tmp_path: Path) -> None:
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text(
        """
schedules:
  - slug: nights
    name: Nights
    time_zone: America/New_York
    layers:
      - name: Nights
        rotation:
          type: daily
          participants: [bob]
          start: "2026-03-01T18:00"
          restrictions:
            - {start: "18:00", end: "08:00"}
teams:
  - {slug: search-team, name: Search team, schedule: nights}
"""
    )
    cli("catalog", "import", str(catalog))
    # 02:00 in New York (EDT since 8 March) is 06:00 UTC; bob is on until 08:00 there.
    assert [
        (p["person"], p["until"])
        for p in cli.json("oncall", "who", "--schedule", "nights", "--at", "2026-03-30T06:00")
    ] == [("bob", z("2026-03-30T12:00:00"))]
    assert cli.json("oncall", "who", "--schedule", "nights", "--at", "2026-03-30T16:00") == []


# ----- web pages --------------------------------------------------------------------------------
@pytest.fixture
def responder(oncall: Tocsin) -> Iterator[Any]:
    create_user(oncall, "rita", OrgRole.RESPONDER, "Rita Responder")
    with browser_for(oncall, "rita") as browser:
        yield browser


@pytest.fixture
def admin(oncall: Tocsin) -> Iterator[Any]:
    create_user(oncall, "ada", OrgRole.ADMIN, "Ada Admin")
    with browser_for(oncall, "ada") as browser:
        yield browser


def test_the_on_call_page_lists_schedules_with_who_is_on_now(responder: Any) -> None:
    page = responder.read("/schedules")
    assert "On call" in page
    assert "Platform on call platform · Europe/Berlin" in page
    assert "Bob Chen @bob · until Mon 30 Mar 09:00 CEST" in page
    assert "Teams: platform" in page
    assert 'href="/schedules" aria-current="page"' in responder.client.get("/schedules").text


def test_a_schedule_page_shows_two_weeks_day_by_day_in_its_zone(responder: Any) -> None:
    response = responder.client.get("/schedules/platform")
    page = text_of(response.text).replace(EN_DASH, "-")
    assert "Times are in the schedule's zone, Europe/Berlin" in page
    assert "Sun 29 Mar - Sat 11 Apr 2026" in page
    assert "Sun 29 Mar today 00:00-24:00 Bob Chen" in page
    assert "Mon 30 Mar 00:00-09:00 Bob Chen 09:00-24:00 Alice Martin" in page
    assert "Wed 01 Apr 00:00-18:00 Alice Martin 18:00-24:00 Carol Diaz override" in page
    assert "Thu 02 Apr 00:00-09:00 Carol Diaz override 09:00-24:00 Alice Martin" in page
    assert "Sat 11 Apr 00:00-24:00 Bob Chen" in page
    assert (
        "replace Carol Diaz stands in for @alice · Wed 01 Apr 18:00 CEST → Thu 02 Apr 09:00 CEST"
        in page
    )
    assert "Calendar feeds" not in page, "feed URLs are for admins"
    later = responder.read("/schedules/platform?from=2026-04-12").replace(EN_DASH, "-")
    assert "Sun 12 Apr - Sat 25 Apr 2026" in later and "today" not in later
    assert "Mon 13 Apr 00:00-09:00 Bob Chen 09:00-24:00 Alice Martin" in later


def test_schedule_page_refusals(responder: Any) -> None:
    missing = responder.client.get("/schedules/nope")
    assert missing.status_code == 404 and "no on-call schedule 'nope'" in text_of(missing.text)
    bad = responder.client.get("/schedules/platform?from=someday")
    assert bad.status_code == 422 and "is not a date like 2026-11-26" in text_of(bad.text)


def test_admins_see_the_feed_urls_on_the_schedule_page(oncall: Tocsin, admin: Any) -> None:
    page = admin.read("/schedules/platform")
    assert "Calendar feeds" in page
    assert f"{BASE}/feeds/schedules/platform.ics?token=" in page
    for handle in ("alice", "bob", "carol"):
        assert f"{BASE}/feeds/people/{handle}.ics?token=" in page
    oncall.settings = oncall.settings.model_copy(update={"feed_secret": SecretStr("")})
    off = admin.read("/schedules/platform")
    assert "iCalendar feeds are off. Set TOCSIN_FEED_SECRET" in off and "token=" not in off


def test_schedule_pages_need_signing_in(oncall: Tocsin, anonymous: TestClient) -> None:
    for path in ("/schedules", "/schedules/platform"):
        response = anonymous.get(path, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"].startswith("/login")
