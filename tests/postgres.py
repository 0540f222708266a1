"""A PostgreSQL 15 server of the test run's own, on 127.0.0.1, for the tests of that engine.

It is started as the benchmarks start theirs (`bench/postgres.py`): `scripts/ensure-postgres`
installs it when it is missing, and as root it runs as an ordinary user. Its data lives in a
temporary folder, on a free port, with a password (so the tests can prove it never shows),
without fsync (a test server loses nothing worth keeping), and it is stopped at the end of the
run. `NEWSBOT_TEST_POSTGRES=postgresql://...` uses a server already running instead.

Each test gets a schema of its own on that server (`?search_path=` in its URL): a fresh,
empty database as far as newsbot can tell, made in milliseconds.
"""

from __future__ import annotations

import contextlib
import itertools
import os
from collections.abc import Iterator

import asyncpg
import pytest

from bench import postgres as postgres_server
from bot.store import PostgresUrl

_schemas = itertools.count(1)


@pytest.fixture(name="engine", params=["sqlite", "postgresql"])
def each_engine(request: pytest.FixtureRequest) -> str:
    """Every test of a module (or folder) that imports this runs once on each engine: the
    `engine` fixture of tests/conftest.py, parametrised."""
    return str(request.param)


@contextlib.contextmanager
def server() -> Iterator[str]:
    """The URL of a running server (the database `postgres`, user `newsbot`), stopped after;
    `NEWSBOT_TEST_POSTGRES`'s, when set, left running."""
    with postgres_server.server(os.environ.get("NEWSBOT_TEST_POSTGRES")) as url:
        yield url


async def fresh_schema(url: str) -> PostgresUrl:
    """A new, empty schema on the server, as the URL a `Store` opens."""
    name = f"test_{os.getpid()}_{next(_schemas)}"
    connection = await asyncpg.connect(url)
    try:
        await connection.execute(f"CREATE SCHEMA {name}")
    finally:
        await connection.close()
    return PostgresUrl(f"{url}?search_path={name}")
