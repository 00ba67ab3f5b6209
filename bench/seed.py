"""Fill a Tocsin database with a realistic incident history, fast, for the read benchmarks.

The schema is created by Tocsin's own migrations. The small catalog (teams, people, services),
the admin user and a read-scope API token go through the message bus like any other change.
The incident history itself (incidents, incident_services, incident_roles, timeline_entries) is
written directly as rows, bypassing the bus: SQLAlchemy Core executemany in large batches on
SQLite, COPY through psycopg on PostgreSQL. The rows are built to be what the domain would have
written: valid severities and statuses, aware UTC timestamps in chronological order, timestamp
provenance in the repository's JSON shape, and `version`/`timeline_seq` consistent with the
entries (one entry and one version per command, plus one version per key-moment flag).

Usage: python bench/seed.py sqlite:///var/bench.db [--incidents 100000] [--entries 1000000]
The read token is printed on the last line of stdout.
"""

from __future__ import annotations

import argparse
import json
import random
import secrets
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TextIO

import psycopg
from sqlalchemy import func, insert, select, text
from sqlalchemy.engine import make_url

from tocsin.adapters import orm
from tocsin.bootstrap import Tocsin, bootstrap
from tocsin.config import load_settings
from tocsin.domain import commands
from tocsin.domain.accounts import OrgRole, Scope
from tocsin.domain.incident_details import DetectionSource
from tocsin.domain.milestones import Milestone, Source, Stamp, check_chronology
from tocsin.domain.roles import Role
from tocsin.domain.severities import Severity
from tocsin.domain.statuses import Status
from tocsin.domain.timeline import EntryKind

DEFAULT_INCIDENTS = 100_000
DEFAULT_ENTRIES = 1_000_000
BATCH_INCIDENTS = 5_000  # about 50k timeline rows per batch at the default ratio
HISTORY = timedelta(days=730)

COMPONENTS = (
    "checkout", "payments API", "login", "search", "API gateway", "primary database", "cache",
    "job queue", "CDN", "DNS", "load balancer", "Kafka cluster", "Redis", "Postgres replica",
    "billing", "notifications", "email delivery", "SMS gateway", "webhooks", "mobile app",
    "dashboard", "reporting", "auth tokens", "session store", "image uploads", "transcoding",
    "recommendations", "inventory", "shipping quotes", "pricing engine", "feature flags",
    "object storage", "service mesh", "ingress controller", "scheduler", "data warehouse",
    "ETL pipeline", "analytics", "status page", "partner API", "invoicing", "fraud scoring",
)  # fmt: skip
SYMPTOMS = (
    "Elevated error rate", "High latency", "Timeouts", "5xx errors", "Degraded performance",
    "Outage", "Partial outage", "Delayed processing", "Stale data", "Failed deploys",
    "Memory leak", "CPU saturation", "Disk full", "Certificate expiry", "Connection resets",
    "Packet loss", "Replication lag", "Duplicate charges", "Missing events", "Login failures",
    "Intermittent 502s", "Throttling", "Queue backlog", "Crash loop", "Slow queries",
)  # fmt: skip
REGIONS = (
    "eu-west-1", "eu-central-1", "us-east-1", "us-west-2", "ap-southeast-1", "ap-northeast-1",
    "sa-east-1", "all regions",
)  # fmt: skip
CAUSES = (
    "a bad configuration push", "an expired TLS certificate", "a noisy neighbour on shared hosts",
    "a schema migration holding locks", "an upstream provider incident", "a runaway cron job",
    "connection pool exhaustion", "a retry storm after a brief network partition",
    "a cache stampede after eviction", "a kernel upgrade on the worker fleet",
    "a dependency with a memory leak", "DNS resolution failures", "a misrouted BGP announcement",
    "an unindexed query from a new feature", "quota exhaustion at the cloud provider",
)  # fmt: skip
EFFECTS = (
    "customers cannot complete orders", "some users see blank pages", "emails arrive late",
    "mobile clients retry and drain batteries", "partners receive duplicate webhooks",
    "dashboards show gaps", "sign-in fails for a fraction of users", "invoices are not generated",
    "search returns incomplete results", "uploads stall at 99 percent",
)  # fmt: skip
NOTE_OPENERS = {
    EntryKind.OBSERVATION: (
        "Seeing", "Graphs show", "Customers report", "Alerts confirm", "Logs point at",
        "Traces show", "Error budget burn shows",
    ),
    EntryKind.ACTION: (
        "Rolled back", "Restarted", "Scaled out", "Drained traffic from", "Failed over",
        "Paused deploys to", "Raised limits on", "Flushed",
    ),
    EntryKind.DECISION: (
        "Decided to roll back", "Agreed to keep traffic off", "Chose to wait before failing over",
        "Decided to page the database team about",
    ),
    EntryKind.COMMUNICATION: (
        "Posted a status page update about", "Told support about", "Emailed partners about",
        "Briefed leadership on",
    ),
}  # fmt: skip
FIRST_NAMES = (
    "Ada", "Ben", "Chloe", "Dev", "Elena", "Femi", "Gita", "Hugo", "Ines", "Jonas", "Kira",
    "Liam", "Maya", "Noah", "Olga", "Pavel", "Quinn", "Rosa", "Sami", "Tara", "Umar", "Vera",
    "Wen", "Xavier", "Yara", "Zane",
)  # fmt: skip
LAST_NAMES = (
    "Abbott", "Berg", "Costa", "Dubois", "Eriksen", "Fischer", "Garcia", "Horvat", "Ito",
    "Jansen", "Kowalski", "Lopez", "Moreau", "Nakamura", "Okafor", "Petrov", "Quint", "Rossi",
    "Singh", "Tanaka", "Ulrich", "Varga", "Weber", "Xu", "Young", "Zhou",
)  # fmt: skip
TIME_ZONES = ("UTC", "Europe/Berlin", "Europe/London", "America/New_York", "Asia/Tokyo")
ADMIN_PASSWORD_BYTES = 18

SEVERITY_WEIGHTS = {Severity.P1: 3, Severity.P2: 12, Severity.P3: 40, Severity.P4: 45}
NOTE_WEIGHT = {Severity.P1: 4.0, Severity.P2: 2.5, Severity.P3: 1.0, Severity.P4: 0.6}
NOTE_KINDS = (EntryKind.OBSERVATION, EntryKind.ACTION, EntryKind.DECISION, EntryKind.COMMUNICATION)
NOTE_KIND_WEIGHTS = (45, 30, 10, 15)
DETECTION_WEIGHTS = {
    DetectionSource.ALERT: 55,
    DetectionSource.CUSTOMER: 15,
    DetectionSource.EMPLOYEE: 15,
    DetectionSource.PARTNER: 5,
    DetectionSource.AUTOMATED_TEST: 7,
    DetectionSource.OTHER: 3,
}


@dataclass(frozen=True)
class Catalog:
    """Ids and names of the seeded people and services."""

    people: list[tuple[int, str]]  # (id, display name)
    services: list[tuple[int, str]]  # (id, slug)


@dataclass(frozen=True)
class SeedResult:
    """What a seeding run produced, with its timings."""

    token: str
    incidents: int
    entries: int
    seconds: float
    history_seconds: float


@dataclass
class _Entry:
    kind: EntryKind
    body: str
    at: datetime
    author: str
    data: dict[str, Any]
    occurred_at: datetime | None = None
    note_index: int | None = None  # position among manual notes, for corrections
    corrects: int | None = None  # note_index of the corrected note


@dataclass
class _Plan:
    """One incident's fate, decided before its rows are written."""

    id: int
    declared_at: datetime
    severity: Severity
    status: Status = Status.INVESTIGATING
    notes: int = 0
    required: int = 0
    seed: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


# ----- catalog, users, tokens through the bus -------------------------------------------------
def _catalog_commands(rng: random.Random, people: int, services: int) -> commands.ImportCatalog:
    specs = []
    for i in range(people):
        first, last = FIRST_NAMES[i % len(FIRST_NAMES)], LAST_NAMES[(i * 7) % len(LAST_NAMES)]
        handle = f"{first.lower()}-{last.lower()}{i}"
        specs.append(
            commands.PersonSpec(
                handle,
                f"{first} {last}",
                f"{handle}@example.com",
                rng.choice(TIME_ZONES),
                "",
                (("email", f"{handle}@example.com"),),
            )
        )
    team_count = max(1, services // 5)
    teams = tuple(
        commands.TeamSpec(
            f"team-{t}",
            f"Team {t}",
            "Seeded for benchmarks",
            tuple((specs[(t * 5 + k) % people].handle, "member") for k in range(5)),
        )
        for t in range(team_count)
    )
    svc = tuple(
        commands.ServiceSpec(
            f"svc-{s}-{COMPONENTS[s % len(COMPONENTS)].lower().replace(' ', '-')}"[:63],
            COMPONENTS[s % len(COMPONENTS)].title(),
            f"Runs the {COMPONENTS[s % len(COMPONENTS)]}",
            f"team-{s % team_count}",
            1 + s % 3,
        )
        for s in range(services)
    )
    return commands.ImportCatalog(tuple(specs), teams, svc)


def seed_catalog(tocsin: Tocsin, rng: random.Random) -> Catalog:
    """Import a small catalog (people, teams, services) through the bus."""
    tocsin.handle(_catalog_commands(rng, people=200, services=40))
    with tocsin.database.reader.connect() as conn:
        people = [(r.id, r.name) for r in conn.execute(select(orm.people.c.id, orm.people.c.name))]
        services = [
            (r.id, r.slug) for r in conn.execute(select(orm.services.c.id, orm.services.c.slug))
        ]
    return Catalog(people, services)


def ensure_admin(tocsin: Tocsin) -> None:
    """Create `admin` (through the bus) unless it exists; its password is not needed."""
    with tocsin.database.reader.connect() as conn:
        found = conn.scalar(select(orm.users.c.id).where(orm.users.c.username == "admin"))
    if found is None:
        password = secrets.token_urlsafe(ADMIN_PASSWORD_BYTES)
        tocsin.handle(commands.CreateUser("admin", password, OrgRole.ADMIN, "Administrator"))


def create_read_token(tocsin: Tocsin, name: str = "bench") -> str:
    """A fresh read-scope API token for `admin`, created through the bus."""
    ensure_admin(tocsin)
    created = tocsin.handle(commands.CreateApiToken("admin", name, Scope.READ))
    return str(created.secret)


def counts(tocsin: Tocsin) -> tuple[int, int]:
    """(incidents, timeline entries) currently in the database."""
    with tocsin.database.reader.connect() as conn:
        incidents = conn.scalar(select(func.count()).select_from(orm.incidents)) or 0
        entries = conn.scalar(select(func.count()).select_from(orm.timeline_entries)) or 0
    return int(incidents), int(entries)


# ----- planning ---------------------------------------------------------------------------------
def _pick_status(rng: random.Random, age: timedelta) -> Status:
    if age < timedelta(days=7):
        weights = (20, 15, 15, 35, 15)
    elif age < timedelta(days=30):
        weights = (1, 1, 2, 46, 50)
    else:
        weights = (0, 0, 0, 12, 88)
    return rng.choices(list(Status), weights)[0]


def _plans(
    rng: random.Random, incidents: int, entries: int, catalog: Catalog, now: datetime
) -> list[_Plan]:
    start = now - HISTORY
    span = (HISTORY - timedelta(hours=1)).total_seconds()
    offsets = sorted(rng.random() * span for _ in range(incidents))
    severities = rng.choices(list(SEVERITY_WEIGHTS), list(SEVERITY_WEIGHTS.values()), k=incidents)
    plans = [
        _Plan(
            id=i + 1,
            # microsecond steps keep declaration times unique and in id order
            declared_at=start + timedelta(seconds=offsets[i], microseconds=i),
            severity=severities[i],
            seed=rng.getrandbits(32),
        )
        for i in range(incidents)
    ]
    for plan in plans:
        plan.status = _pick_status(rng, now - plan.declared_at)
    # Build each incident's history once without notes to count its required entries (the same
    # per-incident random seed makes the same choices again later), then share out the notes.
    for plan in plans:
        plan.required = len(_history(plan, catalog.services, catalog.people, now, notes=0)[1])
    spare = entries - sum(p.required for p in plans)
    if spare < 0:
        raise SystemExit(
            f"{entries} timeline entries are too few for {incidents} incidents; "
            f"they need at least {entries - spare}"
        )
    weights = [NOTE_WEIGHT[p.severity] * rng.uniform(0.3, 1.7) for p in plans]
    total = sum(weights)
    for plan, w in zip(plans, weights, strict=True):
        plan.notes = int(spare * w / total)
    for k in range(spare - sum(p.notes for p in plans)):
        plans[k % incidents].notes += 1
    return plans


# ----- one incident's rows ----------------------------------------------------------------------
def _fmt(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _minutes(rng: random.Random, low: float, high: float) -> timedelta:
    return timedelta(minutes=rng.uniform(low, high))


def _history(
    plan: _Plan,
    services: Sequence[tuple[int, str]],
    people: Sequence[tuple[int, str]],
    now: datetime,
    *,
    notes: int,
) -> tuple[dict[str, Any], list[_Entry], list[dict[str, Any]], list[int]]:
    """Return (incident row, entries in order, role rows, service ids) for one incident."""
    rng = random.Random(plan.seed)
    declared = plan.declared_at
    limit = now - timedelta(minutes=1)
    creator = rng.choice(people)[1]
    component = rng.choice(COMPONENTS)
    title = f"{rng.choice(SYMPTOMS)} in {component} ({rng.choice(REGIONS)})"
    summary = (
        f"{rng.choice(EFFECTS).capitalize()}. Likely cause: {rng.choice(CAUSES)}; "
        f"{component} and {rng.choice(COMPONENTS)} are affected."
    )
    detection = rng.choices(list(DETECTION_WEIGHTS), list(DETECTION_WEIGHTS.values()))[0]
    first_severity = plan.severity
    if rng.random() < 0.06:
        first_severity = rng.choice([s for s in Severity if s is not plan.severity])
    chosen = rng.sample(list(services), k=min(len(services), rng.choice((1, 1, 1, 2, 3))))
    slugs = [slug for _, slug in chosen]

    detected = declared - _minutes(rng, 0, 20)
    stamps: dict[Milestone, Stamp] = {
        Milestone.DECLARED: Stamp(declared, Source.SYSTEM, creator, declared),
        Milestone.DETECTED: Stamp(
            detected,
            Source.ALERT if detection is DetectionSource.ALERT else Source.PERSON,
            creator,
            declared,
        ),
    }
    if rng.random() < 0.4:
        impact = detected - _minutes(rng, 0, 60)
        stamps[Milestone.IMPACT_STARTED] = Stamp(impact, Source.PERSON, creator, declared)

    entries: list[_Entry] = [
        _Entry(
            EntryKind.DECLARED,
            f"Declared {first_severity} incident: {title} ({', '.join(slugs)})",
            declared,
            creator,
            {"severity": first_severity.value, "services": slugs},
        )
    ]
    role_rows: list[dict[str, Any]] = []

    # Status path and the times it implies; statuses whose time would be in the future are
    # dropped, so recent incidents simply end up less far along.
    path: list[Status] = []
    target = plan.status
    order = list(Status)
    if target is not Status.INVESTIGATING:
        for s in order[1 : order.index(target) + 1]:
            if s is Status.IDENTIFIED and target is not Status.IDENTIFIED and rng.random() < 0.3:
                continue
            if s is Status.MONITORING and target not in (Status.MONITORING,) and rng.random() < 0.2:
                continue
            path.append(s)
    at = declared
    transitions: list[tuple[Status, datetime]] = []
    for s in path:
        step = {
            Status.IDENTIFIED: _minutes(rng, 10, 90),
            Status.MONITORING: _minutes(rng, 10, 120),
            Status.RESOLVED: _minutes(rng, 10, 240),
            Status.CLOSED: timedelta(days=rng.uniform(1, 14)),
        }[s]
        if at + step > limit:
            break
        at += step
        transitions.append((s, at))
    status = transitions[-1][0] if transitions else Status.INVESTIGATING
    end = next((t for s, t in transitions if s is Status.RESOLVED), None)
    work_end = end or min(limit, declared + timedelta(hours=rng.uniform(1, 8)))

    def person() -> tuple[int, str]:
        return rng.choice(people)

    # roles: a commander for everyone, a tech lead for half, a scribe and comms lead sometimes
    role_plan = [(Role.INCIDENT_COMMANDER, 1.0), (Role.TECHNICAL_LEAD, 0.5)]
    role_plan += [
        (Role.SCRIBE, 0.15),
        (Role.COMMUNICATIONS_LEAD, 0.3 if plan.severity.rank <= 2 else 0.05),
    ]
    role_at = declared
    for role, p in role_plan:
        if rng.random() >= p:
            continue
        role_at = min(role_at + _minutes(rng, 0.5, 10), work_end)
        if role_at <= declared:
            role_at = declared + timedelta(microseconds=1)
        pid, name = person()
        role_rows.append(
            {
                "incident_id": plan.id,
                "role": role.value,
                "person_id": pid,
                "person_name": name,
                "assigned_at": role_at,
                "assigned_by": creator,
            }
        )
        entries.append(
            _Entry(
                EntryKind.ROLE_ASSIGNED,
                f"{name} is now {role.label}",
                role_at,
                creator,
                {
                    "role": role.value,
                    "person_id": pid,
                    "person": name,
                    "previous_person_id": None,
                    "previous_person": None,
                },
            )
        )
    if rng.random() < 0.7:
        ack = declared + _minutes(rng, 1, 15)
        recorded = ack + _minutes(rng, 0, 30)
        if recorded <= work_end:
            who = person()[1]
            stamps[Milestone.ACKNOWLEDGED] = Stamp(ack, Source.PERSON, who, recorded)
            entries.append(
                _Entry(
                    EntryKind.TIMESTAMP_SET,
                    f"acknowledged_at set to {_fmt(ack)} (was unset)",
                    recorded,
                    who,
                    {
                        "name": "acknowledged_at",
                        "value": _fmt(ack),
                        "previous": None,
                        "source": Source.PERSON.value,
                    },
                )
            )
    if first_severity is not plan.severity:
        at_change = declared + (work_end - declared) * rng.uniform(0.05, 0.5)
        direction = "raised" if plan.severity.is_more_severe_than(first_severity) else "lowered"
        extent = "wider" if direction == "raised" else "narrower"
        reason = f"impact on {rng.choice(COMPONENTS)} is {extent} than thought"
        entries.append(
            _Entry(
                EntryKind.SEVERITY_CHANGED,
                f"Severity {direction} from {first_severity} to {plan.severity}: {reason}",
                at_change,
                creator,
                {"from": first_severity.value, "to": plan.severity.value, "reason": reason},
            )
        )
    previous = Status.INVESTIGATING
    for s, when in transitions:
        who = person()[1]
        system = Stamp(when, Source.SYSTEM, who, when)
        if s in (Status.MONITORING, Status.RESOLVED):
            stamps.setdefault(Milestone.MITIGATED, system)
        if s is Status.RESOLVED:
            stamps[Milestone.RESOLVED] = system
        if s is Status.CLOSED:
            stamps[Milestone.CLOSED] = system
        entries.append(
            _Entry(
                EntryKind.STATUS_CHANGED,
                f"Status changed: {previous.label} → {s.label}",
                when,
                who,
                {"from": previous.value, "to": s.value, "note": ""},
            )
        )
        previous = s
    for n in range(notes):
        kind = rng.choices(NOTE_KINDS, NOTE_KIND_WEIGHTS)[0]
        when = declared + (work_end - declared) * rng.random()
        if when <= declared:
            when = declared + timedelta(microseconds=1)
        body = (
            f"{rng.choice(NOTE_OPENERS[kind])} {rng.choice(COMPONENTS)}: "
            f"{rng.choice(SYMPTOMS).lower()} since {rng.choice(CAUSES)}."
        )
        occurred = when - _minutes(rng, 0, 5) if rng.random() < 0.3 else None
        entries.append(_Entry(kind, body, when, person()[1], {}, occurred, note_index=n))
    entries.sort(key=lambda e: (e.kind is not EntryKind.DECLARED, e.at))
    # a few corrections: an earlier note's text is superseded by a later note
    seen_notes: list[int] = []
    for e in entries:
        if e.note_index is None:
            continue
        if seen_notes and rng.random() < 0.02:
            e.corrects = rng.choice(seen_notes)
            e.body = f"Correction: {e.body}"
        seen_notes.append(e.note_index)

    check_chronology(stamps, now)
    row: dict[str, Any] = {
        "id": plan.id,
        "title": title,
        "summary": summary,
        "severity": plan.severity.value,
        "status": status.value,
        "user_impact": rng.choice(EFFECTS).capitalize() + ".",
        "business_impact": "Revenue at risk." if rng.random() < 0.3 else "",
        "customer_facing": rng.random() < 0.3,
        "detection_source": detection.value,
        "created_by": creator,
        "timestamp_provenance": {
            m.value: {
                "source": s.source.value,
                "set_by": s.set_by,
                "recorded_at": s.recorded_at.isoformat(),
            }
            for m, s in stamps.items()
        },
    }
    for milestone in Milestone:
        stamp = stamps.get(milestone)
        row[milestone.field] = stamp.value if stamp else None
    return row, entries, role_rows, [service_id for service_id, _ in chosen]


def _incident_rows(
    plan: _Plan, catalog: Catalog, now: datetime
) -> tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """All rows for one incident: incident, services, roles, timeline entries."""
    row, entries, roles, services = _history(
        plan, catalog.services, catalog.people, now, notes=plan.notes
    )
    rng = random.Random(plan.seed ^ 0x5EED)
    seq_of_note: dict[int, int] = {}
    entry_rows = []
    key_moments = 0
    last_change = row["declared_at"]
    for seq, e in enumerate(entries, start=1):
        if e.note_index is not None:
            seq_of_note[e.note_index] = seq
        key = e.kind is not EntryKind.DECLARED and rng.random() < 0.05
        key_at = min(e.at + _minutes(rng, 1, 60), now - timedelta(seconds=1)) if key else None
        if key_at is not None:
            key_moments += 1
            last_change = max(last_change, key_at)
        last_change = max(last_change, e.at)
        entry_rows.append(
            {
                "incident_id": plan.id,
                "seq": seq,
                "kind": e.kind.value,
                "body": e.body,
                "author": e.author,
                "author_user_id": None,
                "occurred_at": e.occurred_at or e.at,
                "recorded_at": e.at,
                "corrects_seq": seq_of_note[e.corrects] if e.corrects is not None else None,
                "data": e.data,
                "key_moment": key,
                "key_moment_by": rng.choice(catalog.people)[1] if key else None,
                "key_moment_at": key_at,
            }
        )
    row["timeline_seq"] = len(entries)
    row["version"] = len(entries) + key_moments
    row["updated_at"] = last_change
    service_rows = [
        {"incident_id": plan.id, "service_id": s, "position": i} for i, s in enumerate(services)
    ]
    return row, service_rows, roles, entry_rows


Batch = tuple[
    list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]
]


def _batches(plans: list[_Plan], catalog: Catalog, now: datetime) -> Iterator[Batch]:
    for start in range(0, len(plans), BATCH_INCIDENTS):
        batch: Batch = ([], [], [], [])
        for plan in plans[start : start + BATCH_INCIDENTS]:
            incident, services, roles, entries = _incident_rows(plan, catalog, now)
            batch[0].append(incident)
            batch[1].extend(services)
            batch[2].extend(roles)
            batch[3].extend(entries)
        yield batch


# ----- writers ------------------------------------------------------------------------------
TABLES = (orm.incidents, orm.incident_services, orm.incident_roles, orm.timeline_entries)


def _write_sqlite(tocsin: Tocsin, batches: Iterator[Batch]) -> None:
    with tocsin.database.writer.begin() as conn:
        for batch in batches:
            for table, rows in zip(TABLES, batch, strict=True):
                if rows:
                    conn.execute(insert(table), rows)
    raw = tocsin.database.writer.raw_connection()  # outside any transaction, as PRAGMAs need
    try:
        raw.driver_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # type: ignore[union-attr]
    finally:
        raw.close()


def _copy_value(value: Any) -> Any:
    if isinstance(value, dict | list):
        return json.dumps(value)
    return value


def _write_postgres(tocsin: Tocsin, batches: Iterator[Batch]) -> None:
    dsn = make_url(tocsin.database.url).set(drivername="postgresql").render_as_string(False)
    with psycopg.connect(dsn) as pg, pg.cursor() as cur:
        for batch in batches:
            for table, rows in zip(TABLES, batch, strict=True):
                if not rows:
                    continue
                names = list(rows[0])
                with cur.copy(f"COPY {table.name} ({', '.join(names)}) FROM STDIN") as copy:
                    for r in rows:
                        copy.write_row([_copy_value(r[n]) for n in names])
        cur.execute(
            "SELECT setval(pg_get_serial_sequence('incidents', 'id'), "
            "(SELECT coalesce(max(id), 1) FROM incidents))"
        )
        pg.commit()
    with psycopg.connect(dsn, autocommit=True) as pg:
        pg.execute("VACUUM ANALYZE")  # what autovacuum would reach soon after a bulk load


# ----- entry points -------------------------------------------------------------------------
def open_tocsin(url: str) -> Tocsin:
    """Bootstrap Tocsin on `url` and bring its schema to head with the migrations."""
    tocsin = bootstrap(load_settings(database_url=url))
    tocsin.migrate()
    return tocsin


def seed(
    url: str,
    incidents: int = DEFAULT_INCIDENTS,
    entries: int = DEFAULT_ENTRIES,
    *,
    rng_seed: int = 42,
    log: TextIO = sys.stderr,
) -> SeedResult:
    """Seed an empty database at `url`; returns a read token and how long it took."""
    started = time.perf_counter()
    tocsin = open_tocsin(url)
    try:
        if counts(tocsin) != (0, 0):
            raise SystemExit(f"{url} already has incidents; seed an empty database")
        rng = random.Random(rng_seed)
        catalog = seed_catalog(tocsin, rng)
        token = create_read_token(tocsin)
        now = datetime.now(UTC)
        plans = _plans(rng, incidents, entries, catalog, now)
        history_started = time.perf_counter()
        batches = _batches(plans, catalog, now)
        if tocsin.database.dialect == "postgresql":
            _write_postgres(tocsin, batches)
        else:
            _write_sqlite(tocsin, batches)
        history = time.perf_counter() - history_started
        found = counts(tocsin)
        if found != (incidents, entries):
            raise SystemExit(f"seeded {found}, expected {(incidents, entries)}")
        _verify(tocsin, rng, incidents)
    finally:
        tocsin.close()
    seconds = time.perf_counter() - started
    print(
        f"seeded {incidents:,} incidents and {entries:,} timeline entries "
        f"({tocsin.database.dialect}) in {seconds:.1f} s (history rows {history:.1f} s)",
        file=log,
    )
    return SeedResult(token, incidents, entries, seconds, history)


def _verify(tocsin: Tocsin, rng: random.Random, incidents: int) -> None:
    """Read a sample back through Tocsin's views and check the bookkeeping columns."""
    for incident_id in rng.sample(range(1, incidents + 1), k=min(50, incidents)):
        detail = tocsin.incidents.detail(incident_id)
        timeline = tocsin.incidents.timeline(incident_id)
        flagged = sum(1 for e in timeline if e.key_moment)
        if [e.seq for e in timeline] != list(range(1, len(timeline) + 1)):
            raise SystemExit(f"INC-{incident_id}: sequence numbers are not 1..n")
        if detail.version != len(timeline) + flagged:
            raise SystemExit(f"INC-{incident_id}: version does not match its entries")
        times = [e.recorded_at for e in timeline]
        if times != sorted(times):
            raise SystemExit(f"INC-{incident_id}: entries are not in chronological order")
    with tocsin.database.reader.connect() as conn:
        bad = conn.scalar(
            text(
                "SELECT count(*) FROM incidents i WHERE i.timeline_seq != "
                "(SELECT max(seq) FROM timeline_entries e WHERE e.incident_id = i.id)"
            )
        )
    if bad:
        raise SystemExit(f"{bad} incidents have a timeline_seq that differs from their entries")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("url", help="sqlite:///path or postgresql://user@host/db (empty)")
    parser.add_argument("--incidents", type=int, default=DEFAULT_INCIDENTS)
    parser.add_argument("--entries", type=int, default=DEFAULT_ENTRIES)
    parser.add_argument("--seed", type=int, default=42, help="random seed")
    args = parser.parse_args(argv)
    result = seed(args.url, args.incidents, args.entries, rng_seed=args.seed)
    print(result.token)


if __name__ == "__main__":
    main()
