"""A PostgreSQL 15 server of one's own on 127.0.0.1, for the benchmarks and the tests.

`scripts/ensure-postgres` installs the server when it is missing. The server refuses to run as
root: when the caller is root, it is run as an ordinary user (`NEWSBOT_TEST_POSTGRES_USER`,
`postgres` by default, which that script makes sure of). Its data lives in a temporary folder,
on a free port, with a password, and it is stopped and removed at the end.

Two settings: the tests' server trades durability for speed (no fsync: it loses nothing worth
keeping); the benchmarks' (`durable=True`) runs PostgreSQL's defaults, as a newsroom's server
would, so its figures include the WAL's flushes at every commit.

`fresh_database` makes a database of its own on such a server for one benchmark run, and drops
it afterwards; the benchmarks seed it by copying an SQLite database seeded in bulk, with the core
of `newsbot migrate-db` (`seed_from`).
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
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

BIN = Path(os.environ.get("NEWSBOT_TEST_POSTGRES_BIN", "/usr/lib/postgresql/15/bin"))
#: The ordinary user the server runs as when the caller is root.
USER = os.environ.get("NEWSBOT_TEST_POSTGRES_USER", "postgres")
_databases = itertools.count(1)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _as_server_user(command: list[str]) -> list[str]:
    return ["runuser", "-u", USER, "--", *command] if os.geteuid() == 0 else command


@contextlib.contextmanager
def server(existing: str | None = None, *, durable: bool = False) -> Iterator[str]:
    """The URL of a running server (the database `postgres`, user `newsbot`), stopped after.

    With `existing` (a URL), that server is used as it is and left running.
    """
    if existing:
        yield existing
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
            "-c max_connections=300"
        )
        if not durable:
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        run("pg_ctl", "-D", str(data), "-l", str(root / "log"), "-o", options, "-w", "start")
        try:
            yield f"postgresql://newsbot:{password}@127.0.0.1:{port}/postgres"
        finally:
            run("pg_ctl", "-D", str(data), "-m", "immediate", "-w", "stop")
    finally:
        shutil.rmtree(root, ignore_errors=True)


def with_database(url: str, name: str) -> str:
    """`url` with its database replaced by `name`."""
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


def fresh_database(url: str) -> contextlib.AbstractAsyncContextManager[str]:
    """A new, empty database on the server at `url`, as a URL; dropped afterwards."""
    return _database(url, f"bench_{os.getpid()}_{next(_databases)}")


async def seed_from(source: Path, url: str) -> dict[str, int]:
    """Copy the newsbot database at `source` (SQLite) into the empty database at `url`."""
    from bot.store import open_database
    from bot.store.transfer import copy_database

    origin = await open_database(source)
    try:
        target = await open_database(url)
        try:
            copied = await copy_database(origin, target)
            # A bulk-loaded table has no planner statistics until autovacuum comes round; a
            # server that has been running a while has them, so the benchmark starts with them.
            await target.execute("ANALYZE")
            return copied
        finally:
            await target.close()
    finally:
        await origin.close()


def copy_of(server: str, url: str) -> contextlib.AbstractAsyncContextManager[str]:
    """A copy of the database at `url` (nobody connected to it), made by the server from it as
    a template; dropped afterwards."""
    source = urlsplit(url).path.lstrip("/")
    return _database(server, f"{source}_copy", template=source)


@contextlib.asynccontextmanager
async def _database(server: str, name: str, template: str | None = None) -> AsyncIterator[str]:
    """The database `name` created on `server` (from `template`) for the block, as a URL."""
    created = f"CREATE DATABASE {name}" + (f" TEMPLATE {template}" if template else "")
    await _run(server, created)
    try:
        yield with_database(server, name)
    finally:
        await _run(server, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


async def _run(server: str, statement: str) -> None:
    """One administrative statement on its own connection (names made here, never input)."""
    import asyncpg

    connection = await asyncpg.connect(server)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()
