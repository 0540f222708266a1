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
)


class Status(StrEnum):
    """Where a delivery stands."""

    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    CANCELLED = "cancelled"


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


@dataclass(frozen=True, slots=True)
class Delivery:
    """One pending post for one chat."""

    id: int
    post_id: str
    chat_id: int
    chat_type: str
    priority: int
    attempts: int


@dataclass(frozen=True, slots=True)
class Outcome:
    """The result of one attempt, written back in batches by `Store.record`."""

    delivery_id: int
    status: Status
    message_id: int | None = None
    error: str | None = None
    not_before: float = 0.0
    counts_as_attempt: bool = True


@dataclass(frozen=True, slots=True)
class NewPost:
    """A post found for the first time: archived, or queued for its categories."""

    id: str
    digest: str
    categories: tuple[str, ...] = ()
    archived: bool = False
    priority: int = 0


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
            async with db.execute("SELECT active FROM chats WHERE id = ?", (chat_id,)) as cursor:
                row = await cursor.fetchone()
            if row is None:
                joined = Joined.NEW
                await db.execute(
                    "INSERT INTO chats (id, type, title, active, subscribed_at) "
                    "VALUES (?, ?, ?, 1, ?)",
                    (chat_id, chat_type, title, now),
                )
            else:
                joined = Joined.ALREADY if row[0] else Joined.REACTIVATED
                await db.execute(
                    "UPDATE chats SET type = ?, title = ?, active = 1, "
                    "subscribed_at = CASE WHEN active THEN subscribed_at ELSE ? END, "
                    "deactivated_at = NULL, deactivated_reason = NULL WHERE id = ?",
                    (chat_type, title, now, chat_id),
                )
            await db.executemany(
                "INSERT OR IGNORE INTO subscriptions (chat_id, category) VALUES (?, ?)",
                [(chat_id, category) for category in categories],
            )
        return joined

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
            "SELECT id, type, title, active FROM chats WHERE id = ?", (chat_id,)
        ) as cursor:
            row = await cursor.fetchone()
        if row is None:
            return None
        async with self._db.execute(
            "SELECT category FROM subscriptions WHERE chat_id = ?", (chat_id,)
        ) as cursor:
            categories = frozenset(str(r[0]) for r in await cursor.fetchall())
        return Chat(int(row[0]), str(row[1]), row[2], bool(row[3]), categories)

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
                    "SELECT ?, c.id, ?, ?, ? FROM chats AS c WHERE c.active = 1 AND EXISTS ("
                    "  SELECT 1 FROM subscriptions AS s WHERE s.chat_id = c.id"
                    "  AND (s.category = ? OR s.category IN (SELECT value FROM json_each(?))))",
                    (post.id, post.priority, now, now, ALL, json.dumps(list(post.categories))),
                )
                queued += max(cursor.rowcount, 0)
        return queued

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
            "SELECT d.id, d.post_id, d.chat_id, c.type, d.priority, d.attempts "
            "FROM deliveries AS d JOIN chats AS c ON c.id = d.chat_id "
            "WHERE d.status = 'pending' AND d.not_before <= ? "
            "AND (d.priority < ? OR (d.priority = ? AND d.id > ?)) "
            "ORDER BY d.priority DESC, d.id LIMIT ?",
            (now, priority, priority, last_id, limit),
        ) as cursor:
            rows = await cursor.fetchall()
        return [
            Delivery(int(r[0]), str(r[1]), int(r[2]), str(r[3]), int(r[4]), int(r[5])) for r in rows
        ]

    async def next_due_time(self) -> float | None:
        """When the earliest held-back pending delivery becomes due, if any."""
        value = await self._scalar(
            "SELECT MIN(not_before) FROM deliveries WHERE status = 'pending'"
        )
        return None if value is None else float(str(value))

    async def record(self, outcomes: Sequence[Outcome]) -> None:
        """Write the results of many attempts in one transaction."""
        if not outcomes:
            return
        now = time.time()
        async with self._transaction() as db:
            await db.executemany(
                "UPDATE deliveries SET status = ?, message_id = COALESCE(?, message_id), "
                "last_error = ?, not_before = ?, attempts = attempts + ?, updated_at = ? "
                "WHERE id = ?",
                [
                    (
                        o.status,
                        o.message_id,
                        o.error,
                        o.not_before,
                        int(o.counts_as_attempt),
                        now,
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
