"""`newsbot migrate-db`: an installation copied from SQLite to PostgreSQL and back loses no
subscription, and sends no post again; the full-text index is left for the bot to rebuild."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.cli import main
from bot.store import (
    IndexedText,
    Location,
    NewPost,
    Outcome,
    Status,
    Store,
    open_database,
    schema,
)
from bot.store.search import INDEX_TABLES
from bot.store.transfer import OWN_TABLES, TABLES, is_index_table
from tests import postgres

CHANNEL = -1001987654321  # a channel id: more than 32 bits


async def installation(where: Path) -> None:
    """A database that has lived a while: chats of every kind, sent and pending deliveries."""
    store = await Store.open(where)
    try:
        await store.subscribe(1, "private", "Ann", now=1_760_000_000.125)
        await store.subscribe(2, "private", None, ["world", "sport"])
        await store.set_languages(2, ["en", "th"])
        await store.subscribe(CHANNEL, "channel", "Newsroom", ["world"])
        await store.subscribe(3, "private", None)
        await store.unsubscribe_all(3)
        await store.add_posts([NewPost("OLD", "o", archived=True)])
        await store.add_posts([NewPost("P1", "d1", ("world",)), NewPost("P2", "d2", ("sport",))])
        first, *others = await store.due(now=1e12)
        await store.record([Outcome(first.id, Status.SENT, message_id=41, sent_as="text")])
        await store.record_copies([(first.id, 42)])
        await store.record([Outcome(others[0].id, Status.PENDING, error="wait", not_before=9e9)])
        await store.remember_image("https://example.org/a.jpg", "FILE-1")
        await store.set_setting("archive_taken", "1")
        await store.index_posts([IndexedText("P1", "d1", 1.0, "Harbour opens", "", "")])
    finally:
        await store.close()


async def snapshot(where: Location) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table newsbot keeps, in an order that does not depend on the engine."""
    database = await open_database(where)
    try:
        found = {}
        for table in TABLES:
            rows = await database.rows(f"SELECT * FROM {table}")
            found[table] = sorted((tuple(row) for row in rows), key=repr)
        return found
    finally:
        await database.close()


def migrate(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(["migrate-db", *args])
    out, err = capsys.readouterr()
    return code, out + err


def test_an_installation_goes_to_postgresql_and_back_whole(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, postgres_server: str
) -> None:
    sqlite = tmp_path / "newsbot.sqlite3"
    asyncio.run(installation(sqlite))
    before = asyncio.run(snapshot(sqlite))
    assert len(before["deliveries"]) == 5 and len(before["chats"]) == 4
    server = asyncio.run(postgres.fresh_schema(postgres_server))

    code, said = migrate(capsys, str(sqlite), server.dsn)
    assert code == 0, said
    assert "counts verified" in said and "chats 4" in said and "deliveries 5" in said
    for secret in server.secrets:
        assert secret not in said
    assert asyncio.run(snapshot(server)) == before

    async def carry_on_there() -> None:
        store = await Store.open(server)
        try:
            chat = await store.chat(CHANNEL)
            assert chat is not None and chat.categories == {"world"}
            # Found again after the move, the posts are known: nothing is queued or sent twice.
            assert await store.add_posts([NewPost("P1", "d1", ("world",))]) == 0
            assert await store.delivery_counts() == {"sent": 1, "pending": 4}
            # New deliveries take ids after the copied ones.
            old = max(int(str(row[0])) for row in before["deliveries"])
            assert await store.add_posts([NewPost("P3", "d3", ("world",))]) == 3
            assert min(d.id for d in await store.queue() if d.post_id == "P3") > old
            # The index is the engine's own: not copied, but indexed again from the posts.
            assert await store.indexed_posts() == {}
            await store.index_posts([IndexedText("P1", "d1", 1.0, "Harbour opens", "", "")])
            assert await store.search_posts(["harbour"]) == ["P1"]
        finally:
            await store.close()

    asyncio.run(carry_on_there())
    after = asyncio.run(snapshot(server))

    back = tmp_path / "back.sqlite3"
    code, said = migrate(capsys, server.dsn, str(back))
    assert code == 0, said
    assert asyncio.run(snapshot(back)) == after


def test_a_target_that_holds_an_installation_is_refused_unless_replaced(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, postgres_server: str
) -> None:
    source, other = tmp_path / "a.sqlite3", tmp_path / "b.sqlite3"
    asyncio.run(installation(source))
    asyncio.run(installation(other))
    asyncio.run(asyncio.wait_for(_subscribe(other, 99), 10))
    server = asyncio.run(postgres.fresh_schema(postgres_server))
    assert migrate(capsys, str(other), server.dsn)[0] == 0

    code, said = migrate(capsys, str(source), server.dsn)
    assert code == 2 and "not empty" in said and "--replace" in said
    assert asyncio.run(snapshot(server)) == asyncio.run(snapshot(other))  # left as it was

    assert migrate(capsys, str(source), server.dsn, "--replace")[0] == 0
    assert asyncio.run(snapshot(server)) == asyncio.run(snapshot(source))
    assert asyncio.run(_indexed(server)) == {}  # the replaced installation's index is gone


def test_a_missing_source_is_refused_and_not_created(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, said = migrate(capsys, str(tmp_path / "none.sqlite3"), str(tmp_path / "to.sqlite3"))
    assert code == 2 and "no database at" in said
    assert not (tmp_path / "none.sqlite3").exists() and not (tmp_path / "to.sqlite3").exists()


async def test_the_copy_knows_every_table_of_the_schema(database_location: Location) -> None:
    database = await open_database(database_location)
    try:
        await schema.migrate(database)
        tables = await database.tables()
        index = {table for table in tables if is_index_table(table)}
        assert tables - index == {*TABLES, *OWN_TABLES}
        assert set(INDEX_TABLES) & index  # the index is there, in the engine's own tables
        assert not is_index_table("settings") and is_index_table("search_words_docsize")
    finally:
        await database.close()


async def _indexed(where: Location) -> dict[str, str]:
    store = await Store.open(where)
    try:
        return await store.indexed_posts()
    finally:
        await store.close()


async def _subscribe(where: Path, chat: int) -> None:
    store = await Store.open(where)
    try:
        await store.subscribe(chat, "private", None)
    finally:
        await store.close()
