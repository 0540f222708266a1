"""The SQLite database: chats, their subscriptions, posts seen, and the delivery queue.

Every row of `deliveries` is one post for one chat, unique per pair, so no chat can be queued the
same post twice however often a post is found. A delivery stays `pending` until Telegram has
accepted the message; that is what makes the queue survive crashes and restarts.

Times are stored as Unix seconds (REAL). All SQL is parameterised; lists travel as one JSON
parameter read with `json_each`.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import aiosqlite

ALL = "*"
"""The subscription category meaning every category."""
DELETE_WINDOW_SECONDS = 48 * 3600
"""Telegram lets a bot delete its messages for this long after sending them."""

MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (  # 1: the first schema
        """CREATE TABLE chats (
            id INTEGER PRIMARY KEY,
            type TEXT NOT NULL,
            title TEXT,
            active INTEGER NOT NULL DEFAULT 1,
            subscribed_at REAL NOT NULL,
            deactivated_at REAL,
            deactivated_reason TEXT
        )""",
        """CREATE TABLE subscriptions (
            chat_id INTEGER NOT NULL REFERENCES chats(id) ON DELETE CASCADE,
            category TEXT NOT NULL,
            PRIMARY KEY (chat_id, category)
        ) WITHOUT ROWID""",
        """CREATE TABLE posts (
            id TEXT PRIMARY KEY,
            digest TEXT NOT NULL,
            first_seen REAL NOT NULL,
            archived INTEGER NOT NULL DEFAULT 0
        )""",
        """CREATE TABLE deliveries (
            id INTEGER PRIMARY KEY,
            post_id TEXT NOT NULL REFERENCES posts(id),
            chat_id INTEGER NOT NULL REFERENCES chats(id) ON DELETE CASCADE,
            status TEXT NOT NULL DEFAULT 'pending',
            priority INTEGER NOT NULL DEFAULT 0,
            message_id INTEGER,
            attempts INTEGER NOT NULL DEFAULT 0,
            last_error TEXT,
            not_before REAL NOT NULL DEFAULT 0,
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL,
            UNIQUE (post_id, chat_id)
        )""",
        "CREATE INDEX deliveries_queue ON deliveries (priority DESC, id) WHERE status = 'pending'",
        "CREATE INDEX deliveries_chat ON deliveries (chat_id)",
        """CREATE TABLE images (
            url TEXT PRIMARY KEY,
            file_id TEXT NOT NULL,
            uploaded_at REAL NOT NULL
        )""",
        "CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    ),
    (  # 2: the article languages a chat reads, as a JSON list of codes; NULL means all of them
        "ALTER TABLE chats ADD COLUMN languages TEXT",
    ),
    (  # 3: what was delivered, so corrections and retractions can reach it later
        "ALTER TABLE deliveries ADD COLUMN sent_at REAL",
        "ALTER TABLE deliveries ADD COLUMN sent_as TEXT",  # 'photo' or 'text'
        "ALTER TABLE deliveries ADD COLUMN sent_image TEXT",
        "ALTER TABLE deliveries ADD COLUMN revision TEXT",  # 'update', 'delete' or 'retract'
        "ALTER TABLE deliveries ADD COLUMN revision_attempts INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE deliveries ADD COLUMN revision_not_before REAL NOT NULL DEFAULT 0",
        "CREATE INDEX deliveries_revisions ON deliveries (revision_not_before) "
        "WHERE revision IS NOT NULL",
    ),
)


class Status(StrEnum):
    """Where a delivery stands."""

    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    CANCELLED = "cancelled"
    DELETED = "deleted"
    """Sent, then deleted from the chat because the post was retracted."""


class Revision(StrEnum):
    """What is to happen to a message already delivered."""

    UPDATE = "update"
    DELETE = "delete"
    RETRACT = "retract"


class Joined(StrEnum):
    """What subscribing did to a chat."""

    NEW = "new"
    REACTIVATED = "reactivated"
    ALREADY = "already"


@dataclass(frozen=True, slots=True)
class Chat:
    """A chat newsbot knows."""

    id: int
    type: str
    title: str | None
    active: bool
    categories: frozenset[str]
    languages: frozenset[str] | None = None
    """Article languages the chat reads; None means every language."""


@dataclass(frozen=True, slots=True)
class Delivery:
    """One pending post for one chat."""

    id: int
    post_id: str
    chat_id: int
    chat_type: str
    priority: int
    attempts: int
    created_at: float | None = None
    """When it was queued (Unix seconds): for a broadcast, when the post was first seen."""


@dataclass(frozen=True, slots=True)
class Outcome:
    """The result of one attempt, written back in batches by `Store.record`."""

    delivery_id: int
    status: Status
    message_id: int | None = None
    error: str | None = None
    not_before: float = 0.0
    counts_as_attempt: bool = True
    sent_as: str | None = None
    """For a sent message: "photo" or "text"."""
    sent_image: str | None = None
    """For a sent photo: the image's address (to notice when a correction changes it)."""


@dataclass(frozen=True, slots=True)
class SentMessage:
    """A delivered message with a revision waiting for it."""

    delivery_id: int
    post_id: str
    chat_id: int
    chat_type: str
    message_id: int
    sent_as: str
    sent_image: str | None
    revision: Revision
    attempts: int


@dataclass(frozen=True, slots=True)
class RevisionOutcome:
    """The result of one attempt at a revision."""

    delivery_id: int
    done: bool
    deleted: bool = False
    error: str | None = None
    not_before: float = 0.0
    image: str | None = None
    """The lead image the message shows now, when the revision replaced it."""


@dataclass(frozen=True, slots=True)
class NewPost:
    """A post found for the first time: archived, or queued for its categories."""

    id: str
    digest: str
    categories: tuple[str, ...] = ()
    archived: bool = False
    priority: int = 0
    language: str | None = None
    """The article's language code; a post without one goes to every chat whatever it reads."""
    everyone: bool = False
    """Breaking news: every subscribed chat, whatever its categories and languages (a chat that
    chose no category at all asked for nothing, and gets nothing)."""


@dataclass(frozen=True, slots=True)
class Stats:
    """The figures editors see with /stats."""

    chats: dict[str, tuple[int, int]]
    """Per chat type: (active, inactive)."""
    subscribers: dict[str, int]
    """Active chats per subscribed category (ALL for everything)."""
    posts_seen: int
    deliveries: dict[str, int]
    """Deliveries queued in the period, by status."""
    queue_depth: int
    last_errors: list[tuple[str, int, str]]
    """The newest failures: (post, chat, error)."""


class Store:
    """One aiosqlite connection, with writes serialised into explicit transactions."""

    def __init__(self, connection: aiosqlite.Connection) -> None:
        self._db = connection
        self._write = asyncio.Lock()
        self.stopped_chats: set[int] = set()
        """Chats unsubscribed or deactivated in this run: a sender holding an older page of
        the queue checks this before sending, so a chat that just left gets nothing more."""

    @classmethod
    async def open(cls, path: Path) -> Store:
        """Open (creating folder and file) and migrate the database at `path`."""
        path.parent.mkdir(parents=True, exist_ok=True)
        connection = await aiosqlite.connect(path, isolation_level=None)
        try:
            await connection.execute("PRAGMA journal_mode = WAL")
            # NORMAL in WAL mode survives a crash of the process; only power loss can roll back
            # the newest transactions, and those are re-sent rather than lost.
            await connection.execute("PRAGMA synchronous = NORMAL")
            await connection.execute("PRAGMA foreign_keys = ON")
            await connection.execute("PRAGMA busy_timeout = 5000")
            store = cls(connection)
            await store._migrate()
        except BaseException:
            await connection.close()
            raise
        return store

    async def close(self) -> None:
        """Close the connection (its worker thread would otherwise keep the process alive)."""
        async with self._write:
            await self._db.close()

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        async with self._write:
            await self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                await self._db.execute("ROLLBACK")
                raise
            await self._db.execute("COMMIT")

    async def _migrate(self) -> None:
        await self._db.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations "
            "(version INTEGER PRIMARY KEY, applied_at REAL NOT NULL)"
        )
        async with self._db.execute("SELECT COALESCE(MAX(version), 0) FROM schema_migrations") as c:
            row = await c.fetchone()
        current = int(row[0]) if row else 0
        for version, statements in enumerate(MIGRATIONS, start=1):
            if version <= current:
                continue
            async with self._transaction() as db:
                for statement in statements:
                    await db.execute(statement)
                await db.execute(
                    "INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)",
                    (version, time.time()),
                )

    async def schema_version(self) -> int:
        """The newest migration applied."""
        value = await self._scalar("SELECT MAX(version) FROM schema_migrations")
        return int(str(value or 0))

    async def _scalar(self, sql: str, params: Sequence[object] = ()) -> object:
        async with self._db.execute(sql, params) as cursor:
            row = await cursor.fetchone()
        return row[0] if row else None

    # --- settings of the database itself ----------------------------------------------------

    async def get_setting(self, key: str) -> str | None:
        """A value newsbot keeps about its own state, such as whether the archive was taken."""
        value = await self._scalar("SELECT value FROM settings WHERE key = ?", (key,))
        return None if value is None else str(value)

    async def set_setting(self, key: str, value: str) -> None:
        """Store a value of newsbot's own state."""
        async with self._transaction() as db:
            await db.execute(
                "INSERT INTO settings (key, value) VALUES (?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

    # --- chats and subscriptions --------------------------------------------------------------

    async def subscribe(
        self,
        chat_id: int,
        chat_type: str,
        title: str | None,
        categories: Iterable[str] = (ALL,),
        *,
        now: float | None = None,
    ) -> Joined:
        """Subscribe a chat, creating or reactivating it; its other subscriptions stay."""
        now = time.time() if now is None else now
        self.stopped_chats.discard(chat_id)
        async with self._transaction() as db:
            joined = await self._activate(db, chat_id, chat_type, title, now)
            await db.executemany(
                "INSERT OR IGNORE INTO subscriptions (chat_id, category) VALUES (?, ?)",
                [(chat_id, category) for category in categories],
            )
        return joined

    @staticmethod
    async def _activate(
        db: aiosqlite.Connection, chat_id: int, chat_type: str, title: str | None, now: float
    ) -> Joined:
        """Create the chat, or make it active again (a returning chat's subscribed_at is now)."""
        async with db.execute("SELECT active FROM chats WHERE id = ?", (chat_id,)) as cursor:
            row = await cursor.fetchone()
        if row is None:
            await db.execute(
                "INSERT INTO chats (id, type, title, active, subscribed_at) VALUES (?, ?, ?, 1, ?)",
                (chat_id, chat_type, title, now),
            )
            return Joined.NEW
        await db.execute(
            "UPDATE chats SET type = ?, title = ?, active = 1, "
            "subscribed_at = CASE WHEN active THEN subscribed_at ELSE ? END, "
            "deactivated_at = NULL, deactivated_reason = NULL WHERE id = ?",
            (chat_type, title, now, chat_id),
        )
        return Joined.ALREADY if row[0] else Joined.REACTIVATED

    async def unsubscribe_all(self, chat_id: int, *, now: float | None = None) -> bool:
        """Remove every subscription of a chat and stop its queued deliveries.

        Returns whether the chat had been active.
        """
        async with self._transaction() as db:
            await db.execute("DELETE FROM subscriptions WHERE chat_id = ?", (chat_id,))
            cursor = await db.execute(
                "UPDATE chats SET active = 0, deactivated_at = ?, deactivated_reason = ? "
                "WHERE id = ? AND active = 1",
                (time.time() if now is None else now, "unsubscribed", chat_id),
            )
            was_active = cursor.rowcount > 0
            await self._cancel_pending(db, chat_id, "unsubscribed")
        return was_active

    async def deactivate(self, chat_id: int, reason: str) -> None:
        """Mark a chat that Telegram will not let us reach; its subscriptions are kept."""
        async with self._transaction() as db:
            await db.execute(
                "UPDATE chats SET active = 0, deactivated_at = ?, deactivated_reason = ? "
                "WHERE id = ?",
                (time.time(), reason, chat_id),
            )
            await self._cancel_pending(db, chat_id, reason)

    async def _cancel_pending(self, db: aiosqlite.Connection, chat_id: int, reason: str) -> None:
        self.stopped_chats.add(chat_id)
        await db.execute(
            "UPDATE deliveries SET status = ?, last_error = ?, updated_at = ? "
            "WHERE chat_id = ? AND status = ?",
            (Status.CANCELLED, reason, time.time(), chat_id, Status.PENDING),
        )

    async def migrate_chat(self, old_id: int, new_id: int) -> None:
        """Move a group that became a supergroup, with its subscriptions and deliveries.

        If the new id is already known, the rows are merged; a post queued for both ids is kept
        once, under the new id.
        """
        async with self._transaction() as db:
            await db.execute(
                "INSERT OR IGNORE INTO chats (id, type, title, active, subscribed_at) "
                "SELECT ?, 'supergroup', title, active, subscribed_at FROM chats WHERE id = ?",
                (new_id, old_id),
            )
            await db.execute(
                "INSERT OR IGNORE INTO subscriptions (chat_id, category) "
                "SELECT ?, category FROM subscriptions WHERE chat_id = ?",
                (new_id, old_id),
            )
            await db.execute(
                "UPDATE OR IGNORE deliveries SET chat_id = ? WHERE chat_id = ?", (new_id, old_id)
            )
            await db.execute("DELETE FROM deliveries WHERE chat_id = ?", (old_id,))
            await db.execute("DELETE FROM chats WHERE id = ?", (old_id,))

    async def chat(self, chat_id: int) -> Chat | None:
        """A chat with its subscribed categories."""
        async with self._db.execute(
            "SELECT id, type, title, active, languages FROM chats WHERE id = ?", (chat_id,)
        ) as cursor:
            row = await cursor.fetchone()
        if row is None:
            return None
        async with self._db.execute(
            "SELECT category FROM subscriptions WHERE chat_id = ?", (chat_id,)
        ) as cursor:
            categories = frozenset(str(r[0]) for r in await cursor.fetchall())
        return _chat(row, categories)

    async def chats_of_type(self, chat_type: str) -> list[Chat]:
        """Every active chat of one type ("channel", say) with its categories, by title."""
        async with self._db.execute(
            "SELECT c.id, c.type, c.title, c.active, c.languages, "
            "(SELECT json_group_array(s.category) FROM subscriptions AS s WHERE s.chat_id = c.id) "
            "FROM chats AS c WHERE c.type = ? AND c.active = 1 ORDER BY c.title, c.id",
            (chat_type,),
        ) as cursor:
            rows = await cursor.fetchall()
        return [_chat(row, frozenset(json.loads(str(row[5])))) for row in rows]

    async def set_subscriptions(
        self,
        chat_id: int,
        chat_type: str,
        title: str | None,
        categories: Iterable[str],
        *,
        now: float | None = None,
    ) -> Joined:
        """Make a chat's subscriptions exactly `categories`, creating or reactivating it.

        An empty set keeps the chat (and its languages) but cancels what was queued for it, so
        "none" means nothing more arrives; it does not bring back a chat that had stopped.
        """
        wanted = sorted(set(categories))
        now = time.time() if now is None else now
        async with self._transaction() as db:
            async with db.execute("SELECT active FROM chats WHERE id = ?", (chat_id,)) as cursor:
                row = await cursor.fetchone()
            if not wanted:
                if row is None:
                    return Joined.NEW
                await db.execute("DELETE FROM subscriptions WHERE chat_id = ?", (chat_id,))
                await self._cancel_pending(db, chat_id, "unsubscribed")
                return Joined.ALREADY if row[0] else Joined.REACTIVATED
            self.stopped_chats.discard(chat_id)
            joined = await self._activate(db, chat_id, chat_type, title, now)
            await db.execute(
                "DELETE FROM subscriptions WHERE chat_id = ? "
                "AND category NOT IN (SELECT value FROM json_each(?))",
                (chat_id, json.dumps(wanted)),
            )
            await db.execute(
                "INSERT OR IGNORE INTO subscriptions (chat_id, category) "
                "SELECT ?, value FROM json_each(?)",
                (chat_id, json.dumps(wanted)),
            )
        return joined

    async def set_languages(self, chat_id: int, languages: Iterable[str] | None) -> bool:
        """Choose the article languages a chat reads (None: all). False if the chat is unknown."""
        value = None if languages is None else json.dumps(sorted(set(languages)))
        async with self._transaction() as db:
            cursor = await db.execute(
                "UPDATE chats SET languages = ? WHERE id = ?", (value, chat_id)
            )
            return cursor.rowcount > 0

    async def queue_backlog(
        self,
        chat_id: int,
        post_ids: Sequence[str],
        *,
        limit: int,
        priority: int = 0,
        now: float | None = None,
    ) -> int:
        """Queue the first `limit` of `post_ids` (newest first) for one newly subscribed chat.

        Only posts already recorded qualify (one not yet recorded is queued by the next scan
        anyway). Archived posts do: the archive is not broadcast, but a reader who just
        subscribed asked for the newest stories, and on a fresh install those are all archived.
        They are queued oldest first,
        so the chat reads them in the order they were published. A post that already has a
        delivery row for the chat (sent, failed, or cancelled when the chat left) is not queued
        again, so the welcome never repeats or resurrects anything. Returns deliveries queued.
        """
        if limit <= 0 or not post_ids:
            return 0
        now = time.time() if now is None else now
        async with self._transaction() as db:
            cursor = await db.execute(
                "INSERT OR IGNORE INTO deliveries "
                "(post_id, chat_id, priority, created_at, updated_at) "
                "SELECT post_id, ?, ?, ?, ? FROM ("
                "  SELECT j.value AS post_id, j.key AS rank FROM json_each(?) AS j"
                "  JOIN posts AS p ON p.id = j.value"
                "  ORDER BY j.key LIMIT ?"
                ") WHERE EXISTS (SELECT 1 FROM chats WHERE id = ? AND active = 1) "
                "ORDER BY rank DESC",
                (chat_id, priority, now, now, json.dumps(list(post_ids)), limit, chat_id),
            )
            return max(cursor.rowcount, 0)

    # --- posts ------------------------------------------------------------------------------

    async def seen_posts(self) -> dict[str, str]:
        """Every post id ever recorded, with the digest of its file when last seen."""
        async with self._db.execute("SELECT id, digest FROM posts") as cursor:
            return {str(row[0]): str(row[1]) for row in await cursor.fetchall()}

    async def add_posts(self, posts: Sequence[NewPost], *, now: float | None = None) -> int:
        """Record newly found posts and queue each unarchived one for its subscribers.

        One transaction for the lot: either a post is recorded and queued, or neither, so a
        crash in between can only make the post be found again. Returns deliveries queued.
        """
        now = time.time() if now is None else now
        queued = 0
        async with self._transaction() as db:
            for post in posts:
                cursor = await db.execute(
                    "INSERT OR IGNORE INTO posts (id, digest, first_seen, archived) "
                    "VALUES (?, ?, ?, ?)",
                    (post.id, post.digest, now, post.archived),
                )
                if cursor.rowcount == 0 or post.archived:
                    continue
                cursor = await db.execute(
                    "INSERT OR IGNORE INTO deliveries "
                    "(post_id, chat_id, priority, created_at, updated_at) "
                    "SELECT ?, c.id, ?, ?, ? FROM chats AS c WHERE c.active = 1 AND (? AND EXISTS ("
                    "  SELECT 1 FROM subscriptions AS s WHERE s.chat_id = c.id) OR (EXISTS ("
                    "  SELECT 1 FROM subscriptions AS s WHERE s.chat_id = c.id"
                    "  AND (s.category = ? OR s.category IN (SELECT value FROM json_each(?))))"
                    " AND (c.languages IS NULL OR ? IS NULL"
                    "  OR ? IN (SELECT value FROM json_each(c.languages)))))",
                    (
                        post.id,
                        post.priority,
                        now,
                        now,
                        post.everyone,
                        ALL,
                        json.dumps(list(post.categories)),
                        post.language,
                        post.language,
                    ),
                )
                queued += max(cursor.rowcount, 0)
        return queued

    # A push goes to active, subscribed chats that have not had the post: all of them (category
    # None) or those subscribed to the category or to everything.
    _PUSH_AUDIENCE = (
        "FROM chats AS c WHERE c.active = 1 AND EXISTS ("
        "  SELECT 1 FROM subscriptions AS s WHERE s.chat_id = c.id"
        "  AND (?2 IS NULL OR s.category IN (?2, ?3)))"
        " AND NOT EXISTS (SELECT 1 FROM deliveries AS d WHERE d.post_id = ?1 AND d.chat_id = c.id)"
    )

    async def push_audience(self, post_id: str, category: str | None) -> int:
        """How many chats a push of the post would reach now."""
        value = await self._scalar(
            "SELECT COUNT(*) " + self._PUSH_AUDIENCE, (post_id, category, ALL)
        )
        return int(str(value or 0))

    async def push(
        self,
        post_id: str,
        digest: str,
        *,
        category: str | None,
        priority: int,
        now: float | None = None,
    ) -> int:
        """Queue a post for the chats that have not had it, ahead of other deliveries.

        The post is recorded as seen if it was not, so a later scan does not queue it again.
        Returns deliveries queued.
        """
        now = time.time() if now is None else now
        async with self._transaction() as db:
            await db.execute(
                "INSERT OR IGNORE INTO posts (id, digest, first_seen, archived) "
                "VALUES (?, ?, ?, 0)",
                (post_id, digest, now),
            )
            cursor = await db.execute(
                "INSERT OR IGNORE INTO deliveries "
                "(post_id, chat_id, priority, created_at, updated_at) "
                "SELECT ?1, c.id, ?4, ?5, ?5 " + self._PUSH_AUDIENCE,
                (post_id, category, ALL, priority, now),
            )
            return max(cursor.rowcount, 0)

    async def stats(self, *, since: float) -> Stats:
        """Subscribers, posts and deliveries at a glance, with deliveries since `since`."""

        async def rows(sql: str, params: Sequence[object] = ()) -> list[Sequence[object]]:
            async with self._db.execute(sql, params) as cursor:
                return list(await cursor.fetchall())

        chats: dict[str, tuple[int, int]] = {}
        for kind, active, count in await rows(
            "SELECT type, active, COUNT(*) FROM chats GROUP BY type, active"
        ):
            current = chats.get(str(kind), (0, 0))
            n = int(str(count))
            chats[str(kind)] = (current[0] + n, current[1]) if active else (current[0], n)
        subscribers = {
            str(category): int(str(count))
            for category, count in await rows(
                "SELECT s.category, COUNT(*) FROM subscriptions AS s "
                "JOIN chats AS c ON c.id = s.chat_id WHERE c.active = 1 "
                "GROUP BY s.category ORDER BY COUNT(*) DESC"
            )
        }
        deliveries = {
            str(status): int(str(count))
            for status, count in await rows(
                "SELECT status, COUNT(*) FROM deliveries WHERE created_at >= ? GROUP BY status",
                (since,),
            )
        }
        errors = [
            (str(post), int(str(chat)), str(error))
            for post, chat, error in await rows(
                "SELECT post_id, chat_id, last_error FROM deliveries "
                "WHERE status = 'failed' ORDER BY updated_at DESC LIMIT 5"
            )
        ]
        return Stats(
            chats=chats,
            subscribers=subscribers,
            posts_seen=int(str(await self._scalar("SELECT COUNT(*) FROM posts") or 0)),
            deliveries=deliveries,
            queue_depth=await self.queue_depth(),
            last_errors=errors,
        )

    async def update_digests(self, digests: Iterable[tuple[str, str]]) -> None:
        """Remember the new content digest of posts whose files changed."""
        async with self._transaction() as db:
            await db.executemany(
                "UPDATE posts SET digest = ? WHERE id = ?",
                [(digest, post_id) for post_id, digest in digests],
            )

    # --- the delivery queue -----------------------------------------------------------------

    async def due(
        self, now: float, *, after: tuple[int, int] | None = None, limit: int = 500
    ) -> list[Delivery]:
        """Pending deliveries whose time has come, highest priority first, then oldest.

        `after` is the (priority, id) of the last row of the previous page, so the sender can
        page past deliveries it must hold back without reading them again.
        """
        priority, last_id = after if after is not None else (1 << 62, 0)
        async with self._db.execute(
            "SELECT d.id, d.post_id, d.chat_id, c.type, d.priority, d.attempts, d.created_at "
            "FROM deliveries AS d JOIN chats AS c ON c.id = d.chat_id "
            "WHERE d.status = 'pending' AND d.not_before <= ? "
            "AND (d.priority < ? OR (d.priority = ? AND d.id > ?)) "
            "ORDER BY d.priority DESC, d.id LIMIT ?",
            (now, priority, priority, last_id, limit),
        ) as cursor:
            rows = await cursor.fetchall()
        return [
            Delivery(int(r[0]), str(r[1]), int(r[2]), str(r[3]), int(r[4]), int(r[5]), float(r[6]))
            for r in rows
        ]

    async def next_due_time(self) -> float | None:
        """When the earliest held-back (retrying) pending delivery becomes due, if any."""
        value = await self._scalar(
            "SELECT MIN(not_before) FROM deliveries WHERE status = 'pending' AND not_before > ?",
            (time.time(),),
        )
        return None if value is None else float(str(value))

    async def record(self, outcomes: Sequence[Outcome]) -> None:
        """Write the results of many attempts in one transaction."""
        if not outcomes:
            return
        now = time.time()
        async with self._transaction() as db:
            await db.executemany(
                # A message Telegram accepted is recorded even if the delivery was cancelled
                # while it was in flight; if a retraction cancelled it, it is deleted next.
                "UPDATE deliveries SET "
                "revision = CASE WHEN ?1 = 'sent' AND status = 'cancelled' "
                "AND last_error = 'retracted' THEN 'delete' ELSE revision END, "
                "status = ?1, message_id = COALESCE(?2, message_id), "
                "last_error = ?3, not_before = ?4, attempts = attempts + ?5, updated_at = ?6, "
                "sent_at = CASE WHEN ?1 = 'sent' THEN ?6 ELSE sent_at END, "
                "sent_as = COALESCE(?7, sent_as), sent_image = COALESCE(?8, sent_image) "
                "WHERE id = ?9 AND (status = 'pending' OR ?1 = 'sent')",
                [
                    (
                        o.status,
                        o.message_id,
                        o.error,
                        o.not_before,
                        int(o.counts_as_attempt),
                        now,
                        o.sent_as,
                        o.sent_image,
                        o.delivery_id,
                    )
                    for o in outcomes
                ],
            )

    # --- corrections and retractions --------------------------------------------------------

    async def request_updates(self, post_id: str, *, sent_since: float) -> int:
        """Ask for the post's messages sent since `sent_since` to be edited to its new card.

        A message already waiting to be deleted or marked retracted keeps that revision.
        Returns how many messages will be edited.
        """
        async with self._transaction() as db:
            cursor = await db.execute(
                "UPDATE deliveries SET revision = ?, revision_attempts = 0, "
                "revision_not_before = 0 WHERE post_id = ? AND status = 'sent' "
                "AND message_id IS NOT NULL AND sent_at >= ? "
                "AND (revision IS NULL OR revision = ?)",
                (Revision.UPDATE, post_id, sent_since, Revision.UPDATE),
            )
            return max(cursor.rowcount, 0)

    async def request_retraction(self, post_id: str, *, delete_since: float) -> int:
        """Withdraw a post: nothing more is sent, and every delivered message is revised.

        Messages sent since `delete_since` (Telegram lets a bot delete for 48 hours) are
        deleted; older ones are edited to say the story was retracted. Returns messages
        to revise.
        """
        async with self._transaction() as db:
            await db.execute(
                "UPDATE deliveries SET status = ?, last_error = 'retracted', updated_at = ? "
                "WHERE post_id = ? AND status = 'pending'",
                (Status.CANCELLED, time.time(), post_id),
            )
            cursor = await db.execute(
                "UPDATE deliveries SET revision = CASE WHEN sent_at >= ? THEN ? ELSE ? END, "
                "revision_attempts = 0, revision_not_before = 0 "
                "WHERE post_id = ? AND status = 'sent' AND message_id IS NOT NULL",
                (delete_since, Revision.DELETE, Revision.RETRACT, post_id),
            )
            return max(cursor.rowcount, 0)

    async def due_revisions(self, now: float, *, limit: int = 200) -> list[SentMessage]:
        """Delivered messages waiting for a correction or retraction, oldest request first."""
        async with self._db.execute(
            "SELECT d.id, d.post_id, d.chat_id, c.type, d.message_id, d.sent_as, "
            "d.sent_image, d.revision, d.revision_attempts "
            "FROM deliveries AS d JOIN chats AS c ON c.id = d.chat_id "
            "WHERE d.revision IS NOT NULL AND d.revision_not_before <= ? AND c.active = 1 "
            "ORDER BY d.revision_not_before, d.id LIMIT ?",
            (now, limit),
        ) as cursor:
            rows = await cursor.fetchall()
        return [
            SentMessage(
                delivery_id=int(r[0]),
                post_id=str(r[1]),
                chat_id=int(r[2]),
                chat_type=str(r[3]),
                message_id=int(r[4]),
                sent_as=str(r[5] or "text"),
                sent_image=None if r[6] is None else str(r[6]),
                revision=Revision(str(r[7])),
                attempts=int(r[8]),
            )
            for r in rows
        ]

    async def record_revisions(self, outcomes: Sequence[RevisionOutcome]) -> None:
        """Write the results of revision attempts in one transaction."""
        if not outcomes:
            return
        async with self._transaction() as db:
            await db.executemany(
                "UPDATE deliveries SET "
                "revision = CASE WHEN ? THEN NULL ELSE revision END, "
                "status = CASE WHEN ? THEN ? ELSE status END, "
                "last_error = COALESCE(?, last_error), "
                "sent_image = COALESCE(?, sent_image), "
                "revision_attempts = revision_attempts + 1, revision_not_before = ?, "
                "updated_at = ? WHERE id = ?",
                [
                    (
                        o.done,
                        o.deleted,
                        Status.DELETED,
                        o.error,
                        o.image,
                        o.not_before,
                        time.time(),
                        o.delivery_id,
                    )
                    for o in outcomes
                ],
            )

    async def delivery_counts(self, post_id: str | None = None) -> dict[str, int]:
        """How many deliveries are in each status, overall or for one post."""
        sql = "SELECT status, COUNT(*) FROM deliveries"
        params: tuple[str, ...] = ()
        if post_id is not None:
            sql += " WHERE post_id = ?"
            params = (post_id,)
        async with self._db.execute(sql + " GROUP BY status", params) as cursor:
            return {str(row[0]): int(row[1]) for row in await cursor.fetchall()}

    # --- uploaded images --------------------------------------------------------------------

    async def image_file_id(self, url: str) -> str | None:
        """The Telegram `file_id` of an image already uploaded from `url`."""
        value = await self._scalar("SELECT file_id FROM images WHERE url = ?", (url,))
        return None if value is None else str(value)

    async def remember_image(self, url: str, file_id: str) -> None:
        """Remember the `file_id` Telegram gave an image, to send it again without uploading."""
        async with self._transaction() as db:
            await db.execute(
                "INSERT INTO images (url, file_id, uploaded_at) VALUES (?, ?, ?) "
                "ON CONFLICT (url) DO UPDATE SET file_id = excluded.file_id, "
                "uploaded_at = excluded.uploaded_at",
                (url, file_id, time.time()),
            )

    async def forget_image(self, url: str) -> None:
        """Drop a `file_id` Telegram no longer accepts."""
        async with self._transaction() as db:
            await db.execute("DELETE FROM images WHERE url = ?", (url,))

    # --- figures for the metrics ------------------------------------------------------------

    async def active_chats(self) -> int:
        """How many chats are subscribed and reachable."""
        value = await self._scalar("SELECT COUNT(*) FROM chats WHERE active = 1")
        return int(str(value or 0))

    async def queue_depth(self) -> int:
        """How many deliveries are pending; reads only the queue's index, not every delivery."""
        value = await self._scalar("SELECT COUNT(*) FROM deliveries WHERE status = 'pending'")
        return int(str(value or 0))


def _chat(row: Sequence[object], categories: frozenset[str]) -> Chat:
    """A `Chat` from the columns id, type, title, active, languages."""
    languages = None if row[4] is None else frozenset(json.loads(str(row[4])))
    title = None if row[2] is None else str(row[2])
    return Chat(int(str(row[0])), str(row[1]), title, bool(row[3]), categories, languages)
