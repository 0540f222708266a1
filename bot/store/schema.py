"""The schema: numbered migrations, each applied once, in order, and recorded.

Migrations only go forward, one transaction each, so a database is always at one known version
(`schema_migrations` records which). Times are stored as Unix seconds (REAL); a list in a column
is JSON.
"""

from __future__ import annotations

import time

from bot.store.db import Database

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
    (  # 8: the lease that makes one of several instances sharing the database the active one
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
)


async def migrate(db: Database) -> None:
    """Apply, in order, every migration the database has not had yet."""
    await db.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations "
        "(version INTEGER PRIMARY KEY, applied_at REAL NOT NULL)"
    )
    current = await schema_version(db)
    for version, statements in enumerate(MIGRATIONS, start=1):
        if version <= current:
            continue
        async with db.transaction() as tx:
            # Instances starting together: another may have applied it since we looked.
            if await tx.row("SELECT 1 FROM schema_migrations WHERE version = ?", (version,)):
                continue
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
