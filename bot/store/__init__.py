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
- `chats`, `choices`, `deliveries`, `revisions`, `stats`, `images`, `state`: the queries of one
  area each (`choices`: readers' choices per chat, forum topic routes, digests).

Callers import from here: `from bot.store import Store, ALL, Joined, ...`.
"""

from __future__ import annotations

from pathlib import Path

from bot.store import schema
from bot.store.chats import ChatQueries
from bot.store.choices import ChoiceQueries
from bot.store.db import Database, UnusableDatabase, set_aside, unusable
from bot.store.deliveries import DeliveryQueries
from bot.store.images import ImageQueries
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
from bot.store.revisions import RevisionQueries
from bot.store.schema import MIGRATIONS
from bot.store.state import StateQueries
from bot.store.stats import StatsQueries

__all__ = [
    "ALL",
    "DELETE_WINDOW_SECONDS",
    "MIGRATIONS",
    "URGENT",
    "Chat",
    "ChatChoices",
    "Delivery",
    "DigestEntry",
    "Joined",
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
    ChoiceQueries,
    DeliveryQueries,
    RevisionQueries,
    StatsQueries,
    ImageQueries,
    StateQueries,
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

    async def close(self) -> None:
        """Close the connection (its worker thread would otherwise keep the process alive)."""
        await self._db.close()

    async def schema_version(self) -> int:
        """The newest migration applied."""
        return await schema.schema_version(self._db)
