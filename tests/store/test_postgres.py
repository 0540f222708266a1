"""The PostgreSQL engine's own guarantees: transactions whole or not at all, a lost connection
replaced, a password that never shows, and SQL translated where the engines differ."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import asyncpg
import pytest

from bot.logs import RedactSecrets
from bot.settings import Settings
from bot.store import MIGRATIONS, DatabaseUnreachable, PostgresUrl, Store, UnusableDatabase
from bot.store.dialect import to_postgres
from bot.store.postgres import PostgresDatabase
from tests import postgres


@pytest.fixture
async def url(postgres_server: str) -> PostgresUrl:
    return await postgres.fresh_schema(postgres_server)


@pytest.fixture
async def database(url: PostgresUrl) -> AsyncIterator[PostgresDatabase]:
    opened = await PostgresDatabase.open(url)
    try:
        await opened.execute("CREATE TABLE parent (id INTEGER PRIMARY KEY)")
        await opened.execute(
            "CREATE TABLE child (parent_id INTEGER REFERENCES parent(id) "
            "DEFERRABLE INITIALLY DEFERRED)"
        )
        yield opened
    finally:
        await opened.close()


async def test_a_failed_block_leaves_nothing_behind(database: PostgresDatabase) -> None:
    with pytest.raises(asyncpg.UniqueViolationError):
        async with database.transaction() as tx:
            assert await tx.execute("INSERT INTO parent VALUES (?)", (1,)) == 1
            assert await tx.row("SELECT COUNT(*) FROM parent") == (1,)  # sees its own change
            await tx.execute("INSERT INTO parent VALUES (?)", (1,))
    assert await database.scalar("SELECT COUNT(*) FROM parent") == 0


async def test_a_failed_commit_is_rolled_back_and_the_next_write_goes_through(
    database: PostgresDatabase,
) -> None:
    with pytest.raises(asyncpg.ForeignKeyViolationError):
        async with database.transaction() as tx:
            await tx.execute("INSERT INTO parent VALUES (1)")
            await tx.execute("INSERT INTO child VALUES (7)")  # checked by COMMIT itself
    async with database.transaction() as tx:
        await tx.execute("INSERT INTO parent VALUES (2)")
    assert await database.rows("SELECT parent_id FROM child") == []
    assert await database.rows("SELECT id FROM parent") == [(2,)]


async def test_a_lost_connection_is_replaced(url: PostgresUrl, postgres_server: str) -> None:
    store = await Store.open(url)
    try:
        await store.subscribe(1, "private", None)
        admin = await asyncpg.connect(postgres_server)
        try:  # the server ends every connection of newsbot's, as a restart or failover would
            await admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE application_name = 'newsbot'"
            )
        finally:
            await admin.close()
        assert await store.active_chats() == 1  # a read is tried again on a new connection
        try:
            await store.subscribe(2, "private", None)
        except DatabaseUnreachable:  # a write is not: its caller tries again, and it goes
            await store.subscribe(2, "private", None)
        assert await store.active_chats() == 2
    finally:
        await store.close()


async def test_the_password_shows_nowhere(
    url: PostgresUrl, caplog: pytest.LogCaptureFixture
) -> None:
    [password] = url.secrets
    assert password not in str(url) and password not in repr(url)
    settings = Settings(_env_file=None, database=url.dsn)
    assert isinstance(settings.database, PostgresUrl) and password in settings.secrets
    assert password not in repr(settings) and password not in settings.model_dump_json()
    wrong = PostgresUrl(url.dsn.replace(password, "not-" + password))
    with pytest.raises(DatabaseUnreachable) as refused:
        await PostgresDatabase.open(wrong, wait=0)
    assert "password" in str(refused.value) and password not in str(refused.value)
    unreachable = PostgresUrl(f"postgresql://newsbot:{password}@127.0.0.1:1/newsbot")
    with pytest.raises(DatabaseUnreachable) as refused, caplog.at_level(logging.WARNING):
        await PostgresDatabase.open(unreachable, wait=0.3)
    assert refused.value.__cause__ is None and refused.value.__suppress_context__
    redact = RedactSecrets("123:token", *settings.secrets)
    for text in [str(refused.value), caplog.text, redact.redact(f"connect {url.dsn}")]:
        assert password not in text


async def test_a_database_holding_another_programs_tables_is_refused(url: PostgresUrl) -> None:
    other = await PostgresDatabase.open(url)
    await other.execute("CREATE TABLE contacts (name TEXT)")
    await other.close()
    with pytest.raises(UnusableDatabase, match="another program's tables"):
        await Store.open(url)


async def test_instances_starting_together_migrate_once(url: PostgresUrl) -> None:
    stores = await asyncio.gather(*(Store.open(url) for _ in range(3)))
    try:
        for store in stores:
            assert await store.schema_version() == len(MIGRATIONS)
        await stores[0].subscribe(-1001234567890123, "channel", "Big id", now=1.7e9 + 0.123456)
        chat = await stores[1].chat(-1001234567890123)
        assert chat is not None and chat.active
    finally:
        for store in stores:
            await store.close()


async def test_queued_deliveries_check_no_foreign_key(url: PostgresUrl) -> None:
    """Each row's check would lock its chat's row: most of the time of a large broadcast."""
    store = await Store.open(url)
    await store.close()
    connection = await asyncpg.connect(url.dsn)
    try:
        keys = await connection.fetchval(
            "SELECT count(*) FROM pg_constraint "
            "WHERE conrelid = 'deliveries'::regclass AND contype = 'f'"
        )
    finally:
        await connection.close()
    assert keys == 0


def test_sql_is_translated_where_the_engines_differ() -> None:
    assert to_postgres("SELECT ? FROM t WHERE a = '?' AND b = ?") == (
        "SELECT $1 FROM t WHERE a = '?' AND b = $2"
    )
    assert to_postgres("UPDATE t SET a = ?2 WHERE b = ?1") == "UPDATE t SET a = $2 WHERE b = $1"
    assert to_postgres("CREATE TABLE t (id INTEGER PRIMARY KEY, at REAL, n INTEGER)") == (
        "CREATE TABLE t (id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, "
        "at DOUBLE PRECISION, n BIGINT)"
    )
    assert to_postgres("CREATE TABLE s (a TEXT, PRIMARY KEY (a)) WITHOUT ROWID") == (
        "CREATE TABLE s (a TEXT, PRIMARY KEY (a))"
    )
    assert to_postgres("SELECT j.value FROM json_each(?) AS j ORDER BY j.key") == (
        "SELECT j.value FROM json_array_elements_text(CAST($1 AS json)) "
        "WITH ORDINALITY AS j(value, key) ORDER BY j.key"
    )
