"""The database: chats, their subscriptions, posts seen, and the delivery queue, behind one `Store`.

Every row of `deliveries` is one post for one chat, unique per pair, so no chat can be queued the
same post twice however often a post is found. A delivery stays `pending` until Telegram has
accepted the message; that is what makes the queue survive crashes and restarts.

Times are stored as Unix seconds (REAL). All SQL is parameterised; lists travel as one JSON
parameter read with `json_each`.

Two engines hold the same schema and behave the same: SQLite (a file, the default) and
PostgreSQL (a `postgresql://` URL, which several instances can share).

The package, one idea per module:

- `model`: the values callers pass and get back (`Chat`, `Delivery`, `Outcome`, `NewPost`, ...);
- `db`: what the query areas ask of an engine: statements, rows, transactions;
- `sqlite`, `postgres`: the two engines, the only modules that know a driver;
- `dialect`: the SQL PostgreSQL reads differently, translated in one place;
- `location`: a file path or a `postgresql://` URL, its password never shown;
- `schema`: the numbered migrations, one set for both engines;
- `transfer`: copying an installation from one engine to the other (`newsbot migrate-db`);
- `chats`, `choices`, `deliveries`, `revisions`, `stats`, `images`, `state`, `search`, `reports`:
  the queries of one area each (`choices`: readers' choices per chat, forum topic routes,
  digests; `search` holds all of the full-text index's engine-specific SQL);
- `ledger`: compaction, which keeps the deliveries table to the rows still of use.
- `lease`: which of several instances sharing the database is the active one, and the fence
  that refuses a deposed instance's writes.

Callers import from here: `from bot.store import Store, ALL, Joined, ...`.
"""

from __future__ import annotations

from bot.store import schema
from bot.store.chats import ChatQueries
from bot.store.choices import ChoiceQueries
from bot.store.db import Database, DatabaseUnreachable, UnusableDatabase
from bot.store.deliveries import DeliveryQueries
from bot.store.images import ImageQueries
from bot.store.lease import Deposed, Fence, FencedDatabase, LeaseQueries, LeaseState
from bot.store.ledger import COMPACT_BATCH, Compaction, LedgerQueries
from bot.store.location import Location, PostgresUrl, location
from bot.store.model import (
    ALL,
    DELETE_WINDOW_SECONDS,
    URGENT,
    Chat,
    ChatChoices,
    Delivery,
    DigestEntry,
    Joined,
    NewPost,
    Outcome,
    Revision,
    RevisionOutcome,
    SentMessage,
    Stats,
    Status,
)
from bot.store.postgres import PostgresDatabase
from bot.store.queueing import QueueingQueries
from bot.store.reports import STOPPED, Figures, Report, ReportQueries
from bot.store.revisions import RevisionQueries
from bot.store.schema import MIGRATIONS
from bot.store.search import IndexedText, SearchQueries
from bot.store.sqlite import SqliteDatabase, set_aside, unusable
from bot.store.state import StateQueries
from bot.store.stats import StatsQueries

__all__ = [
    "ALL",
    "COMPACT_BATCH",
    "DELETE_WINDOW_SECONDS",
    "MIGRATIONS",
    "STOPPED",
    "URGENT",
    "Chat",
    "ChatChoices",
    "Compaction",
    "DatabaseUnreachable",
    "Delivery",
    "Deposed",
    "DigestEntry",
    "Fence",
    "Figures",
    "IndexedText",
    "Joined",
    "LeaseState",
    "Location",
    "NewPost",
    "Outcome",
    "PostgresUrl",
    "Report",
    "Revision",
    "RevisionOutcome",
    "SentMessage",
    "Stats",
    "Status",
    "Store",
    "UnusableDatabase",
    "location",
    "open_database",
    "set_aside",
    "unusable",
]


class Store(
    ChatQueries,
    ChoiceQueries,
    QueueingQueries,
    DeliveryQueries,
    RevisionQueries,
    StatsQueries,
    ImageQueries,
    StateQueries,
    LedgerQueries,
    SearchQueries,
    ReportQueries,
    LeaseQueries,
):
    """Every query newsbot makes, on one database whose writes are serialised into transactions."""

    def __init__(self, database: Database) -> None:
        self._db = database
        self._stopped: set[int] = set()

    @classmethod
    async def open(cls, where: Location | str) -> Store:
        """Open and migrate the database at `where`: a file (its folder and itself created when
        missing) or a `postgresql://` URL.

        A database that is there but not newsbot's raises `UnusableDatabase`; a server that
        cannot be reached, `DatabaseUnreachable`.
        """
        database = await open_database(where)
        try:
            await schema.migrate(database)
        except BaseException:
            await database.close()
            raise
        return cls(database)

    @property
    def engine(self) -> str:
        """The database engine's name: `SQLite` or `PostgreSQL`."""
        return self._db.engine

    def fenced(self, fence: Fence) -> Store:
        """The same database and chats, each write transaction refused with `Deposed` unless
        `fence` still holds the lease: for the work only the active instance does (scanning
        and queueing, sending, recording outcomes)."""
        store = Store(FencedDatabase(self._db, fence))
        store._stopped = self._stopped  # one view of the chats stopped in this run
        return store

    async def close(self) -> None:
        """Close the connections (they would otherwise keep the process alive)."""
        await self._db.close()

    async def schema_version(self) -> int:
        """The newest migration applied."""
        return await schema.schema_version(self._db)


async def open_database(where: Location | str) -> Database:
    """Connect to the database at `where` with the engine its form names, unmigrated."""
    found = location(where)
    if isinstance(found, PostgresUrl):
        return await PostgresDatabase.open(found)
    return await SqliteDatabase.open(found)
