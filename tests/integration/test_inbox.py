"""The alert inbox on SQLite and PostgreSQL: group commit, durability before the answer, order."""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from tests.conftest import CATALOG, make_tocsin
from tests.fakes import FakeClock, FakePasswordHasher
from tests.paging.proxy import CuttableProxy
from tocsin.adapters import orm
from tocsin.adapters.inbox import SqlAlchemyAlertInbox
from tocsin.bootstrap import Tocsin, bootstrap
from tocsin.config import load_settings
from tocsin.domain import commands as c
from tocsin.domain.actors import Actor
from tocsin.domain.alerts import AlertSignal, Link, SignalAction
from tocsin.domain.integrations import IntegrationKind
from tocsin.views.alerts import AlertFilter


def signal(n: int) -> AlertSignal:
    return AlertSignal(
        f"key-{n}",
        SignalAction.TRIGGER,
        labels={"alertname": "Load", "service": "checkout", "severity": "warning", "n": str(n)},
        annotations={"summary": f"alert {n}"},
    )


def inbox_rows(tocsin: Tocsin) -> int:
    with tocsin.database.reader.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(orm.alert_inbox)) or 0)


def test_concurrent_deliveries_share_commits_and_are_durable_when_answered(catalog: Tocsin) -> None:
    integration = catalog.handle(
        c.CreateIntegration("prom", IntegrationKind.ALERTMANAGER, Actor("Admin"))
    )
    ids: list[int] = []
    seen_on_answer: list[bool] = []
    lock = threading.Lock()

    def deliver(n: int) -> None:
        inbox_id = catalog.inbox.submit(integration.id, (signal(n),)).result(timeout=30)
        with catalog.database.reader.connect() as conn:  # a separate connection sees it at once
            found = conn.scalar(
                select(func.count())
                .select_from(orm.alert_inbox)
                .where(orm.alert_inbox.c.id == inbox_id)
            )
        with lock:
            ids.append(inbox_id)
            seen_on_answer.append(found == 1)

    threads = [threading.Thread(target=deliver, args=(n,)) for n in range(60)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(ids) == list(range(1, 61)) and all(seen_on_answer)

    results = catalog.handle(c.ProcessInbox(limit=1000))
    assert sorted(results) == sorted(ids)
    assert inbox_rows(catalog) == 0, "applied deliveries leave the inbox in the same transaction"
    alerts = catalog.alerts.list(AlertFilter(), limit=200).items
    assert len(alerts) == 60 and len({a.incident_id for a in alerts}) == 1


def test_a_failed_write_is_reported_to_the_sender_and_the_next_one_is_stored(
    catalog: Tocsin,
) -> None:
    future = catalog.inbox.submit(4242, (signal(1),))  # no such integration: foreign key refuses
    with pytest.raises((sqlite3.IntegrityError, psycopg.IntegrityError), match=r"(?i)foreign key"):
        future.result(timeout=30)
    assert inbox_rows(catalog) == 0

    integration = catalog.handle(
        c.CreateIntegration("prom", IntegrationKind.ALERTMANAGER, Actor("Admin"))
    )
    catalog.inbox.submit(integration.id, (signal(2),)).result(timeout=30)
    assert inbox_rows(catalog) == 1


def test_a_stored_delivery_keeps_its_signals_and_when_it_arrived_to_the_microsecond(
    catalog: Tocsin,
) -> None:
    integration = catalog.handle(
        c.CreateIntegration("prom", IntegrationKind.ALERTMANAGER, Actor("Admin"))
    )
    arrived = catalog.clock.advance(seconds=1.234567)  # type: ignore[attr-defined]
    first = catalog.inbox.submit(integration.id, (signal(1), signal(2))).result(timeout=30)
    second = catalog.inbox.submit(integration.id, (signal(3),)).result(timeout=30)
    with catalog.database.reader.connect() as conn:
        items = SqlAlchemyAlertInbox(conn).pending(10, arrived)
    assert [i.id for i in items] == [first, second] and second > first
    assert [i.received_at for i in items] == [arrived, arrived]
    assert [[s.dedup_key for s in i.signals] for i in items] == [["key-1", "key-2"], ["key-3"]]
    assert items[0].signals[1].labels["n"] == "2"


@pytest.mark.postgres
def test_deliveries_are_stored_without_an_error_once_the_database_is_back(
    postgres_url: str, clock: FakeClock
) -> None:
    """The writer's connection dies with the database; the first delivery after it returns
    is stored on a new connection, not refused."""
    parsed = make_url(postgres_url)
    proxy = CuttableProxy((parsed.host or "127.0.0.1", parsed.port or 5432))
    core = make_tocsin(parsed.set(port=proxy.port).render_as_string(hide_password=False), clock)
    try:
        core.handle(CATALOG)
        integration = core.handle(
            c.CreateIntegration("prom", IntegrationKind.ALERTMANAGER, Actor("Admin"))
        )
        core.inbox.submit(integration.id, (signal(1),)).result(timeout=30)
        proxy.cut(0.2)
        core.inbox.submit(integration.id, (signal(2),)).result(timeout=30)
        assert inbox_rows(core) == 2
    finally:
        core.close()
        proxy.close()


def test_an_incident_moves_on_once_its_alerts_are_resolved_when_the_pass_ends(
    catalog: Tocsin,
) -> None:
    """Deliveries applied together: the incident whose alerts all resolve moves to Monitoring
    once, and one whose alert fired again later in the same pass stays where it was."""
    integration = catalog.handle(
        c.CreateIntegration("prom", IntegrationKind.ALERTMANAGER, Actor("Admin"))
    )
    catalog.inbox.submit(integration.id, (signal(1), signal(2))).result(timeout=30)
    catalog.handle(c.ProcessInbox(limit=100))
    incident_id = catalog.alerts.list(AlertFilter(), limit=10).items[0].incident_id
    assert incident_id is not None

    def resolved(n: int) -> AlertSignal:
        return AlertSignal(
            f"key-{n}", SignalAction.RESOLVE, labels=signal(n).labels, annotations={}
        )

    for delivery in ((resolved(1),), (resolved(2),), (signal(2),)):
        catalog.inbox.submit(integration.id, delivery).result(timeout=30)
    catalog.handle(c.ProcessInbox(limit=100))
    detail = catalog.incidents.detail(incident_id)
    assert detail.status == "investigating", "key-2 fired again after it resolved"
    kinds = [e.kind for e in catalog.incidents.timeline(incident_id)]
    assert kinds.count("alert_resolved") == 2 and "status_changed" not in kinds

    catalog.inbox.submit(integration.id, (resolved(2),)).result(timeout=30)
    catalog.handle(c.ProcessInbox(limit=100))
    assert catalog.incidents.detail(incident_id).status == "monitoring"
    entries = catalog.incidents.timeline(incident_id)
    moved = [e for e in entries if e.kind == "status_changed"]
    assert len(moved) == 1 and "every alert has resolved" in moved[0].body
    assert entries[-1] == moved[0], "after the alert's own entry"


def test_an_incident_moves_on_in_the_name_of_the_sender_that_resolved_its_last_alert(
    catalog: Tocsin,
) -> None:
    """A later delivery from another sender in the same pass does not take the credit."""
    prom, grafana = (
        catalog.handle(c.CreateIntegration(name, kind, Actor("Admin")))
        for name, kind in (
            ("prom", IntegrationKind.ALERTMANAGER),
            ("graf", IntegrationKind.GRAFANA),
        )
    )
    catalog.inbox.submit(prom.id, (signal(1),)).result(timeout=30)
    catalog.handle(c.ProcessInbox(limit=100))
    incident_id = catalog.alerts.list(AlertFilter(), limit=10).items[0].incident_id
    assert incident_id is not None

    resolved = AlertSignal("key-1", SignalAction.RESOLVE, labels=signal(1).labels, annotations={})
    other = AlertSignal(
        "other", SignalAction.TRIGGER, labels={"alertname": "Disk", "severity": "info"}
    )
    catalog.inbox.submit(prom.id, (resolved,)).result(timeout=30)
    catalog.inbox.submit(grafana.id, (other,)).result(timeout=30)
    catalog.handle(c.ProcessInbox(limit=100))
    moved = [e for e in catalog.incidents.timeline(incident_id) if e.kind == "status_changed"]
    assert [e.author for e in moved] == ["prom (alertmanager)"]


def test_every_field_of_a_delivery_comes_back_from_the_inbox_as_it_went_in(
    catalog: Tocsin,
) -> None:
    """Including what orjson cannot write (an integer beyond 64 bits), which goes the slow way."""
    integration = catalog.handle(
        c.CreateIntegration("prom", IntegrationKind.ALERTMANAGER, Actor("Admin"))
    )
    started = datetime(2026, 11, 27, 2, 0, 0, 123456, tzinfo=UTC)
    full = AlertSignal(
        "full",
        SignalAction.RESOLVE,
        title="Disk full",
        description="on db-1",
        source_severity="critical",
        labels={"alertname": "Disk", "instance": "db-1"},
        annotations={"summary": "Disk full", "runbook_url": "https://runbooks/disk"},
        details={"values": {"A": 97.5}, "nested": [1, "two", None, True]},
        links=(Link("https://prom/graph", "Source"), Link("https://runbooks/disk", "Runbook")),
        source="db-1",
        group_key='{}:{alertname="Disk"}',
        started_at=started,
        ended_at=started + timedelta(minutes=5, microseconds=1),
        raw={"status": "resolved", "labels": {"alertname": "Disk"}, "big": 2**70},
    )
    bare = AlertSignal("bare", SignalAction.TRIGGER)
    deliveries = ((full, bare), (replace(full, raw={"status": "resolved"}),), (bare,))
    ids = [catalog.inbox.submit(integration.id, d).result(timeout=30) for d in deliveries]
    with catalog.database.reader.connect() as conn:
        items = SqlAlchemyAlertInbox(conn).pending(10, catalog.clock.now())
    assert [i.id for i in items] == ids
    assert [i.signals for i in items] == list(deliveries)


def test_a_delivery_another_process_stored_under_a_reused_number_is_applied_as_stored(
    catalog: Tocsin,
) -> None:
    """SQLite numbers deliveries afresh once the inbox empties. What this process kept decoded
    of its own delivery, which another process applied, must not stand in for the other's next
    delivery under the same number."""
    integration = catalog.handle(
        c.CreateIntegration("prom", IntegrationKind.ALERTMANAGER, Actor("Admin"))
    )
    settings = load_settings(database_url=catalog.database.url, paging_embedded=False)
    other = bootstrap(settings, clock=catalog.clock, hasher=FakePasswordHasher())
    try:
        mine = catalog.inbox.submit(integration.id, (signal(1),)).result(timeout=30)
        other.handle(c.ProcessInbox(limit=100))
        theirs = other.inbox.submit(integration.id, (signal(2),)).result(timeout=30)
        if catalog.database.dialect == "sqlite":
            assert theirs == mine, "the number is reused, as this test means to check"
        catalog.handle(c.ProcessInbox(limit=100))
    finally:
        other.close()
    alerts = catalog.alerts.list(AlertFilter(), limit=10).items
    assert sorted((a.dedup_key, a.received_count) for a in alerts) == [("key-1", 1), ("key-2", 1)]
