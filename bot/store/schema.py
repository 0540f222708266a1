"""The schema: numbered migrations, each applied once, in order, and recorded.

Migrations only go forward, one transaction each, so a database is always at one known version
(`schema_migrations` records which). Times are stored as Unix seconds (REAL); a list in a column
is JSON.

One set of migrations serves both engines: they are written in SQLite's types, and
`dialect.to_postgres` gives PostgreSQL its own (`INTEGER` as `BIGINT`, `REAL` as `DOUBLE
PRECISION`, rowids as identity columns). Where the engines must differ (the full-text index:
FTS5 on one, `tsvector` and `pg_trgm` on the other) a migration is a mapping from the engine's
name to its statements, and each engine applies its own under the same number. Instances that
start together on one PostgreSQL database apply each migration once: each is applied in a write
transaction (one writer at a time on the database) that first looks whether another instance has
just applied it.
"""

from __future__ import annotations

import time
from collections.abc import Mapping

from bot.store import search
from bot.store.db import POSTGRESQL, SQLITE, Database

#: The table that records which migrations a database has had.
TABLE = "schema_migrations"

#: A migration: its statements, or (where the engines must differ) each engine's own, by the
#: engine's name (`Database.engine`).
Migration = tuple[str, ...] | Mapping[str, tuple[str, ...]]

MIGRATIONS: tuple[Migration, ...] = (
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
    (  # 4: waits kept with their deliveries, and every copy of a message a reader has
        # A delivery Telegram asked to wait (flood control) or that backs off after a fault
        # carries its `not_before`, which keeps its chat waiting over a restart; this index
        # finds the waiting few among a broadcast's pending rows.
        "CREATE INDEX deliveries_waiting ON deliveries (not_before, chat_id) "
        "WHERE status = 'pending' AND not_before > 0",
        # Further message ids of the delivery, as a JSON list: a request that timed out but
        # was delivered, then sent again, leaves the reader two copies to correct or delete.
        "ALTER TABLE deliveries ADD COLUMN copies TEXT",
    ),
    (  # 5: the ledger kept small, and a post queued in chunks of chats
        # Posts first seen before a chat's floor count as had by it (`ledger`).
        "ALTER TABLE chats ADD COLUMN compacted_through REAL",
        # Who a post is for (JSON) and the last chat id queued, while its queueing is unfinished.
        "ALTER TABLE posts ADD COLUMN audience TEXT",
        "ALTER TABLE posts ADD COLUMN queued_through INTEGER",
    ),
    search.MIGRATION,  # 6: the archive's full-text index (each engine's, the search area's own)
    (  # 7: editors' live reports of a broadcast, kept so a restart goes on editing them
        # One report per confirmed breaking item or push: the message that shows its progress
        # (chat and message id, in the editor's language) and the deliveries it counts (the
        # post's, queued from first_delivery to last_delivery).
        """CREATE TABLE reports (
            id INTEGER PRIMARY KEY,
            post_id TEXT NOT NULL,
            kind TEXT NOT NULL,
            chat_id INTEGER NOT NULL,
            message_id INTEGER NOT NULL,
            language TEXT NOT NULL,
            first_delivery INTEGER NOT NULL,
            last_delivery INTEGER NOT NULL,
            started_at REAL NOT NULL,
            stopped_at REAL,
            stopped_by INTEGER,
            finished_at REAL,
            UNIQUE (chat_id, message_id)
        )""",
        # The figures read deliveries by post through their UNIQUE (post_id, chat_id) index.
        "CREATE INDEX reports_running ON reports (id) WHERE finished_at IS NULL",
    ),
    (  # 8: readers' choices per chat (digests, quiet hours, filters) and forum topic routes
        # One row per chat that chose anything; a chat without one takes every default. `mode`
        # is 'instant', 'hourly', 'twice' or 'daily HH:MM'; `quiet_from`/`quiet_to` are HH:MM;
        # `muted`/`only_words` are JSON lists; `general` = 0 sends unrouted categories nowhere;
        # `last_digest` is when the chat's last digest went (Unix seconds); `texts_language` the
        # language of the reader who chose, for what newsbot writes on its own (a digest).
        """CREATE TABLE chat_choices (
            chat_id INTEGER PRIMARY KEY REFERENCES chats(id) ON DELETE CASCADE,
            mode TEXT NOT NULL DEFAULT 'instant',
            time_zone TEXT,
            quiet_from TEXT,
            quiet_to TEXT,
            breaking_in_quiet INTEGER NOT NULL DEFAULT 0,
            muted TEXT,
            only_words TEXT,
            general INTEGER NOT NULL DEFAULT 1,
            last_digest REAL,
            texts_language TEXT
        )""",
        # A forum's category -> topic (message_thread_id); other categories go to General.
        """CREATE TABLE topic_routes (
            chat_id INTEGER NOT NULL REFERENCES chats(id) ON DELETE CASCADE,
            category TEXT NOT NULL,
            thread_id INTEGER NOT NULL,
            PRIMARY KEY (chat_id, category)
        )""",
    ),
    (  # 9: the lease that makes one of several instances sharing the database the active one
        # (bot/store/lease.py): one row, free (holder NULL) until an instance takes it.
        """CREATE TABLE lease (
            id INTEGER PRIMARY KEY,
            holder TEXT,
            epoch INTEGER NOT NULL,
            beat INTEGER NOT NULL,
            term REAL NOT NULL,
            expires_at REAL NOT NULL
        )""",
        "INSERT INTO lease (id, holder, epoch, beat, term, expires_at) "
        "VALUES (1, NULL, 0, 0, 0, 0)",
    ),
    {  # 10: PostgreSQL checks no foreign key on each queued delivery
        # PostgreSQL checks a foreign key row by row, and the check locks the referenced chat's
        # row (`FOR KEY SHARE`), which writes to it: two thirds of the time of queueing a post
        # for a million chats went there. No post is ever deleted, and the one place a chat is
        # (a group become a supergroup, `chats`) deletes its deliveries first. SQLite's check
        # is one index probe and stays.
        SQLITE: (),
        POSTGRESQL: (
            "ALTER TABLE deliveries DROP CONSTRAINT IF EXISTS deliveries_post_id_fkey",
            "ALTER TABLE deliveries DROP CONSTRAINT IF EXISTS deliveries_chat_id_fkey",
        ),
    },
)


async def migrate(db: Database) -> None:
    """Apply, in order, every migration the database has not had yet."""
    async with db.transaction() as tx:
        await tx.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations "
            "(version INTEGER PRIMARY KEY, applied_at REAL NOT NULL)"
        )
    current = await schema_version(db)
    for version, migration in enumerate(MIGRATIONS, start=1):
        if version <= current:
            continue
        statements = migration[db.engine] if isinstance(migration, Mapping) else migration
        async with db.transaction() as tx:
            if await tx.row("SELECT 1 FROM schema_migrations WHERE version = ?", (version,)):
                continue  # applied by another instance since `current` was read
            for statement in statements:
                await tx.execute(statement)
            await tx.execute(
                "INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)",
                (version, time.time()),
            )


async def schema_version(db: Database) -> int:
    """The newest migration applied."""
    value = await db.scalar("SELECT MAX(version) FROM schema_migrations")
    return int(str(value or 0))
