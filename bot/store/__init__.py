"""The database: chats, their subscriptions, posts seen, and the delivery queue, behind one `Store`.

Every row of `deliveries` is one post for one chat, unique per pair, so no chat can be queued the
same post twice however often a post is found. A delivery stays `pending` until Telegram has
accepted the message; that is what makes the queue survive crashes and restarts.

Times are stored as Unix seconds (REAL). All SQL is parameterised; lists travel as one JSON
parameter read with `json_each`.

The package, one idea per module:

- `model`: the values callers pass and get back (`Chat`, `Delivery`, `Outcome`, `NewPost`, ...);
- `db`: the connection, its pragmas and transactions (the only module that knows the driver);
- `schema`: the numbered migrations;
- `chats`, `deliveries`, `revisions`, `stats`, `images`, `state`: the queries of one area each;
- `lease`: which of several instances sharing the database is the active one, and the fence
  that refuses a deposed instance's writes.

Callers import from here: `from bot.store import Store, ALL, Joined, ...`.
"""

from __future__ import annotations

from pathlib import Path

from bot.store import schema
from bot.store.chats import ChatQueries
from bot.store.db import Database, UnusableDatabase, set_aside, unusable
from bot.store.deliveries import DeliveryQueries
from bot.store.images import ImageQueries
from bot.store.lease import Deposed, Fence, FencedDatabase, LeaseQueries, LeaseState
from bot.store.model import (
    ALL,
    DELETE_WINDOW_SECONDS,
    Chat,
    Delivery,
    Joined,
    NewPost,
    Outcome,
    Revision,
    RevisionOutcome,
    SentMessage,
    Stats,
    Status,
)
from bot.store.revisions import RevisionQueries
from bot.store.schema import MIGRATIONS
from bot.store.state import StateQueries
from bot.store.stats import StatsQueries

__all__ = [
    "ALL",
    "DELETE_WINDOW_SECONDS",
    "MIGRATIONS",
    "Chat",
    "Delivery",
    "Deposed",
    "Fence",
    "Joined",
    "LeaseState",
    "NewPost",
    "Outcome",
    "Revision",
    "RevisionOutcome",
    "SentMessage",
    "Stats",
    "Status",
    "Store",
    "UnusableDatabase",
    "set_aside",
    "unusable",
]


class Store(
    ChatQueries,
    DeliveryQueries,
    RevisionQueries,
    StatsQueries,
    ImageQueries,
    StateQueries,
    LeaseQueries,
):
    """Every query newsbot makes, on one database whose writes are serialised into transactions."""

    def __init__(self, database: Database) -> None:
        self._db = database
        self._stopped: set[int] = set()

    @classmethod
    async def open(cls, path: Path) -> Store:
        """Open (creating folder and file) and migrate the database at `path`.

        An existing file that is not newsbot's database raises `UnusableDatabase`.
        """
        database = await Database.open(path)
        try:
            await schema.migrate(database)
        except BaseException:
            await database.close()
            raise
        return cls(database)

    def fenced(self, fence: Fence) -> Store:
        """The same database and chats, each write transaction refused with `Deposed` unless
        `fence` still holds the lease: for the work only the active instance does (scanning
        and queueing, sending, recording outcomes)."""
        store = Store(FencedDatabase(self._db, fence))
        store._stopped = self._stopped  # one view of the chats stopped in this run
        return store

    async def close(self) -> None:
        """Close the connection (its worker thread would otherwise keep the process alive)."""
        await self._db.close()

    async def schema_version(self) -> int:
        """The newest migration applied."""
        return await schema.schema_version(self._db)
