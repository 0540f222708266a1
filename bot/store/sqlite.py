"""The SQLite engine: the connection to the file, its pragmas, and writes serialised into
transactions. The embedded default: one process, one file, nothing to install.

This is the one module that speaks to aiosqlite; the query areas hand it SQL and parameters and
get rows back (see `db`).

A file that is there but is not newsbot's database (empty, another program's, not SQLite at
all) is refused with `UnusableDatabase`: opened as usual it would look like a first start, and
every subscription would be silently lost. Only a missing file is a first start. An operator who
really wants a new database says so (`newsbot run --new-database`): `set_aside` then moves the
unusable file out of the way, keeping it, and the bot starts afresh.

Every write runs inside `SqliteDatabase.transaction()`: one at a time (an asyncio lock), `BEGIN
IMMEDIATE` so it never has to upgrade its lock half-way, and either committed whole or rolled
back whole, including when the `COMMIT` itself fails. Code that keeps anything in memory about a
write changes it after the `async with` block has ended, that is only once the commit succeeded.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time
from collections.abc import AsyncIterator, Iterable, Sequence
from pathlib import Path

import aiosqlite

from bot.store.db import SQLITE, Database, Row, Transaction, UnusableDatabase

#: The first bytes of every SQLite 3 database file.
SQLITE_HEADER = b"SQLite format 3\x00"
#: The table every newsbot database has from its first start on.
OURS = "schema_migrations"
#: Tries of the switch to WAL, a tenth of a second apart, while another process makes it.
WAL_TRIES = 50


def unusable(path: Path) -> str | None:
    """Why the file at `path` must not be used as newsbot's database; None when it may.

    A missing file may (a first start), and so may an SQLite file with no tables at all (a
    first start stopped before its first migration).
    """
    try:
        with path.open("rb") as file:
            header = file.read(len(SQLITE_HEADER))
    except FileNotFoundError:
        return None
    except OSError as exc:
        return f"cannot read {path}: {exc.strerror or exc}"
    if not header:
        return f"{path} is empty (0 bytes), not newsbot's database"
    if header != SQLITE_HEADER:
        return f"{path} is not an SQLite database"
    try:
        # Read-only and without creating anything: this file is not known to be ours yet.
        with contextlib.closing(
            sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        ) as db:
            tables = {
                row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            }
    except sqlite3.Error as exc:
        return f"{path} cannot be read as a database: {exc}"
    if tables and OURS not in tables:
        return f"{path} is another program's SQLite database (it has no {OURS} table)"
    return None


def set_aside(path: Path) -> Path | None:
    """Move an unusable database file (and its journal files) aside, so a new one is created.

    Returns where it went; None when the file is missing or usable, which is left as it is: a
    good database is never replaced.
    """
    if unusable(path) is None or not path.exists():
        return None
    kept = path.with_name(f"{path.name}.unusable-{time.strftime('%Y%m%d-%H%M%S')}")
    for suffix in ("", "-wal", "-shm"):
        part = path.with_name(path.name + suffix)
        if part.exists():
            part.rename(kept.with_name(kept.name + suffix))
    return kept


class SqliteTransaction(Transaction):
    """The statements of one open transaction (see `SqliteDatabase.transaction`)."""

    def __init__(self, connection: aiosqlite.Connection) -> None:
        self._connection = connection

    async def execute(self, sql: str, params: Sequence[object] = ()) -> int:
        """Run one statement; returns how many rows it changed (0 for anything but a change)."""
        async with self._connection.execute(sql, params) as cursor:
            return max(cursor.rowcount, 0)

    async def executemany(self, sql: str, params: Iterable[Sequence[object]]) -> None:
        """Run one statement once for each set of parameters."""
        await self._connection.executemany(sql, params)

    async def row(self, sql: str, params: Sequence[object] = ()) -> Row | None:
        """The first row of a query, seeing this transaction's own changes."""
        async with self._connection.execute(sql, params) as cursor:
            return await cursor.fetchone()

    async def rows(self, sql: str, params: Sequence[object] = ()) -> list[Row]:
        """Every row of a query, seeing this transaction's own changes."""
        async with self._connection.execute(sql, params) as cursor:
            return list(await cursor.fetchall())


class SqliteDatabase(Database):
    """One aiosqlite connection, with writes serialised into explicit transactions."""

    engine = SQLITE

    def __init__(self, connection: aiosqlite.Connection) -> None:
        self._connection = connection
        self._write = asyncio.Lock()

    @classmethod
    async def open(cls, path: Path) -> SqliteDatabase:
        """Connect to the file at `path` (creating folder and file) and set its pragmas.

        Raises `UnusableDatabase` for a file that is there but is not newsbot's database.
        """
        if (reason := await asyncio.to_thread(unusable, path)) is not None:
            raise UnusableDatabase(
                f"{reason}; restore it from a backup, or run with --new-database to set it "
                "aside and start a new one"
            )
        path.parent.mkdir(parents=True, exist_ok=True)
        connection = await aiosqlite.connect(path, isolation_level=None)
        database = cls(connection)
        try:
            await database.execute("PRAGMA busy_timeout = 5000")
            await database._use_wal()
            # NORMAL in WAL mode survives a crash of the process; only power loss can roll back
            # the newest transactions, and those are re-sent rather than lost.
            await database.execute("PRAGMA synchronous = NORMAL")
            await database.execute("PRAGMA foreign_keys = ON")
        except BaseException:
            await connection.close()
            raise
        return database

    async def _use_wal(self) -> None:
        """Switch the file to write-ahead logging, waiting for another process doing the same.

        Two instances starting together on a new file both ask for WAL; SQLite answers the
        second "database is locked" at once rather than through the busy timeout, since a
        change of journal mode takes the file for itself. The switch is tried again briefly.
        """
        for attempt in range(WAL_TRIES):
            try:
                await self.execute("PRAGMA journal_mode = WAL")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or attempt == WAL_TRIES - 1:
                    raise
                await asyncio.sleep(0.1)

    async def close(self) -> None:
        """Close the connection (its worker thread would otherwise keep the process alive)."""
        async with self._write:
            await self._connection.close()

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        """One write transaction: committed if the block completes, else rolled back."""
        async with self._write:
            try:
                await self._connection.execute("BEGIN IMMEDIATE")
                yield SqliteTransaction(self._connection)
                await self._connection.execute("COMMIT")
            except BaseException:
                # A transaction left open makes every later BEGIN fail. A cancelled caller's
                # BEGIN or COMMIT may still be running in the connection's thread, so whether
                # one is open cannot be read here: the ROLLBACK is queued behind it, and finds
                # nothing to end when the statement or COMMIT that failed already ended it.
                try:
                    await self._connection.execute("ROLLBACK")
                except sqlite3.OperationalError:
                    if self._connection.in_transaction:  # read after the queue ran: true now
                        raise
                raise

    async def execute(self, sql: str, params: Sequence[object] = ()) -> None:
        """Run one statement on its own, between transactions (a pragma, the schema's table)."""
        async with self._write:
            await self._connection.execute(sql, params)

    async def rows(self, sql: str, params: Sequence[object] = ()) -> list[Row]:
        """Every row of a query."""
        async with self._connection.execute(sql, params) as cursor:
            return list(await cursor.fetchall())

    async def row(self, sql: str, params: Sequence[object] = ()) -> Row | None:
        """The first row of a query, if there is one."""
        async with self._connection.execute(sql, params) as cursor:
            return await cursor.fetchone()

    async def tables(self) -> set[str]:
        """The names of the tables in the file."""
        rows = await self.rows("SELECT name FROM sqlite_master WHERE type = 'table'")
        return {str(row[0]) for row in rows}

    async def columns(self, table: str) -> list[str]:
        """The names of a table's columns, in their order."""
        return [str(row[1]) for row in await self.rows(f"PRAGMA table_info({table})")]

    async def continue_ids(self, table: str) -> None:
        """Nothing to do: a new rowid is always one past the largest in the table."""

    async def reclaim(self, table: str) -> None:
        """Nothing to do: SQLite reuses a deleted row's pages from the commit on."""
