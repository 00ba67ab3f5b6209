"""Migrations, repositories and the unit of work on real SQLite and PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
import time
from datetime import timedelta
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import func, inspect, select
from sqlalchemy.exc import StatementError

from tests.fakes import FakeClock
from tocsin.adapters import orm
from tocsin.adapters.database import connect
from tocsin.adapters.unit_of_work import SqlAlchemyUnitOfWork
from tocsin.bootstrap import Tocsin
from tocsin.domain import commands as c
from tocsin.domain.actors import Actor
from tocsin.domain.communications import Audience, ScheduledUpdate, UpdateTemplate
from tocsin.domain.errors import ChronologyViolation, InvalidTransition, NotFound
from tocsin.domain.milestones import Milestone
from tocsin.domain.paging import Delivery
from tocsin.domain.roles import Role
from tocsin.domain.severities import Severity
from tocsin.domain.statuses import Status
from tocsin.domain.timeline import EntryKind
from tocsin.views.incident_search import IncidentFilter

ALICE = Actor("Alice", None)
PAGING_KINDS = (EntryKind.ESCALATION.value, EntryKind.PAGED.value)  # declaring fires step 1


def test_migrated_schema_equals_the_models(tocsin: Tocsin) -> None:
    with tocsin.database.reader.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "include_name": orm.modelled}
        )
        assert compare_metadata(context, orm.metadata) == []
        tables = set(inspect(conn).get_table_names())
        indexes = {i["name"] for i in inspect(conn).get_indexes("incidents")}
    assert {t.name for t in orm.metadata.sorted_tables} <= tables
    if tocsin.database.dialect == "sqlite":
        assert orm.SQLITE_SEARCH_TABLE in tables
    else:
        assert indexes >= orm.POSTGRES_SEARCH_INDEXES
    assert tocsin.schema_is_current()


def test_migrations_run_on_an_empty_database_and_again(sqlite_url: str, clock: FakeClock) -> None:
    from tests.conftest import make_tocsin

    core = make_tocsin(sqlite_url, clock)
    core.migrate()  # a second upgrade is a no-op
    assert core.schema_is_current()
    core.close()


def test_an_incident_survives_the_round_trip(catalog: Tocsin, clock: FakeClock) -> None:
    number = catalog.handle(
        c.DeclareIncident(
            "Checkout down",
            Severity.P2,
            ALICE,
            summary="502s",
            services=("checkout", "payments"),
            user_impact="cannot pay",
            customer_facing=True,
            detected_at=clock.now() - timedelta(minutes=3),
        )
    )
    clock.advance(minutes=1)
    catalog.handle(c.AssignRole(number, Role.INCIDENT_COMMANDER, "alice", ALICE))
    catalog.handle(c.AssignRole(number, Role.SUBJECT_MATTER_EXPERT, "bob", ALICE))
    catalog.handle(c.AssignRole(number, Role.SUBJECT_MATTER_EXPERT, "carol", ALICE))
    clock.advance(minutes=1)
    catalog.handle(c.ChangeStatus(number, Status.MONITORING, ALICE, "rolled back"))
    seq = catalog.handle(c.AddTimelineEntry(number, EntryKind.DECISION, "keep watching", ALICE))
    catalog.handle(c.MarkKeyMoment(number, seq, True, ALICE))

    detail = catalog.incidents.detail(number)
    assert (detail.status, detail.severity, detail.customer_facing) == ("monitoring", "P2", True)
    assert [s.slug for s in detail.services] == ["checkout", "payments"]
    assert [(r.role, r.person_handle) for r in detail.roles] == [
        ("incident_commander", "alice"),
        ("subject_matter_expert", "bob"),
        ("subject_matter_expert", "carol"),
    ]
    stamps = {t.name: t for t in detail.timestamps}
    assert stamps["detected_at"].value == clock.now() - timedelta(minutes=5)
    assert stamps["detected_at"].source == "person"
    assert stamps["mitigated_at"].value == clock.now()
    assert stamps["mitigated_at"].value.tzinfo is not None
    assert stamps["mitigated_at"].source == "system"
    assert stamps["closed_at"].value is None
    entries = catalog.incidents.timeline(number)
    assert [e.seq for e in entries] == list(range(1, len(entries) + 1))
    assert entries[-1].key_moment and entries[-1].key_moment_by == "Alice"
    assert catalog.incidents.timeline(number, key_moments_only=True) == [entries[-1]]
    # Every change bumps the version once, the flag too; declaring also logs the paging
    # engine's first steps in the same change.
    changes = [e for e in entries if e.kind not in PAGING_KINDS]
    assert detail.version == len(changes) + 1


def test_a_refused_command_writes_nothing(catalog: Tocsin) -> None:
    number = catalog.handle(c.DeclareIncident("x", Severity.P3, ALICE))
    before = catalog.incidents.detail(number)
    timeline = catalog.incidents.timeline(number)
    with pytest.raises(InvalidTransition):
        catalog.handle(c.ChangeStatus(number, Status.CLOSED, ALICE))
    declared = before.stamp("declared_at")
    assert declared is not None
    with pytest.raises(ChronologyViolation):
        catalog.handle(
            c.SetTimestamp(number, Milestone.IMPACT_STARTED, declared + timedelta(minutes=1), ALICE)
        )
    assert catalog.incidents.detail(number) == before
    assert catalog.incidents.timeline(number) == timeline


def test_a_failed_import_writes_nothing(tocsin: Tocsin) -> None:
    with pytest.raises(NotFound, match=r"services\[web\]\.team"):
        tocsin.handle(
            c.ImportCatalog(
                people=(c.PersonSpec("zoe", "Zoe", "zoe@example.com"),),
                services=(c.ServiceSpec("web", "Web", team="ghosts"),),
            )
        )
    assert tocsin.catalog.people() == []
    assert tocsin.catalog.services() == []


def test_catalog_updates_replace_members_and_dependencies(catalog: Tocsin) -> None:
    catalog.handle(
        c.SaveTeam(
            c.TeamSpec("payments", "Payments", members=(("carol", "engineering manager"),)),
            create_only=False,
        )
    )
    catalog.handle(
        c.SaveService(
            c.ServiceSpec("checkout", "Checkout v2", team="payments", tier=2), create_only=False
        )
    )
    team = catalog.catalog.team("payments")
    assert [(m.handle, m.role) for m in team.members] == [("carol", "engineering manager")]
    service = catalog.catalog.service("checkout")
    assert (service.name, service.tier, service.depends_on) == ("Checkout v2", 2, [])


def test_list_filters_and_keyset_pages(catalog: Tocsin, clock: FakeClock) -> None:
    numbers = []
    for i in range(7):
        clock.advance(minutes=1)
        numbers.append(
            catalog.handle(
                c.DeclareIncident(
                    f"Incident {i} {'payments 100%_slow' if i % 2 else 'search'}",
                    Severity.P1 if i < 3 else Severity.P4,
                    ALICE,
                    services=("payments",) if i % 2 else ("search",),
                )
            )
        )
    catalog.handle(c.ChangeStatus(numbers[0], Status.RESOLVED, ALICE))
    view = catalog.incidents

    def ids(**kw: object) -> list[int]:
        return [i.id for i in view.list(IncidentFilter(**kw), limit=50).items]  # type: ignore[arg-type]

    assert ids() == numbers[::-1]
    assert ids(statuses=(Status.RESOLVED,)) == [numbers[0]]
    assert ids(severities=(Severity.P1,)) == numbers[2::-1]
    assert ids(service="payments") == [numbers[5], numbers[3], numbers[1]]
    assert ids(text="PAYMENTS") == [numbers[5], numbers[3], numbers[1]]
    assert ids(text="100%_") == [numbers[5], numbers[3], numbers[1]], "LIKE wildcards are literal"
    assert ids(text="100%x") == []
    t = catalog.incidents.detail(numbers[3]).stamp("declared_at")
    assert t is not None
    assert ids(since=t) == numbers[:2:-1]
    assert ids(since=t, until=t + timedelta(minutes=2)) == [numbers[4], numbers[3]]

    seen, cursor = [], None
    while True:
        page = view.list(IncidentFilter(), limit=3, cursor=cursor)
        seen += [i.id for i in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == numbers[::-1]


def test_concurrent_notes_all_land_in_order(catalog: Tocsin) -> None:
    """Several writers on one incident: optimistic versions plus retries lose nothing."""
    number = catalog.handle(c.DeclareIncident("busy", Severity.P2, ALICE))
    errors: list[BaseException] = []

    def write(worker: int) -> None:
        try:
            for i in range(10):
                catalog.handle(
                    c.AddTimelineEntry(number, EntryKind.OBSERVATION, f"w{worker} n{i}", ALICE)
                )
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    entries = catalog.incidents.timeline(number)
    assert [e.seq for e in entries] == list(range(1, len(entries) + 1))
    assert sorted(e.body for e in entries if e.kind == "observation") == sorted(
        f"w{w} n{i}" for w in range(4) for i in range(10)
    )
    with catalog.database.reader.connect() as conn:
        stored = conn.scalar(select(func.count()).select_from(orm.timeline_entries))
    assert stored == len(entries)
    assert catalog.incidents.version(number) == 41  # the declaration, then 40 notes


def test_argon2_hashes_verify_and_differ() -> None:
    from tocsin.adapters.passwords import Argon2PasswordHasher

    hasher = Argon2PasswordHasher()
    first, second = hasher.hash("correct horse"), hasher.hash("correct horse")
    assert first != second and first.startswith("$argon2id$")
    assert hasher.verify(first, "correct horse")
    assert not hasher.verify(first, "wrong horse")
    assert not hasher.verify("not a hash", "correct horse")


def test_text_search_follows_edits_and_takes_text_literally(tocsin: Tocsin) -> None:
    def found(text: str) -> list[int]:
        return [i.id for i in tocsin.incidents.list(IncidentFilter(text=text)).items]

    first = tocsin.handle(
        c.DeclareIncident(
            "Zürich DC power loss", Severity.P1, ALICE, summary='UPS "B" failed; 50% of racks dark'
        )
    )
    second = tocsin.handle(c.DeclareIncident("Slow search in EU", Severity.P3, ALICE))
    assert found("zÜRICH") == [first], "case is ignored beyond ASCII"
    assert found('"b" FAILED') == [first], "quotes are literal text, not query syntax"
    assert found("50% of") == [first]
    assert found("EU") == [second], "shorter than a trigram still matches"
    assert found("searc") == [second]
    assert found("power outage") == []

    tocsin.handle(c.UpdateIncident(first, ALICE, title="Frankfurt DC power loss"))
    assert found("zürich") == []
    assert found("frankfurt") == [first]
    tocsin.handle(c.UpdateIncident(second, ALICE, summary="Frankfurt replicas lag"))
    assert found("frankfurt") == [second, first]
    # Changes that leave the text alone rewrite the row all the same; the index must hold.
    tocsin.handle(c.UpdateIncident(first, ALICE, user_impact="EU checkout fails"))
    assert found("frankfurt") == [second, first]
    assert found("racks dark") == [first]


def test_incidents_loaded_together_keep_their_own_services_roles_and_people(
    catalog: Tocsin, clock: FakeClock
) -> None:
    """The update cycle loads every due incident at once; each must come back as it is alone,
    services in their order, roles in the order given and with when and by whom."""
    first = catalog.handle(
        c.DeclareIncident("Checkout down", Severity.P3, ALICE, services=("payments", "checkout"))
    )
    second = catalog.handle(c.DeclareIncident("Search slow", Severity.P4, ALICE, services=()))
    third = catalog.handle(
        c.DeclareIncident("Ledger drift", Severity.P3, ALICE, services=("payments",))
    )
    catalog.handle(c.AssignRole(first, Role.INCIDENT_COMMANDER, "alice", ALICE))
    clock.advance(minutes=2)
    assigned = clock.now()
    catalog.handle(c.AssignRole(third, Role.SUBJECT_MATTER_EXPERT, "carol", ALICE))
    clock.advance(minutes=1)
    catalog.handle(c.AssignRole(third, Role.INCIDENT_COMMANDER, "bob", ALICE))

    def loaded(ids: list[int]) -> list[tuple[Any, ...]]:
        with SqlAlchemyUnitOfWork(catalog.database, clock, catalog.hub) as uow:
            uow.incidents.load(ids)
            return [
                (i.title, i.services, i.roles, i.participants, i.version)
                for i in (uow.incidents.get(n) for n in (first, second, third))
            ]

    together = loaded([third, 999, first, second])
    assert together == loaded([])  # each loaded alone by `get`
    assert [[s.slug for s in t[1]] for t in together] == [
        ["payments", "checkout"],
        [],
        ["payments"],
    ]
    assert [[(r.role, r.person_name) for r in t[2]] for t in together] == [
        [(Role.INCIDENT_COMMANDER, "Alice Martin")],
        [],
        [(Role.SUBJECT_MATTER_EXPERT, "Carol Diaz"), (Role.INCIDENT_COMMANDER, "Bob Chen")],
    ]
    carol = together[2][2][0]
    assert (carol.assigned_at, carol.assigned_by) == (assigned, "Alice")
    assert carol.assigned_at.tzinfo is not None
    joined = together[2][3][carol.person_id]
    assert (joined.reason, joined.added_at, joined.added_by) == ("role", assigned, "Alice")
    with SqlAlchemyUnitOfWork(catalog.database, clock, catalog.hub) as uow:
        uow.incidents.load([999])
        with pytest.raises(NotFound):
            uow.incidents.get(999)


def test_services_looked_up_together_come_back_as_each_does_alone(
    catalog: Tocsin, clock: FakeClock
) -> None:
    """An inbox pass looks up the services its alerts name in one query."""
    with SqlAlchemyUnitOfWork(catalog.database, clock, catalog.hub) as uow:
        together = uow.services.find_many(["checkout", "nowhere", "payments"])
        assert uow.services.find("nowhere") is None
    with SqlAlchemyUnitOfWork(catalog.database, clock, catalog.hub) as uow:
        alone = {slug: uow.services.find(slug) for slug in ("checkout", "payments")}
    assert together == alone
    checkout, payments = together["checkout"], together["payments"]
    assert (checkout.tier, checkout.dependency_ids) == (1, [payments.id])


def test_groups_locked_together_come_back_as_each_does_alone(
    catalog: Tocsin, clock: FakeClock
) -> None:
    """An inbox pass locks the groups of all its alerts in one statement."""
    incident_id = catalog.handle(c.DeclareIncident("Checkout down", Severity.P3, ALICE))
    with SqlAlchemyUnitOfWork(catalog.database, clock, catalog.hub) as uow:
        assert uow.alert_groups.lock("service:checkout", clock.now()) is None
        uow.alert_groups.point("service:checkout", incident_id, clock.now())
        uow.commit()
    with SqlAlchemyUnitOfWork(catalog.database, clock, catalog.hub) as uow:
        together = uow.alert_groups.lock_many(["service:checkout", "service:search"], clock.now())
        assert uow.alert_groups.lock_many([], clock.now()) == {}
    with SqlAlchemyUnitOfWork(catalog.database, clock, catalog.hub) as uow:
        alone = {k: uow.alert_groups.lock(k, clock.now()) for k in together}
    assert together == alone == {"service:checkout": incident_id, "service:search": None}


def test_rows_held_back_are_there_for_the_next_read_and_written_once_at_commit(
    catalog: Tocsin, clock: FakeClock
) -> None:
    """Escalations, pages and scheduled reports are inserted with the next read of their
    table or at commit; an escalation saved twice meanwhile moves on by one version."""
    incident_id = catalog.handle(c.DeclareIncident("Checkout down", Severity.P3, ALICE))
    later = clock.now() + timedelta(days=1)  # not due for the worker of the declaration
    with SqlAlchemyUnitOfWork(catalog.database, clock, catalog.hub) as uow:
        found = uow.escalations.for_incident(incident_id)
        assert found is not None
        found.next_step_at = later
        uow.escalations.save(found)
        found.step += 1
        uow.escalations.save(found)
        page = Delivery.to_channel(
            incident_id, "chat", "subject", "body", later, event="trigger", key=("test",)
        )
        uow.deliveries.queue(page)
        uow.deliveries.queue(page)  # the same page decided twice is one row
        assert uow.deliveries.announced(incident_id).count("chat") == 1
        report = ScheduledUpdate(incident_id, UpdateTemplate.INITIAL, (Audience.INTERNAL,), later)
        uow.communications.schedule(report)
        assert report.id is None
        assert incident_id in uow.communications.due(later, 10)
        assert report.id is not None
        uow.commit()
    with SqlAlchemyUnitOfWork(catalog.database, clock, catalog.hub) as uow:
        again = uow.escalations.for_incident(incident_id)
        assert again is not None
        assert (again.step, again.next_step_at, again.version) == (
            found.step,
            later,
            found.version,
        )
        assert again.version == 2
        assert [r.id for r in uow.communications.scheduled_due([incident_id], later)] == [report.id]


def test_rows_written_together_get_their_own_ids_in_the_order_given(
    catalog: Tocsin, clock: FakeClock
) -> None:
    """A batch of scheduled reports goes in as one statement; each gets the id of its row."""
    first = catalog.handle(c.DeclareIncident("Checkout down", Severity.P3, ALICE))
    second = catalog.handle(c.DeclareIncident("Search slow", Severity.P4, ALICE))
    later = clock.now() + timedelta(days=1)
    templates = (UpdateTemplate.INITIAL, UpdateTemplate.STATUS, UpdateTemplate.INITIAL)
    reports = [
        ScheduledUpdate(incident_id, template, (Audience.INTERNAL,), later)
        for incident_id, template in zip((second, first, second), templates, strict=True)
    ]
    with SqlAlchemyUnitOfWork(catalog.database, clock, catalog.hub) as uow:
        for report in reports:
            uow.communications.schedule(report)
        uow.commit()
    ids = [r.id or 0 for r in reports]
    assert all(ids) and sorted(ids) == ids and len(set(ids)) == 3
    s = orm.scheduled_updates
    with catalog.database.reader.connect() as conn:
        stored = conn.execute(select(s.c.id, s.c.incident_id, s.c.template).where(s.c.id.in_(ids)))
        rows = {r.id: (r.incident_id, r.template) for r in stored}
    assert [rows[i] for i in ids] == [(r.incident_id, r.template.value) for r in reports]
    with SqlAlchemyUnitOfWork(catalog.database, clock, catalog.hub) as uow:
        one_more = ScheduledUpdate(first, UpdateTemplate.STATUS, (Audience.INTERNAL,), later)
        uow.communications.schedule(one_more)
        uow.commit()
    assert (one_more.id or 0) > max(ids)


def test_incident_ids_drawn_ahead_number_incidents_without_gaps(
    catalog: Tocsin, clock: FakeClock
) -> None:
    first = catalog.handle(c.DeclareIncident("Before", Severity.P4, ALICE))
    with SqlAlchemyUnitOfWork(catalog.database, clock, catalog.hub) as uow:
        uow.incidents.reserve_ids(2)
        assert [uow.incidents.next_id(), uow.incidents.next_id()] == [first + 1, first + 2]
        assert uow.incidents.next_id() == first + 3  # beyond those drawn ahead


def test_rows_inserted_in_bulk_are_stored_as_sqlalchemy_stores_them(tocsin: Tocsin) -> None:
    """The fast path for alerts and timeline entries must write the very text SQLAlchemy
    writes (dates compare as text on SQLite) and read back the same values."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from sqlalchemy import insert

    from tocsin.adapters.bulk import insert_many

    berlin = datetime(2026, 3, 29, 3, 30, tzinfo=ZoneInfo("Europe/Berlin"))
    row = {
        "name": "restart", "title": "Restart", "method": "POST", "url": "https://x.example",
        "headers": {"X-Big": 2**70, "ünïcode": ["a", 1.5, None]}, "body": "", "timeout": 2.5,
        "requires_approval": True, "expect_status": None, "runbook": None,
        "updated_at": berlin,
    }  # fmt: skip
    columns = "headers, timeout, requires_approval, expect_status, updated_at"
    with tocsin.database.writer.begin() as conn:
        conn.execute(insert(orm.actions), [{**row, "id": 1, "name": "a"}])
        insert_many(conn, orm.actions, [{**row, "id": 2, "name": "b"}])
        stored = conn.exec_driver_sql(f"SELECT {columns} FROM actions ORDER BY id").all()
        read = conn.execute(select(orm.actions).order_by(orm.actions.c.id)).mappings().all()
        later = conn.scalars(
            select(orm.actions.c.id).where(orm.actions.c.updated_at >= berlin)
        ).all()
    by_sqlalchemy, by_bulk = stored
    assert tuple(by_bulk) == tuple(by_sqlalchemy)
    assert [r["headers"] for r in read] == [row["headers"]] * 2
    assert [r["updated_at"] for r in read] == [berlin, berlin]
    assert read[1]["updated_at"].tzinfo is not None and later == [1, 2]
    if tocsin.database.dialect == "sqlite":  # SQLAlchemy's own text for a datetime, in UTC
        assert by_sqlalchemy[-1] == "2026-03-29 01:30:00.000000"
    with (
        pytest.raises(StatementError, match="naive datetime"),
        tocsin.database.writer.begin() as conn,
    ):
        conn.execute(
            insert(orm.actions),
            [{**row, "id": 3, "name": "c", "updated_at": datetime(2026, 1, 1)}],  # noqa: DTZ001
        )


def test_writers_of_other_processes_on_one_sqlite_file_take_turns_through_the_lock(
    sqlite_url: str,
) -> None:
    """Another process's writer waits while this one writes, and goes on once it is done
    (handed the lock by the kernel, not by SQLite's sleeping busy handler)."""
    database = connect(sqlite_url)
    other = textwrap.dedent(
        f"""
        from tocsin.adapters.database import connect
        database = connect({sqlite_url!r})
        print("waiting", flush=True)
        with database.write_lock:
            print("writing", flush=True)
        """
    )
    try:
        with database.write_lock:
            process = subprocess.Popen(
                [sys.executable, "-c", other], stdout=subprocess.PIPE, text=True
            )
            assert process.stdout is not None
            assert process.stdout.readline() == "waiting\n"
            time.sleep(0.5)
            assert process.poll() is None, "it must not write while this process does"
        assert process.stdout.readline() == "writing\n"
        assert process.wait(timeout=30) == 0
    finally:
        database.dispose()


def test_a_closed_sqlite_database_lets_go_of_its_lock_file(sqlite_url: str) -> None:
    """Each Tocsin opened and closed (the CLI, tests) must not leave a descriptor behind."""
    opened = len(os.listdir("/dev/fd"))
    for _ in range(20):
        database = connect(sqlite_url)
        with database.write_lock:
            pass
        database.dispose()
    assert len(os.listdir("/dev/fd")) <= opened + 1
