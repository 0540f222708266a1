"""What the query areas ask of a database engine: statements, rows, and write transactions.

The query areas (`chats`, `deliveries`, ...) hand a `Database` SQL and parameters and get rows
back; they never see a driver. Two engines implement it, one module each: `sqlite` (the embedded
default, one file) and `postgres` (a server several instances can share). The SQL is written
once, in SQLite's dialect with `?` placeholders and portable forms wherever one exists;
`dialect` translates what PostgreSQL reads differently, in one place.

Every engine keeps the same guarantees:

- every write runs inside `transaction()`: one writer at a time on the database, committed whole
  or rolled back whole, including when the `COMMIT` itself fails;
- code that keeps anything in memory about a write changes it after the `async with` block has
  ended, that is only once the commit succeeded;
- a database that cannot be reached is an `Unavailable` error, never a silent first start: the
  callers that retry (the outcome writer, the scanner) try again on a new connection.
"""

from __future__ import annotations

import abc
import contextlib
from collections.abc import Iterable, Sequence
from typing import Any

from bot.errors import Unavailable

Row = Sequence[Any]
"""One result row, its columns in the order the query named them."""


class UnusableDatabase(Unavailable):
    """The database is there but is not newsbot's: empty, foreign, or not a database."""


class DatabaseUnreachable(Unavailable):
    """The database server cannot be reached, or the connection to it was lost."""


class Transaction(abc.ABC):
    """The statements of one open transaction (see `Database.transaction`)."""

    @abc.abstractmethod
    async def execute(self, sql: str, params: Sequence[object] = ()) -> int:
        """Run one statement; returns how many rows it changed (0 for anything but a change)."""

    @abc.abstractmethod
    async def executemany(self, sql: str, params: Iterable[Sequence[object]]) -> None:
        """Run one statement once for each set of parameters."""

    @abc.abstractmethod
    async def row(self, sql: str, params: Sequence[object] = ()) -> Row | None:
        """The first row of a query, seeing this transaction's own changes."""

    @abc.abstractmethod
    async def rows(self, sql: str, params: Sequence[object] = ()) -> list[Row]:
        """Every row of a query, seeing this transaction's own changes."""


#: The engines' names (`Database.engine`).
SQLITE, POSTGRESQL = "SQLite", "PostgreSQL"


class Database(abc.ABC):
    """One database, its writes serialised into explicit transactions."""

    #: The engine's name, as logs and `newsbot migrate-db` say it.
    engine: str

    @abc.abstractmethod
    async def close(self) -> None:
        """Close the connections (they would otherwise keep the process alive)."""

    @abc.abstractmethod
    def transaction(self) -> contextlib.AbstractAsyncContextManager[Transaction]:
        """One write transaction: committed if the block completes, else rolled back."""

    @abc.abstractmethod
    async def execute(self, sql: str, params: Sequence[object] = ()) -> None:
        """Run one statement on its own, between transactions."""

    @abc.abstractmethod
    async def rows(self, sql: str, params: Sequence[object] = ()) -> list[Row]:
        """Every row of a query."""

    async def row(self, sql: str, params: Sequence[object] = ()) -> Row | None:
        """The first row of a query, if there is one."""
        found = await self.rows(sql, params)
        return found[0] if found else None

    async def scalar(self, sql: str, params: Sequence[object] = ()) -> object:
        """The first column of the first row of a query (None when there is no row)."""
        row = await self.row(sql, params)
        return None if row is None else row[0]

    @abc.abstractmethod
    async def tables(self) -> set[str]:
        """The names of the tables in the database (newsbot's own, and any other)."""

    @abc.abstractmethod
    async def columns(self, table: str) -> list[str]:
        """The names of a table's columns, in their order."""

    @abc.abstractmethod
    async def continue_ids(self, table: str) -> None:
        """After rows were copied in with their `id`s, make new rows' ids follow them."""

    @abc.abstractmethod
    async def reclaim(self, table: str) -> None:
        """Make the room of the table's deleted rows usable for new ones now, without holding
        up other queries, so a table that deletes as much as it adds stays the same size."""
