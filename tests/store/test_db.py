"""The connection: its pragmas, and transactions that commit whole or leave nothing behind."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.store.db import Database


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    """A connection to a fresh file with two related tables; closed however the test ends."""
    opened = await Database.open(tmp_path / "data" / "test.sqlite3")
    try:
        await opened.execute("CREATE TABLE parent (id INTEGER PRIMARY KEY)")
        await opened.execute("CREATE TABLE child (parent_id INTEGER REFERENCES parent(id))")
        yield opened
    finally:
        await opened.close()


async def test_the_file_is_in_wal_mode_and_foreign_keys_hold(database: Database) -> None:
    assert await database.scalar("PRAGMA journal_mode") == "wal"
    with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):
        async with database.transaction() as tx:
            await tx.execute("INSERT INTO child VALUES (1)")


async def test_a_failed_block_leaves_nothing_behind(database: Database) -> None:
    with pytest.raises(sqlite3.IntegrityError):
        async with database.transaction() as tx:
            assert await tx.execute("INSERT INTO parent VALUES (1)") == 1
            assert await tx.row("SELECT COUNT(*) FROM parent") == (1,)  # sees its own change
            await tx.execute("INSERT INTO parent VALUES (1)")
    assert await database.scalar("SELECT COUNT(*) FROM parent") == 0
    async with database.transaction() as tx:
        await tx.execute("INSERT INTO parent VALUES (1)")
    assert await database.rows("SELECT id FROM parent") == [(1,)]


async def test_a_failed_commit_is_rolled_back_and_the_next_write_goes_through(
    database: Database,
) -> None:
    with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):
        async with database.transaction() as tx:
            # A deferred check is made by COMMIT itself, which then fails with the transaction
            # still open.
            await tx.execute("PRAGMA defer_foreign_keys = ON")
            await tx.execute("INSERT INTO child VALUES (7)")
    async with database.transaction() as tx:
        await tx.execute("INSERT INTO parent VALUES (1)")
    assert await database.rows("SELECT parent_id FROM child") == []
    assert await database.rows("SELECT id FROM parent") == [(1,)]
