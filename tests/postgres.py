"""A PostgreSQL 15 server of the test run's own, on 127.0.0.1, for the tests of that engine.

`scripts/ensure-postgres` installs the server when it is missing. The server refuses to run as
root: when the tests do, it is run as the ordinary user that script makes sure of. Its data lives
in a temporary folder, on a free port, with a password (so the tests can prove it never shows),
without fsync (a test server loses nothing worth keeping), and it is stopped at the end of the
run. `NEWSBOT_TEST_POSTGRES=postgresql://...` uses a server already running instead.

Each test gets a schema of its own on that server (`?search_path=` in its URL): a fresh,
empty database as far as newsbot can tell, made in milliseconds.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest

from bot.store import PostgresUrl

BIN = Path(os.environ.get("NEWSBOT_TEST_POSTGRES_BIN", "/usr/lib/postgresql/15/bin"))
#: The ordinary user the server runs as when the tests run as root.
USER = os.environ.get("NEWSBOT_TEST_POSTGRES_USER", "postgres")
_schemas = itertools.count(1)


@pytest.fixture(name="engine", params=["sqlite", "postgresql"])
def each_engine(request: pytest.FixtureRequest) -> str:
    """Every test of a module (or folder) that imports this runs once on each engine: the
    `engine` fixture of tests/conftest.py, parametrised."""
    return str(request.param)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _as_server_user(command: list[str]) -> list[str]:
    return ["runuser", "-u", USER, "--", *command] if os.geteuid() == 0 else command


@contextlib.contextmanager
def server() -> Iterator[str]:
    """The URL of a running server (the database `postgres`, user `newsbot`), stopped after."""
    if url := os.environ.get("NEWSBOT_TEST_POSTGRES"):
        yield url
        return
    root = Path(tempfile.mkdtemp(prefix="newsbot-pg-"))
    password = secrets.token_urlsafe(16)
    (root / "password").write_text(password)
    if os.geteuid() == 0:
        account = pwd.getpwnam(USER)
        for path in (root, root / "password"):
            os.chown(path, account.pw_uid, account.pw_gid)
    data = root / "data"

    def run(program: str, *args: str) -> None:
        command = _as_server_user([str(BIN / program), *args])
        subprocess.run(command, check=True, capture_output=True)

    try:
        pwfile = f"--pwfile={root / 'password'}"
        quick = ("--no-sync", "--no-instructions", "--encoding=UTF8")
        run("initdb", "-D", str(data), "-U", "newsbot", "--auth=scram-sha-256", pwfile, *quick)
        port = _free_port()
        options = (
            f"-c listen_addresses=127.0.0.1 -p {port} -c unix_socket_directories={root} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300"
        )
        run("pg_ctl", "-D", str(data), "-l", str(root / "log"), "-o", options, "-w", "start")
        try:
            yield f"postgresql://newsbot:{password}@127.0.0.1:{port}/postgres"
        finally:
            run("pg_ctl", "-D", str(data), "-m", "immediate", "-w", "stop")
    finally:
        shutil.rmtree(root, ignore_errors=True)


async def fresh_schema(url: str) -> PostgresUrl:
    """A new, empty schema on the server, as the URL a `Store` opens."""
    name = f"test_{os.getpid()}_{next(_schemas)}"
    connection = await asyncpg.connect(url)
    try:
        await connection.execute(f"CREATE SCHEMA {name}")
    finally:
        await connection.close()
    return PostgresUrl(f"{url}?search_path={name}")
