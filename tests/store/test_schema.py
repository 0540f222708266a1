"""The schema: migrations recorded and applied once, and older databases brought forward."""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

from bot.store import MIGRATIONS
from tests.helpers import open_store


async def test_migrations_are_recorded_and_applied_once(tmp_path: Path) -> None:
    path = tmp_path / "data" / "newsbot.sqlite3"
    async with open_store(path) as store:
        assert await store.schema_version() == len(MIGRATIONS)
    async with open_store(path) as store:  # opening again applies nothing twice
        assert await store.schema_version() == len(MIGRATIONS)
    with contextlib.closing(sqlite3.connect(path)) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        count = db.execute("SELECT COUNT(*) FROM schema_migrations").fetchone()[0]
        assert count == len(MIGRATIONS)


async def test_a_database_of_the_first_schema_is_migrated_keeping_its_chats(
    tmp_path: Path,
) -> None:
    path = tmp_path / "data" / "newsbot.sqlite3"
    path.parent.mkdir()
    with contextlib.closing(sqlite3.connect(path)) as db:
        db.execute(
            "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at REAL NOT NULL)"
        )
        for statement in MIGRATIONS[0]:
            db.execute(statement)
        db.execute("INSERT INTO schema_migrations VALUES (1, 0)")
        db.execute("INSERT INTO chats (id, type, subscribed_at) VALUES (1, 'private', 0)")
        db.commit()
    async with open_store(path) as store:
        assert await store.schema_version() == len(MIGRATIONS)
        chat = await store.chat(1)
        assert chat is not None and chat.active and chat.languages is None
