"""The SQLite engine: its pragmas, and transactions that commit whole or leave nothing behind
(a cancelled one on both engines)."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from bot.store import Store
from bot.store.sqlite import SqliteDatabase, UnusableDatabase, set_aside, unusable


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[SqliteDatabase]:
    """A connection to a fresh file with two related tables; closed however the test ends."""
    opened = await SqliteDatabase.open(tmp_path / "data" / "test.sqlite3")
    try:
        await opened.execute("CREATE TABLE parent (id INTEGER PRIMARY KEY)")
        await opened.execute("CREATE TABLE child (parent_id INTEGER REFERENCES parent(id))")
        yield opened
    finally:
        await opened.close()


async def test_the_file_is_in_wal_mode_and_foreign_keys_hold(database: SqliteDatabase) -> None:
    assert await database.scalar("PRAGMA journal_mode") == "wal"
    with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):
        async with database.transaction() as tx:
            await tx.execute("INSERT INTO child VALUES (1)")


async def test_a_failed_block_leaves_nothing_behind(database: SqliteDatabase) -> None:
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
    database: SqliteDatabase,
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


@pytest.mark.parametrize("steps", range(8), ids=lambda n: f"cancelled-after-{n}-steps")
async def test_a_cancelled_write_leaves_no_transaction_open(store: Store, steps: int) -> None:
    """A caller given up on (a timed-out lease renewal, say) may be cancelled while its BEGIN,
    a statement or its COMMIT is still running; whatever it was doing, the next write must go
    through, or every later write fails. On both engines."""
    task = asyncio.create_task(store.set_setting("k", "cancelled"))
    for _ in range(steps):
        await asyncio.sleep(0)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    await store.set_setting("k", "next")
    assert await store.get_setting("k") == "next"


# --- a file that is there but is not newsbot's ---------------------------------------------------


def foreign_sqlite(path: Path) -> None:
    with contextlib.closing(sqlite3.connect(path)) as other:
        other.execute("CREATE TABLE contacts (name TEXT)")
        other.commit()


@pytest.mark.parametrize(
    ("write", "reason"),
    [
        (lambda p: p.write_bytes(b""), r"is empty \(0 bytes\)"),
        (lambda p: p.write_text("just some text, not a database"), "is not an SQLite database"),
        (foreign_sqlite, "another program's SQLite database"),
        (lambda p: p.write_bytes(b"SQLite format 3\x00" + b"\xff" * 200), "cannot be read"),
    ],
    ids=["empty", "text", "foreign-sqlite", "damaged"],
)
async def test_a_file_that_is_not_newsbots_database_is_refused_and_left_alone(
    tmp_path: Path, write: Callable[[Path], object], reason: str
) -> None:
    path = tmp_path / "newsbot.sqlite3"
    write(path)
    before = path.read_bytes()
    with pytest.raises(UnusableDatabase, match=reason) as refused:
        await Store.open(path)
    assert "--new-database" in str(refused.value) and "\n" not in str(refused.value)
    assert path.read_bytes() == before

    kept = set_aside(path)
    assert kept is not None and kept.read_bytes() == before and not path.exists()
    store = await Store.open(path)  # now a first start
    await store.close()
    assert unusable(path) is None


async def test_a_missing_file_or_a_database_of_ours_is_opened_and_never_set_aside(
    tmp_path: Path,
) -> None:
    path = tmp_path / "data" / "newsbot.sqlite3"
    assert unusable(path) is None and set_aside(path) is None
    store = await Store.open(path)
    await store.subscribe(1, "private", None)
    await store.close()
    assert set_aside(path) is None  # a good database is never replaced
    store = await Store.open(path)
    try:
        assert await store.active_chats() == 1
    finally:
        await store.close()
