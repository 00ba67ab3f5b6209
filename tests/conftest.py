"""Shared fixtures: fake clock, databases on both dialects, a wired Tocsin, API and CLI clients.

Real components (PostgreSQL, Chromium) are used when present. Without them the tests that need
them are skipped with a loud notice at the end of the run; with TOCSIN_TEST_STRICT=1 (set by
CI) a missing component fails those tests instead.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
import uvicorn
from fastapi.testclient import TestClient
from sqlalchemy import text

from tests.fakes import FakeClock, FakePasswordHasher
from tocsin.adapters.orm import metadata
from tocsin.bootstrap import Tocsin, bootstrap
from tocsin.config import load_settings
from tocsin.domain import commands
from tocsin.domain.accounts import OrgRole, Scope
from tocsin.domain.errors import AlreadyExists
from tocsin.entrypoints.app import create_app
from tocsin.policy import Policy
from tocsin.services.ports import Clock

STRICT = os.environ.get("TOCSIN_TEST_STRICT") == "1"
PG_ADMIN_URL = os.environ.get(
    "TOCSIN_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres"
)
_missing: dict[str, str] = {}


def require_component(name: str, problem: str | None) -> None:
    """Skip (or, in strict mode, fail) when a real component the test needs is unavailable."""
    if problem is None:
        return
    _missing[name] = problem
    message = f"{name} unavailable: {problem}"
    if STRICT:
        pytest.fail(f"{message} (TOCSIN_TEST_STRICT=1 forbids skipping)", pytrace=False)
    pytest.skip(message)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not _missing:
        return
    write = terminalreporter.write_line
    write("")
    write("!" * 78, red=True, bold=True)
    for name, problem in _missing.items():
        write(f"!! SKIPPED every test that needs {name}: {problem}", red=True, bold=True)
    write(
        "!! These parts of Tocsin were NOT tested. CI runs with TOCSIN_TEST_STRICT=1.",
        red=True,
        bold=True,
    )
    write("!" * 78, red=True, bold=True)


def wait_for(what: str, check: Callable[[], bool], timeout: float = 30) -> None:
    """Poll until `check()` holds: for work other processes or threads finish on their own."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


# ----- time and passwords ---------------------------------------------------------------------
@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


# ----- databases --------------------------------------------------------------------------------
def _postgres_problem() -> str | None:
    try:
        with psycopg.connect(PG_ADMIN_URL, connect_timeout=3):
            return None
    except psycopg.Error as exc:
        return f"cannot connect to {PG_ADMIN_URL} ({str(exc).strip().splitlines()[0]})"


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """A fresh database for this test session, dropped at the end."""
    require_component("PostgreSQL", _postgres_problem())
    name = f"tocsin_test_{os.getpid()}_{secrets.token_hex(3)}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        yield url
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def _postgres_migrated(postgres_database: str) -> str:
    core = bootstrap(load_settings(database_url=postgres_database), hasher=FakePasswordHasher())
    core.migrate()
    core.close()
    return postgres_database


def _truncate(core: Tocsin) -> None:
    tables = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
    with core.database.writer.connect() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        conn.commit()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each test using this runs once on a new SQLite file and once on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'tocsin.db'}"
    url: str = request.getfixturevalue("_postgres_migrated")
    return url


@pytest.fixture
def postgres_url(_postgres_migrated: str) -> str:
    """The session's migrated PostgreSQL database (tests using it empty what they rely on)."""
    return _postgres_migrated


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'tocsin.db'}"


def make_tocsin(url: str, clock: Clock, policy: Policy | None = None) -> Tocsin:
    # Apps built on this do not page: paging has its own tests (tests/paging), and pages would
    # add entries to the timelines other tests compare.
    settings = load_settings(database_url=url, paging_embedded=False)
    core = bootstrap(settings, clock=clock, hasher=FakePasswordHasher(), policy=policy)
    if core.database.dialect == "postgresql":
        _truncate(core)
    else:
        core.migrate()
    return core


@pytest.fixture
def tocsin(db_url: str, clock: FakeClock) -> Iterator[Tocsin]:
    """A wired Tocsin on an empty, migrated database, with a fake clock."""
    core = make_tocsin(db_url, clock)
    yield core
    core.close()


@pytest.fixture
def sqlite_tocsin(sqlite_url: str, clock: FakeClock) -> Iterator[Tocsin]:
    core = make_tocsin(sqlite_url, clock)
    yield core
    core.close()


# ----- catalog and callers ----------------------------------------------------------------------
CATALOG = commands.ImportCatalog(
    people=(
        commands.PersonSpec("alice", "Alice Martin", "alice@example.com", "Europe/Berlin"),
        commands.PersonSpec("bob", "Bob Chen", "bob@example.com", "America/New_York"),
        commands.PersonSpec("carol", "Carol Diaz", "carol@example.com", title="CTO"),
    ),
    teams=(
        commands.TeamSpec(
            "payments", "Payments", members=(("alice", "on-call engineer"), ("bob", "team lead"))
        ),
    ),
    services=(
        commands.ServiceSpec(
            "checkout", "Checkout", team="payments", tier=1, depends_on=("payments",)
        ),
        commands.ServiceSpec("payments", "Payments API", team="payments", tier=1),
        commands.ServiceSpec("search", "Search", tier=3),
    ),
)


@pytest.fixture
def catalog(tocsin: Tocsin) -> Tocsin:
    tocsin.handle(CATALOG)
    return tocsin


def make_token(
    core: Tocsin, scope: Scope, username: str = "admin", role: OrgRole = OrgRole.ADMIN
) -> str:
    """A token for `username`, creating the user first if needed."""
    with contextlib.suppress(AlreadyExists):
        core.handle(commands.CreateUser(username, "correct horse battery", role, username.title()))
    created = core.handle(commands.CreateApiToken(username, f"{scope.value} token", scope))
    return str(created.secret)


@pytest.fixture
def api(catalog: Tocsin) -> Iterator[TestClient]:
    """An API client holding a write token, on a database with the test catalog."""
    token = make_token(catalog, Scope.WRITE)
    with TestClient(create_app(catalog), headers={"Authorization": f"Bearer {token}"}) as client:
        yield client


# ----- browser ------------------------------------------------------------------------------------
def chromium_path() -> str | None:
    return (
        os.environ.get("TOCSIN_CHROMIUM")
        or shutil.which("chromium")
        or shutil.which("chromium-browser")
    )


@contextlib.contextmanager
def serving(core: Tocsin, certfile: str | None = None, keyfile: str | None = None) -> Iterator[str]:
    """A real uvicorn server on a free port in a thread (TLS given a certificate); its base URL."""
    config = uvicorn.Config(
        create_app(core),
        host="127.0.0.1",
        port=0,
        log_level="warning",
        ssl_certfile=certfile,
        ssl_keyfile=keyfile,
        # Clients that keep connections open must not keep this server (and its inbox applier,
        # which would take later tests' deliveries on PostgreSQL) alive past its test.
        timeout_graceful_shutdown=1,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("test server did not start")
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"{'https' if certfile else 'http'}://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        assert not thread.is_alive(), "the test server did not stop"


@pytest.fixture
def live_server(catalog: Tocsin) -> Iterator[str]:
    """`catalog`'s Tocsin over real HTTP, for real clients."""
    with serving(catalog) as url:
        yield url
