"""Copying an installation from one engine to the other (`newsbot migrate-db FROM TO`).

Everything newsbot keeps is copied: chats with their subscriptions and languages, every post
seen, every delivery with its status and message ids, uploaded images, newsbot's own state. So
after the copy no subscription is lost, no post is found "new" again, and no delivery is sent
twice: the target is the same installation on another engine.

- Both databases are brought to the current schema first (as `newsbot run` would), and the copy
  is refused when their versions still differ.
- The target must be empty (a fresh file, or a PostgreSQL database or schema newsbot has not
  used) unless `replace` is given: then its rows are deleted in the same transaction the copy is
  written in.
- The copy is written in one transaction: all of it, or (on any error) nothing.
- Afterwards every table is counted on both sides; a difference is an error.
- The archive's full-text index is not copied: each engine keeps it in tables of its own kind
  (FTS5 and its shadow tables on SQLite, a generated `tsvector` on PostgreSQL). The target's is
  emptied in the same transaction, and the bot's first scan on the target indexes every live post
  again (`bot.search_index`), as it does for any post the index lacks.

The bot must not run on the source while it is copied: what it wrote after a table was read would
not be in the target.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence

from bot.errors import Unavailable
from bot.store import schema, search
from bot.store.db import Database, Row

#: Every table of the schema, in an order that keeps references whole (chats before their
#: subscriptions and deliveries, posts before deliveries), with the key it is read in order of.
#: `schema_migrations` is not copied: the target has its own, at the same version.
TABLES: dict[str, tuple[str, ...]] = {
    "chats": ("id",),
    "subscriptions": ("chat_id", "category"),
    "posts": ("id",),
    "deliveries": ("id",),
    "images": ("url",),
    "settings": ("key",),
    "reports": ("id",),
    "chat_choices": ("chat_id",),
    "topic_routes": ("chat_id", "category"),
}
#: Tables of the schema that stay with their database: which migrations it had, and which
#: instance holds its lease (a copy starts with the lease free, as the target's migration left it).
OWN_TABLES = frozenset({schema.TABLE, "lease"})
#: Rows read and written at a time: memory stays bounded however large the queue is.
PAGE = 5000


class TransferError(Unavailable):
    """The installation could not be copied; the target was left as it was."""


async def copy_database(
    source: Database, target: Database, *, replace: bool = False
) -> dict[str, int]:
    """Copy every row from `source` to `target` (both open); returns rows copied per table."""
    await schema.migrate(source)
    await schema.migrate(target)
    versions = (await schema.schema_version(source), await schema.schema_version(target))
    if versions[0] != versions[1]:
        raise TransferError(f"schema versions differ: source {versions[0]}, target {versions[1]}")
    unknown = {
        table
        for table in await source.tables() - set(TABLES) - OWN_TABLES
        if not is_index_table(table)
    }
    if unknown:
        raise TransferError(f"cannot copy tables this version does not know: {sorted(unknown)}")
    filled = {table: n for table in TABLES if (n := await _count(target, table))}
    if filled and not replace:
        listed = ", ".join(f"{table} {n}" for table, n in filled.items())
        raise TransferError(f"the target is not empty ({listed} rows); pass --replace to overwrite")
    async with target.transaction() as tx:
        await tx.execute(search.CLEAR)
        for table in reversed(TABLES):
            await tx.execute(f"DELETE FROM {table}")  # noqa: S608 (names from TABLES only)
        for table, key in TABLES.items():
            columns = await source.columns(table)
            insert = (
                f"INSERT INTO {table} ({', '.join(columns)}) "  # noqa: S608
                f"VALUES ({', '.join('?' for _ in columns)})"
            )
            async for page in _pages(source, table, columns, key):
                await tx.executemany(insert, page)
    for table in TABLES:
        await target.continue_ids(table)
    copied: dict[str, int] = {}
    for table in TABLES:
        copied[table] = await _count(source, table)
        if (found := await _count(target, table)) != copied[table]:
            raise TransferError(f"{table}: {copied[table]} rows in the source, {found} copied")
    return copied


def is_index_table(table: str) -> bool:
    """Whether `table` is one of the full-text index's, or one of an FTS5 index's shadows."""
    return any(table == name or table.startswith(f"{name}_") for name in search.INDEX_TABLES)


async def _count(database: Database, table: str) -> int:
    return int(str(await database.scalar(f"SELECT COUNT(*) FROM {table}")))  # noqa: S608


async def _pages(
    database: Database, table: str, columns: Sequence[str], key: tuple[str, ...]
) -> AsyncIterator[list[Row]]:
    """The table's rows, `PAGE` at a time, in order of `key` (each page starts after the last)."""
    select = f"SELECT {', '.join(columns)} FROM {table}"  # noqa: S608
    order = f" ORDER BY {', '.join(key)} LIMIT {PAGE}"
    after = f" WHERE ({', '.join(key)}) > ({', '.join('?' for _ in key)})"
    positions = [columns.index(name) for name in key]
    last: tuple[object, ...] | None = None
    while True:
        rows = await database.rows(select + (after if last else "") + order, last or ())
        if not rows:
            return
        yield rows
        last = tuple(rows[-1][i] for i in positions)
