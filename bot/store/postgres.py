"""The PostgreSQL engine: a pool of connections to a server that several instances can share.

This is the one module that speaks to asyncpg. It runs the same SQL as the SQLite engine, as
`dialect.to_postgres` translates it, with the same guarantees (see `db`):

- Every write runs inside `transaction()`: one at a time in this process (an asyncio lock), and
  one at a time on the database, as SQLite's `BEGIN IMMEDIATE` makes it, by a transaction-scoped
  advisory lock that every instance's writers take first; committed whole or rolled back whole,
  including when the `COMMIT` fails. A transaction idle for longer than
  `IDLE_TRANSACTION_SECONDS` (a process paused in the middle of one) is ended by the server, so
  it cannot hold the other instances' writers back.
- A lost connection (the server restarted, the network cut) is dropped from the pool and the
  next statement opens a new one. A read is tried once more at once; a transaction is not
  (its block cannot be run twice): it raises `DatabaseUnreachable`, rolled back, and the caller
  tries again as it does when SQLite refuses a write. A commit whose answer was lost with the
  connection may have been applied; that is the same bound as a crash: the sender's outcomes
  are then written again, which changes nothing, and no delivery is sent twice because of it.
- At start-up the server is waited for (`CONNECT_WAIT_SECONDS`), so a bot started alongside its
  database does not give up while the server is still starting.
- The URL's password appears in no message, log line or traceback newsbot makes: errors are
  raised anew (`from None`) with the password removed.

A database that already holds tables, none of them newsbot's `schema_migrations`, is refused
with `UnusableDatabase`, as a foreign SQLite file is: taken for a first start, newsbot would
create its tables among another program's.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Iterable, Sequence
from typing import Any

import asyncpg

from bot.store.db import (
    POSTGRESQL,
    Database,
    DatabaseUnreachable,
    Row,
    Transaction,
    UnusableDatabase,
)
from bot.store.dialect import to_postgres
from bot.store.location import REDACTED, PostgresUrl

log = logging.getLogger("newsbot.store")

#: How long `open` waits for a server that does not answer yet.
CONNECT_WAIT_SECONDS = 30.0
#: A transaction left idle this long is rolled back by the server (milliseconds in the setting).
IDLE_TRANSACTION_SECONDS = 60
#: The key of the advisory lock every instance's writers take: one writer at a time, as SQLite.
WRITER_LOCK = 0x6E657773  # "news"
#: Connections per instance: the sender, the scanner and handlers read at the same time.
POOL_SIZE = 8
#: The table every newsbot database has from its first start on.
OURS = "schema_migrations"

#: Errors that mean the connection, not the statement, failed: worth a new connection.
CONNECTION_LOST: tuple[type[BaseException], ...] = (
    OSError,
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,  # a connection the server ended while it was being used
    asyncpg.CannotConnectNowError,
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
    asyncpg.TooManyConnectionsError,
)
#: Commands whose status line ends with the number of rows they changed.
_CHANGES = {"INSERT", "UPDATE", "DELETE", "MERGE", "COPY"}


def _changed(status: str) -> int:
    """The rows a command changed, from its status line (`UPDATE 3`, `INSERT 0 5`)."""
    words = status.split()
    if words and words[0] in _CHANGES and words[-1].isdigit():
        return int(words[-1])
    return 0


class PostgresTransaction(Transaction):
    """The statements of one open transaction (see `PostgresDatabase.transaction`)."""

    def __init__(self, connection: Any) -> None:
        self._connection = connection

    async def execute(self, sql: str, params: Sequence[object] = ()) -> int:
        """Run one statement; returns how many rows it changed (0 for anything but a change)."""
        return _changed(await self._connection.execute(to_postgres(sql), *params))

    async def executemany(self, sql: str, params: Iterable[Sequence[object]]) -> None:
        """Run one statement once for each set of parameters."""
        await self._connection.executemany(to_postgres(sql), [tuple(p) for p in params])

    async def row(self, sql: str, params: Sequence[object] = ()) -> Row | None:
        """The first row of a query, seeing this transaction's own changes."""
        found = await self._connection.fetchrow(to_postgres(sql), *params)
        return None if found is None else tuple(found)

    async def rows(self, sql: str, params: Sequence[object] = ()) -> list[Row]:
        """Every row of a query, seeing this transaction's own changes."""
        return [tuple(row) for row in await self._connection.fetch(to_postgres(sql), *params)]


class PostgresDatabase(Database):
    """A pool of asyncpg connections, with writes serialised into explicit transactions."""

    engine = POSTGRESQL

    def __init__(self, pool: Any, url: PostgresUrl) -> None:
        self._pool = pool
        self._url = url
        self._write = asyncio.Lock()

    @classmethod
    async def open(
        cls, url: PostgresUrl, *, wait: float = CONNECT_WAIT_SECONDS
    ) -> PostgresDatabase:
        """Connect to the server (waiting up to `wait` seconds for it to answer).

        Raises `DatabaseUnreachable` when it never does, and `UnusableDatabase` for a database
        that holds another program's tables.
        """
        deadline = time.monotonic() + wait
        while True:
            try:
                pool = await asyncpg.create_pool(
                    url.dsn,
                    min_size=1,
                    max_size=POOL_SIZE,
                    server_settings={
                        "application_name": "newsbot",
                        "idle_in_transaction_session_timeout": str(IDLE_TRANSACTION_SECONDS * 1000),
                        "jit": "off",  # newsbot's queries are short: compiling them costs more
                    },
                )
                break
            except (*CONNECTION_LOST, asyncpg.PostgresError, ValueError) as exc:
                reason = _redact(url, exc)
                if time.monotonic() >= deadline or not isinstance(exc, CONNECTION_LOST):
                    raise DatabaseUnreachable(f"cannot connect to {url}: {reason}") from None
                log.warning("database not answering yet, trying again url=%s error=%s", url, reason)
                await asyncio.sleep(min(1.0, max(0.0, deadline - time.monotonic())))
        database = cls(pool, url)
        try:
            tables = await database.tables()
        except BaseException:
            await pool.close()
            raise
        if tables and OURS not in tables:
            await pool.close()
            raise UnusableDatabase(
                f"{url} holds another program's tables (it has no {OURS} table); give newsbot "
                "a database (or a schema, with ?search_path=...) of its own"
            )
        return database

    async def close(self) -> None:
        """Close every connection of the pool."""
        async with self._write:
            await self._pool.close()

    @contextlib.asynccontextmanager
    async def _connection(self) -> AsyncIterator[Any]:
        """A connection from the pool; a lost one becomes `DatabaseUnreachable`."""
        try:
            async with self._pool.acquire() as connection:
                yield connection
        except CONNECTION_LOST as exc:
            raise DatabaseUnreachable(f"lost {self._url}: {_redact(self._url, exc)}") from None

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        """One write transaction: committed if the block completes, else rolled back."""
        # Read committed whatever the server's default: each statement then sees every write
        # committed before the advisory lock was granted, not a snapshot from before it.
        async with (
            self._write,
            self._connection() as connection,
            connection.transaction(isolation="read_committed"),
        ):
            await connection.execute("SELECT pg_advisory_xact_lock($1)", WRITER_LOCK)
            yield PostgresTransaction(connection)

    async def execute(self, sql: str, params: Sequence[object] = ()) -> None:
        """Run one statement on its own, between transactions."""
        async with self._write, self._connection() as connection:
            await connection.execute(to_postgres(sql), *params)

    async def rows(self, sql: str, params: Sequence[object] = ()) -> list[Row]:
        """Every row of a query; tried again on another connection while they are found lost.

        What lost one connection (a restarted server, a cut network) lost the pool's others
        too, and each is found out only when used: a read goes through at most all of them.
        """
        query = to_postgres(sql)
        for attempt in range(POOL_SIZE + 1):
            try:
                async with self._connection() as connection:
                    return [tuple(row) for row in await connection.fetch(query, *params)]
            except DatabaseUnreachable:
                if attempt == POOL_SIZE:
                    raise
        raise AssertionError("unreachable")  # the last attempt returns or raises

    async def tables(self) -> set[str]:
        """The names of the tables in the schema newsbot uses (the first of `search_path`)."""
        rows = await self.rows(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
        )
        return {str(row[0]) for row in rows}

    async def columns(self, table: str) -> list[str]:
        """The names of a table's columns, in their order."""
        rows = await self.rows(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND table_name = ? ORDER BY ordinal_position",
            (table,),
        )
        return [str(row[0]) for row in rows]

    async def continue_ids(self, table: str) -> None:
        """Move the table's identity past the ids copied in, so new rows never reuse one."""
        if "id" not in await self.columns(table):
            return
        sequence = await self.scalar("SELECT pg_get_serial_sequence(?, 'id')", (table,))
        if sequence is None:
            return
        await self.scalar(
            f"SELECT setval(CAST(? AS regclass), GREATEST(COALESCE(MAX(id), 0) + 1, 1), false) "  # noqa: S608
            f"FROM {table}",
            (str(sequence),),
        )

    async def reclaim(self, table: str) -> None:
        """`VACUUM` the table, outside any transaction and the write lock: it takes no lock
        that writes wait for. Deleted rows' room is otherwise reused only once autovacuum
        comes round, which in a busy table is late enough for the table to keep growing."""
        async with self._connection() as connection:
            await connection.execute(f"VACUUM {table}")


def _redact(url: PostgresUrl, exc: BaseException) -> str:
    """The error's text with the URL's password removed, or its kind when it has none."""
    text = (str(exc) or type(exc).__name__).replace(url.dsn, str(url))
    for secret in url.secrets:
        text = text.replace(secret, REDACTED)
    return text
