"""The lease: which one of the instances sharing the database is the active one.

One row, `lease`: its `holder` (one run of one instance, or NULL when released), its `epoch` (a
fencing token, one more on every takeover), its `beat` (one more on every renewal), the `term`
the holder promised to renew within (seconds), and `expires_at` (the holder's own clock plus the
term, for people reading the table: no decision reads it).

Guarantees, and where they come from:
- No clock is compared with another machine's. A standby takes over only once it has itself
  seen the row unchanged (same epoch, same beat) for a whole term, timed on its own monotonic
  clock. The holder counts its term from the moment it *began* its last renewal that committed,
  and gives up after `HOLD_FRACTION` of it (`Fence.valid`). The holder's time is therefore up
  before any standby's, however far apart the machines' wall clocks are.
- A takeover is a compare-and-set on the epoch and beat the standby watched: of two standbys
  only one wins, and a holder that renewed meanwhile (a long transaction that committed late)
  keeps its lease.
- Fencing: every write of a `FencedDatabase` first bumps the beat where the epoch is still the
  last one this run was granted, in the same transaction, and raises `Deposed` (rolling the
  whole transaction back) where it is not: once another instance has taken over. (A run that
  stepped down only because its term ran out, with nobody taking over, may still record what it
  sent: nothing else has acted on the queue.) On SQLite the transaction holds the write lock
  from its first statement; on PostgreSQL that UPDATE locks the lease row until the commit, so a
  takeover waits for writes in progress, and no write of a deposed holder can commit after a
  takeover.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

from bot.errors import Unavailable
from bot.store.db import Database, Row, Transaction

#: The share of its term a holder trusts its lease for after beginning a renewal; the rest is
#: margin for a standby that saw the renewal late and for the time a step-down takes.
HOLD_FRACTION = 0.7


class Deposed(Unavailable):
    """This instance no longer holds the lease: another took over, or its term ran out."""


@dataclass(frozen=True, slots=True)
class LeaseState:
    """The lease row as read: who holds it, at which epoch and beat, for what term."""

    holder: str | None
    epoch: int
    beat: int
    term: float

    @property
    def mark(self) -> tuple[int, int]:
        """What changes whenever the holder proves it is alive (a renewal or a takeover)."""
        return self.epoch, self.beat


class LeaseQueries:
    """The store's queries about the lease."""

    _db: Database

    async def lease(self) -> LeaseState:
        """The lease as it stands."""
        row = await self._db.row("SELECT holder, epoch, beat, term FROM lease WHERE id = 1")
        assert row is not None, "the lease row is made by the migration"
        return _state(row)

    async def take_lease(
        self, holder: str, seen: LeaseState, *, term: float, now: float | None = None
    ) -> int | None:
        """Take the lease if it is still exactly as `seen`; returns the new epoch, else None."""
        now = time.time() if now is None else now
        async with self._db.transaction() as tx:
            taken = await tx.execute(
                "UPDATE lease SET holder = ?, epoch = epoch + 1, beat = 0, term = ?, "
                "expires_at = ? WHERE id = 1 AND epoch = ? AND beat = ?",
                (holder, term, now + term, seen.epoch, seen.beat),
            )
            if not taken:
                return None
            row = await tx.row("SELECT epoch FROM lease WHERE id = 1")
        assert row is not None
        return int(row[0])

    async def renew_lease(
        self, holder: str, epoch: int, *, term: float, now: float | None = None
    ) -> bool:
        """Renew the lease held at `epoch`; False when another instance took it over."""
        now = time.time() if now is None else now
        async with self._db.transaction() as tx:
            return bool(
                await tx.execute(
                    "UPDATE lease SET beat = beat + 1, term = ?, expires_at = ? "
                    "WHERE id = 1 AND holder = ? AND epoch = ?",
                    (term, now + term, holder, epoch),
                )
            )

    async def release_lease(self, holder: str, epoch: int, *, now: float | None = None) -> bool:
        """Give the lease up, so a standby takes over at once rather than after a term."""
        now = time.time() if now is None else now
        async with self._db.transaction() as tx:
            return bool(
                await tx.execute(
                    "UPDATE lease SET holder = NULL, expires_at = ? "
                    "WHERE id = 1 AND holder = ? AND epoch = ?",
                    (now, holder, epoch),
                )
            )


def _state(row: Row) -> LeaseState:
    return LeaseState(
        None if row[0] is None else str(row[0]), int(row[1]), int(row[2]), float(row[3])
    )


class Fence:
    """The epoch this run holds, if any, and until when (monotonic) it may trust it."""

    def __init__(self, holder: str) -> None:
        self.holder = holder
        """This run of this instance, as the lease names it."""
        self.epoch: int | None = None
        self._granted: int | None = None  # the last epoch held: the fencing token
        self._term = 0.0
        self._until = -math.inf

    def hold(self, epoch: int, *, term: float, began: float) -> None:
        """The lease was taken at `epoch` by a transaction begun at monotonic time `began`."""
        self.epoch = self._granted = epoch
        self._term = term
        self._until = began + term * HOLD_FRACTION

    def renewed(self, epoch: int, began: float) -> None:
        """A renewal of `epoch` begun at monotonic time `began` has committed."""
        if epoch == self.epoch:
            self._until = max(self._until, began + self._term * HOLD_FRACTION)

    def lose(self) -> None:
        """The lease is gone (taken over, given up, or its term ran out): no more sending; a
        write is still let through while nobody else has taken the lease over."""
        self.epoch = None
        self._until = -math.inf

    @property
    def valid(self) -> bool:
        """Whether this run holds the lease and its term has not run out."""
        return self.epoch is not None and time.monotonic() < self._until

    @property
    def remaining(self) -> float:
        """Seconds of the term this run may still trust (0 when it holds nothing)."""
        return max(self._until - time.monotonic(), 0.0) if self.epoch is not None else 0.0

    async def check(self, tx: Transaction) -> int:
        """Prove, inside `tx`, that no other instance took the lease over since this run was
        last granted it (and renew it by one beat); raises `Deposed` when one did, or when this
        run never held it. Returns the epoch."""
        epoch = self._granted
        if epoch is None or not await tx.execute(
            "UPDATE lease SET beat = beat + 1 WHERE id = 1 AND holder = ? AND epoch = ?",
            (self.holder, epoch),
        ):
            raise Deposed(f"the lease is no longer held by {self.holder} at epoch {epoch}")
        return epoch


class FencedDatabase(Database):
    """The same database, its every write transaction refused once this run is deposed.

    It shares the connection of the database it wraps (and with it the order of writes); reads
    are not fenced, since they change nothing.
    """

    def __init__(self, database: Database, fence: Fence) -> None:
        # Deliberately no super().__init__: every method is the wrapped database's.
        self._inner = database
        self._fence = fence
        self.engine = database.engine

    async def close(self) -> None:
        """Closing is the wrapped database's owner's business."""

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        """One write transaction that first proves the lease is held (else `Deposed`)."""
        async with self._inner.transaction() as tx:
            began = time.monotonic()
            epoch = await self._fence.check(tx)
            yield tx
        self._fence.renewed(epoch, began)

    async def execute(self, sql: str, params: Sequence[object] = ()) -> None:
        """Run one statement on its own, unfenced (pragmas and the schema only)."""
        await self._inner.execute(sql, params)

    async def rows(self, sql: str, params: Sequence[object] = ()) -> list[Row]:
        """Every row of a query."""
        return await self._inner.rows(sql, params)

    async def row(self, sql: str, params: Sequence[object] = ()) -> Row | None:
        """The first row of a query, if there is one."""
        return await self._inner.row(sql, params)

    async def scalar(self, sql: str, params: Sequence[object] = ()) -> object:
        """The first column of the first row of a query (None when there is no row)."""
        return await self._inner.scalar(sql, params)

    async def tables(self) -> set[str]:
        """The wrapped database's tables."""
        return await self._inner.tables()

    async def columns(self, table: str) -> list[str]:
        """The wrapped database's columns of a table."""
        return await self._inner.columns(table)

    async def continue_ids(self, table: str) -> None:
        """The wrapped database's own."""
        await self._inner.continue_ids(table)

    async def reclaim(self, table: str) -> None:
        """The wrapped database's own, unfenced: it changes no row."""
        await self._inner.reclaim(table)
