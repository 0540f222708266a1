"""`newsbot backup`: a consistent copy of the database, made while the bot is using it."""

from __future__ import annotations

import contextlib
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.backup import backup
from bot.cli import main
from bot.errors import BackupError
from bot.store import Store


def chats_in(path: Path) -> int:
    with contextlib.closing(sqlite3.connect(path)) as copy:
        return int(copy.execute("SELECT COUNT(*) FROM chats").fetchone()[0])


async def test_a_live_database_is_copied_with_its_newest_rows(
    tmp_path: Path, store: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    database = tmp_path / "data" / "newsbot.sqlite3"  # the store fixture's file, open here
    for chat in range(1, 51):
        await store.subscribe(chat, "private", None)
    # The newest rows are still in the -wal file: a plain copy of the main file misses them.
    assert (tmp_path / "data" / "newsbot.sqlite3-wal").stat().st_size > 0
    target = tmp_path / "backups" / "copy.sqlite3"
    target.parent.mkdir()
    assert main(["backup", str(target), "--database", str(database)]) == 0
    await store.subscribe(51, "private", None)  # the bot goes on writing
    out = capsys.readouterr().out
    assert out.startswith(f"backed up {database} to {target} (") and "schema" in out
    assert sorted(p.name for p in target.parent.iterdir()) == ["copy.sqlite3"]  # no leftovers
    assert chats_in(target) == 50
    restored = await Store.open(target)  # the copy is a database newsbot can run on
    try:
        assert await restored.active_chats() == 50
    finally:
        await restored.close()


async def test_a_folder_gets_a_dated_copy_and_a_stopped_database_works_too(
    tmp_path: Path, store: Store
) -> None:
    database = tmp_path / "data" / "newsbot.sqlite3"  # the store fixture's file
    await store.subscribe(1, "private", None)
    await store.close()  # stopped: the fixture's own close after the test is then a no-op
    folder = tmp_path / "backups"
    folder.mkdir()
    done = backup(database, folder, now=datetime(2026, 11, 20, 8, 0, tzinfo=UTC))
    assert done.path == folder / "newsbot-20261120T080000Z.sqlite3"
    assert done.schema_version >= 1 and done.size == done.path.stat().st_size
    assert chats_in(done.path) == 1
    again = backup(database, done.path)  # an existing backup file is replaced
    assert again.path == done.path


def test_mistakes_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nothing.sqlite3"
    assert main(["backup", str(tmp_path / "b.sqlite3"), "--database", str(missing)]) == 2
    [line] = capsys.readouterr().err.splitlines()
    assert line == f"newsbot backup: no database at {missing}"
    other = tmp_path / "other.sqlite3"
    sqlite3.connect(other).close()
    other.write_bytes(b"not a database at all" * 100)
    with pytest.raises(BackupError, match="cannot back up"):
        backup(other, tmp_path / "b.sqlite3")
    assert not (tmp_path / "b.sqlite3").exists()
    with pytest.raises(BackupError, match="overwrite the database itself"):
        backup(other, other)
