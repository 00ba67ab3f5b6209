"""Use cases through the message bus with an in-memory unit of work and a fake clock."""

from __future__ import annotations

import pytest

from tests.fakes import FakeClock, FakePasswordHasher, FakeUnitOfWork, _Store
from tocsin.domain import commands as c
from tocsin.domain.accounts import OrgRole, Scope
from tocsin.domain.actors import Actor
from tocsin.domain.errors import (
    AlreadyExists,
    AuthenticationFailed,
    ConcurrencyConflict,
    InvalidInput,
    NotFound,
    PermissionDenied,
)
from tocsin.domain.roles import Role
from tocsin.domain.severities import Severity
from tocsin.domain.statuses import Status
from tocsin.domain.timeline import EntryKind
from tocsin.policy import load_default_policy
from tocsin.services.handlers import COMMAND_HANDLERS, EVENT_HANDLERS
from tocsin.services.handlers.accounts import secret_hash
from tocsin.services.messagebus import Context, MessageBus

POLICY = load_default_policy()
ALICE = Actor("Alice", 1, person_id=1)
CATALOG = c.ImportCatalog(
    people=(
        c.PersonSpec(
            "alice",
            "Alice",
            "alice@example.com",
            "Europe/Berlin",
            contact_methods=(("sms", "+4915112345678"),),
        ),
        c.PersonSpec("bob", "Bob", "bob@example.com"),
    ),
    teams=(
        c.TeamSpec(
            "payments", "Payments", members=(("alice", "On-Call Engineer"), ("bob", "team_lead"))
        ),
    ),
    services=(
        c.ServiceSpec("checkout", "Checkout", team="payments", tier=1, depends_on=("payments",)),
        c.ServiceSpec("payments", "Payments", team="payments"),
    ),
)


class Harness:
    def __init__(self) -> None:
        self.store = _Store()
        self.uows: list[FakeUnitOfWork] = []
        self.clock = FakeClock()
        self.bus = MessageBus(
            self._uow, self.clock, FakePasswordHasher(), POLICY, COMMAND_HANDLERS, EVENT_HANDLERS
        )

    def _uow(self) -> FakeUnitOfWork:
        uow = FakeUnitOfWork(self.store)
        self.uows.append(uow)
        return uow

    def entries(self, incident_id: int) -> list[str]:
        """The incident's timeline without the paging engine's entries: declaring fires the
        first escalation step at once (tests/paging covers those)."""
        found = sorted(
            (seq, e.body)
            for (i, seq), e in self.store.entries.items()
            if i == incident_id and e.kind not in (EntryKind.ESCALATION, EntryKind.PAGED)
        )
        return [body for _, body in found]


@pytest.fixture
def h() -> Harness:
    harness = Harness()
    harness.bus.handle(CATALOG)
    return harness


def test_declare_resolves_services_commits_once_and_announces(h: Harness) -> None:
    number = h.bus.handle(
        c.DeclareIncident("Checkout down", Severity.P1, ALICE, services=("Checkout",))
    )
    incident = h.store.incidents[number]
    assert [s.slug for s in incident.services] == ["checkout"]
    assert h.uows[-1].committed == 1
    assert set(h.uows[-1].announced) == {number}


def test_unknown_service_refuses_and_commits_nothing(h: Harness) -> None:
    with pytest.raises(NotFound, match="no service named 'nope'") as err:
        h.bus.handle(c.DeclareIncident("x", Severity.P1, ALICE, services=("checkout", "nope")))
    assert err.value.field == "services"
    assert h.uows[-1].committed == 0
    assert h.store.incidents == {}


def test_role_hand_over_by_handle(h: Harness) -> None:
    number = h.bus.handle(c.DeclareIncident("x", Severity.P2, ALICE))
    h.bus.handle(c.AssignRole(number, Role.INCIDENT_COMMANDER, "alice", ALICE))
    h.bus.handle(c.AssignRole(number, Role.INCIDENT_COMMANDER, "BOB", ALICE))
    assert h.entries(number)[-1] == "Incident Commander handed over from Alice to Bob"
    with pytest.raises(NotFound, match="no person with handle 'zed'"):
        h.bus.handle(c.AssignRole(number, Role.SCRIBE, "zed", ALICE))


def test_correction_of_a_missing_entry_is_refused(h: Harness) -> None:
    number = h.bus.handle(c.DeclareIncident("x", Severity.P2, ALICE))
    with pytest.raises(NotFound, match="no entry #99"):
        h.bus.handle(
            c.AddTimelineEntry(number, EntryKind.OBSERVATION, "fix", ALICE, corrects_seq=99)
        )
    seq = h.bus.handle(c.AddTimelineEntry(number, EntryKind.OBSERVATION, "40%", ALICE))
    fix = h.bus.handle(
        c.AddTimelineEntry(number, EntryKind.OBSERVATION, "4%", ALICE, corrects_seq=seq)
    )
    assert h.store.entries[(number, fix)].corrects_seq == seq


def test_status_change_through_the_bus(h: Harness) -> None:
    number = h.bus.handle(c.DeclareIncident("x", Severity.P2, ALICE))
    h.clock.advance(minutes=5)
    h.bus.handle(c.ChangeStatus(number, Status.RESOLVED, ALICE))
    assert h.store.incidents[number].status is Status.RESOLVED
    with pytest.raises(NotFound, match="no incident INC-99"):
        h.bus.handle(c.ChangeStatus(99, Status.RESOLVED, ALICE))


def test_a_concurrent_change_is_retried_from_scratch(h: Harness) -> None:
    number = h.bus.handle(c.DeclareIncident("x", Severity.P2, ALICE))
    calls = []

    def flaky(command: c.Command, ctx: Context) -> None:
        calls.append(command)
        if len(calls) < 3:
            raise ConcurrencyConflict("someone else")
        COMMAND_HANDLERS[c.ChangeStatus](command, ctx)

    bus = MessageBus(
        h._uow, h.clock, FakePasswordHasher(), POLICY, {c.ChangeStatus: flaky}, EVENT_HANDLERS
    )
    bus.handle(c.ChangeStatus(number, Status.IDENTIFIED, ALICE))
    assert len(calls) == 3
    assert h.store.incidents[number].status is Status.IDENTIFIED


def test_conflicts_give_up_after_the_last_attempt(h: Harness) -> None:
    def always(command: c.Command, ctx: Context) -> None:
        raise ConcurrencyConflict("busy")

    bus = MessageBus(
        h._uow, h.clock, FakePasswordHasher(), POLICY, {c.ChangeStatus: always}, {}, attempts=2
    )
    with pytest.raises(ConcurrencyConflict):
        bus.handle(c.ChangeStatus(1, Status.IDENTIFIED, ALICE))


class TestCatalog:
    def test_import_normalises_and_is_idempotent(self, h: Harness) -> None:
        team = h.store.teams["payments"]
        assert [m.role for m in team.members] == ["on-call engineer", "team lead"]
        assert h.bus.handle(CATALOG) == {
            "people": {"created": 0, "updated": 0, "unchanged": 2},
            "teams": {"created": 0, "updated": 0, "unchanged": 1},
            "services": {"created": 0, "updated": 0, "unchanged": 2},
        }

    def test_import_reports_where_an_error_is(self, h: Harness) -> None:
        bad = c.ImportCatalog(services=(c.ServiceSpec("web", "Web", team="nope"),))
        with pytest.raises(NotFound) as err:
            h.bus.handle(bad)
        assert err.value.field == "services[web].team"
        assert "web" not in h.store.services

    def test_services_may_depend_on_later_ones(self) -> None:
        harness = Harness()
        report = harness.bus.handle(
            c.ImportCatalog(
                services=(c.ServiceSpec("a", "A", depends_on=("b",)), c.ServiceSpec("b", "B"))
            )
        )
        assert report["services"]["created"] == 2
        assert harness.store.services["a"].dependency_ids == [harness.store.services["b"].id]

    @pytest.mark.parametrize(
        ("spec", "field", "message"),
        [
            (c.PersonSpec("x", "X", "not-an-email"), "email", "is not an email address"),
            (
                c.PersonSpec("x", "X", "x@example.com", "Mars/Base"),
                "time_zone",
                "unknown time zone",
            ),
            (c.PersonSpec("X Y", "X", "x@example.com"), "handle", "lowercase letters"),
            (
                c.PersonSpec("x", "X", "x@example.com", contact_methods=(("sms", "12345"),)),
                "contact_methods[0]",
                "E.164",
            ),
            (
                c.PersonSpec("x", "X", "x@example.com", contact_methods=(("fax", "1"),)),
                "contact_methods[0]",
                "unknown contact kind",
            ),
        ],
    )
    def test_person_validation(
        self, h: Harness, spec: c.PersonSpec, field: str, message: str
    ) -> None:
        with pytest.raises(InvalidInput, match=message) as err:
            h.bus.handle(c.SavePerson(spec))
        assert err.value.field == field

    def test_create_only_refuses_existing(self, h: Harness) -> None:
        with pytest.raises(AlreadyExists):
            h.bus.handle(c.SaveService(c.ServiceSpec("checkout", "Checkout again")))

    def test_self_dependency_and_bad_tier(self, h: Harness) -> None:
        with pytest.raises(InvalidInput, match="cannot depend on itself"):
            h.bus.handle(
                c.SaveService(
                    c.ServiceSpec("checkout", "C", depends_on=("checkout",)), create_only=False
                )
            )
        with pytest.raises(InvalidInput, match="tier must be 1, 2 or 3"):
            h.bus.handle(c.SaveService(c.ServiceSpec("new", "N", tier=4)))


class TestAccounts:
    def test_token_scope_is_capped_by_role(self, h: Harness) -> None:
        h.bus.handle(c.CreateUser("viewer1", "long enough pw", OrgRole.VIEWER))
        with pytest.raises(PermissionDenied, match="at most read scope"):
            h.bus.handle(c.CreateApiToken("viewer1", "ci", Scope.WRITE))
        created = h.bus.handle(c.CreateApiToken("viewer1", "ci", Scope.READ))
        assert created.secret.startswith("tsn_")
        stored = h.store.tokens[created.id]
        assert stored.token_hash == secret_hash(created.secret)
        assert created.secret not in repr(stored)

    def test_short_password_and_duplicate_user(self, h: Harness) -> None:
        with pytest.raises(InvalidInput, match="at least 10 characters"):
            h.bus.handle(c.CreateUser("short", "abc"))
        h.bus.handle(c.CreateUser("dup", "long enough pw"))
        with pytest.raises(AlreadyExists):
            h.bus.handle(c.CreateUser("DUP", "long enough pw"))

    def test_log_in_and_out(self, h: Harness) -> None:
        h.bus.handle(c.CreateUser("ann", "long enough pw"))
        with pytest.raises(AuthenticationFailed, match="wrong username or password"):
            h.bus.handle(c.LogIn("ann", "wrong password"))
        with pytest.raises(AuthenticationFailed, match="wrong username or password"):
            h.bus.handle(c.LogIn("nobody", "long enough pw"))
        session = h.bus.handle(c.LogIn("Ann", "long enough pw"))
        assert secret_hash(session.secret) in h.store.sessions
        h.bus.handle(c.LogOut(session.secret))
        assert h.store.sessions == {}

    def test_sign_in_sweeps_expired_sessions(self, h: Harness) -> None:
        h.bus.handle(c.CreateUser("ann", "long enough pw"))
        old = h.bus.handle(c.LogIn("ann", "long enough pw"))
        h.clock.advance(days=15)
        new = h.bus.handle(c.LogIn("ann", "long enough pw"))
        assert set(h.store.sessions) == {secret_hash(new.secret)}
        assert secret_hash(old.secret) not in h.store.sessions
