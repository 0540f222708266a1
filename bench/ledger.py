"""The ledger at a newsroom's scale: queueing for a million readers, and a month of deliveries.

Two measurements on the store itself, with no Telegram in the way, on SQLite or (with
`--engine postgresql`) on a PostgreSQL server:

- **Queueing one post for `--queue-chats` subscribed chats** (a million by default), while a
  reader's command (`/start`, a write) is made every 20 ms: the time to queue, and the longest
  that command waited. The floor is the same rows queued by one bare `INSERT ... SELECT`
  (`sqlite3`, or `asyncpg`), on a copy of the same database: what the database itself needs,
  with nothing between a reader and it.
- **`--days` simulated days** of `--posts` posts a day to `--chats` chats (100,000 and 50: five
  million deliveries a day), each delivered, and the ledger compacted once a day as the running
  bot does (details kept for the 48-hour revision window and an hour). Each day ends with the
  database's size and the p99 of the database read `/latest` makes (the chat's settings, for
  1,000 random chats). Both should be flat once the retention is full (from day 3 on): the
  figures compare the last day with day 4.

Run: `python -m bench.ledger [--queue-chats 1000000] [--chats 100000] [--days 30]
[--engine sqlite|postgresql]` or `--smoke`.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import shutil
import sqlite3
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import common
from bench.common import Figure

DAY = 86_400.0
COMMAND_EVERY = 0.02
#: The day the figures of the month are compared with: the retention is full by then.
SETTLED_DAY = 4


async def queue_for_everyone(folder: Path, chats: int, server: str | None) -> dict[str, Any]:
    """Queue one post for `chats` chats while commands keep coming; then the bare floor."""
    async with common.database(folder, server, name="queue.sqlite3", chats=chats) as database:
        if server is None:
            floor_copy = folder / "floor.sqlite3"
            shutil.copy(database, floor_copy)
            measured = await _queue(database, chats)
            return {**measured, "floor_seconds": _sqlite_floor(floor_copy)}
        from bench import postgres

        async with postgres.copy_of(server, database) as floor_copy:
            measured = await _queue(database, chats)
            return {**measured, "floor_seconds": await _postgres_floor(floor_copy)}


async def _queue(database: str, chats: int) -> dict[str, Any]:
    """The store queues one post for every chat while a reader's `/start` comes every 20 ms."""
    from bot.store import NewPost, Store

    store = await Store.open(database)
    waits: list[float] = []
    running = True

    async def reader() -> None:
        chat = 9_000_000_000
        while running:
            started = time.perf_counter()
            await store.subscribe(chat, "private", None)
            waits.append(time.perf_counter() - started)
            chat += 1
            await asyncio.sleep(COMMAND_EVERY)

    try:
        commands = asyncio.create_task(reader())
        await asyncio.sleep(0.1)
        started = time.perf_counter()
        queued = await store.add_posts([NewPost("everyone", "d", everyone=True)])
        seconds = time.perf_counter() - started
        await asyncio.sleep(2 * COMMAND_EVERY)  # the command that waited, if any, is timed
        running = False
        await commands
    finally:
        await store.close()
    return {
        "chats": chats,
        "queued": queued,
        "seconds": seconds,
        "longest_command_wait": max(waits),
        "commands": len(waits),
    }


FLOOR_POST = "INSERT INTO posts (id, digest, first_seen, archived) VALUES ('everyone', 'd', 0, 0)"
FLOOR_QUEUE = (
    "INSERT INTO deliveries (post_id, chat_id, priority, created_at, updated_at) "
    "SELECT 'everyone', chat_id, 0, 0, 0 FROM subscriptions"
)


def _sqlite_floor(path: Path) -> float:
    """Seconds the bare `INSERT ... SELECT` takes in `sqlite3`."""
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        connection.execute(FLOOR_POST)
        started = time.perf_counter()
        connection.execute(FLOOR_QUEUE)
        return time.perf_counter() - started
    finally:
        connection.close()


async def _postgres_floor(url: str) -> float:
    """Seconds the bare `INSERT ... SELECT` takes over `asyncpg`."""
    import asyncpg

    connection = await asyncpg.connect(url)
    try:
        await connection.execute(FLOOR_POST)
        started = time.perf_counter()
        await connection.execute(FLOOR_QUEUE)
        return time.perf_counter() - started
    finally:
        await connection.close()


async def month(
    folder: Path, chats: int, posts: int, days: int, server: str | None
) -> list[dict[str, Any]]:
    """`days` days of posts delivered to every chat and compacted daily; a row per day."""
    async with common.database(folder, server, name="month.sqlite3", chats=chats) as database:
        return await _month(database, chats, posts, days)


async def _month(database: str, chats: int, posts: int, days: int) -> list[dict[str, Any]]:
    from bot.compaction import retention
    from bot.store import NewPost, Store, open_database

    store = await Store.open(database)
    bulk = await open_database(database)
    sample = random.Random(7).sample(common.chat_ids(chats), min(1_000, chats))
    keep = retention(48)
    start = time.time() - (days + 1) * DAY
    rows: list[dict[str, Any]] = []
    try:
        for day in range(days):
            noon = start + day * DAY
            began = time.perf_counter()
            await store.add_posts(
                [NewPost(f"d{day}-{n}", "d", everyone=True) for n in range(posts)], now=noon
            )
            queued = time.perf_counter() - began
            # Every delivery sent: what the sender would record, in one statement.
            await bulk.execute(
                "UPDATE deliveries SET status = 'sent', message_id = id, sent_at = ?, "
                "updated_at = ?, sent_as = 'text' WHERE status = 'pending'",
                (noon + 60, noon + 60),
            )
            began = time.perf_counter()
            compaction = await store.compact_ledger(before=noon + 3600 - keep)
            compacted = time.perf_counter() - began
            size = await _size_mb(bulk, database)
            reads = []
            for chat in sample:
                began = time.perf_counter()
                await store.chat(chat)
                reads.append(time.perf_counter() - began)
            rows.append(
                {
                    "day": day + 1,
                    "size_mb": size,
                    "rows": await store.ledger_rows(),
                    "deleted": compaction.deleted,
                    "queue_seconds": queued,
                    "compact_seconds": compacted,
                    "latest_read_p99_ms": common.percentile(reads, 0.99) * 1000,
                }
            )
            print(rows[-1], flush=True)
    finally:
        await bulk.close()
        await store.close()
    return rows


async def _size_mb(bulk: Any, database: str) -> float:
    """The database's size on disk: the SQLite file once its WAL is folded in, or what
    PostgreSQL reports for the database (tables, indexes, TOAST; its WAL is the server's)."""
    if bulk.engine == "SQLite":
        await bulk.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return (await asyncio.to_thread(Path(database).stat)).st_size / 1e6
    return int(str(await bulk.scalar("SELECT pg_database_size(current_database())"))) / 1e6


def figures(measured: dict[str, Any]) -> list[Figure]:
    """Queueing against its floor, and the last day of the month against the settled day."""
    queue, days = measured["queue"], measured["month"]
    settled, last = days[min(SETTLED_DAY, len(days)) - 1], days[-1]
    size_ratio = last["size_mb"] / settled["size_mb"]
    read_ratio = last["latest_read_p99_ms"] / settled["latest_read_p99_ms"]
    return [
        Figure(
            "queue one post for every chat",
            queue["seconds"],
            "s",
            floor=queue["floor_seconds"],
            ratio=queue["seconds"] / queue["floor_seconds"],
            target="< 10 s",
            passed=queue["seconds"] < 10,
        ),
        Figure(
            "longest wait of a reader's command meanwhile",
            queue["longest_command_wait"] * 1000,
            "ms",
            floor=queue["floor_seconds"] * 1000,
            ratio=queue["longest_command_wait"] / queue["floor_seconds"],
            target="far below the floor",
            passed=queue["longest_command_wait"] < queue["floor_seconds"] / 4,
        ),
        Figure(
            "database size, last day against the settled day",
            last["size_mb"],
            "MB",
            floor=settled["size_mb"],
            ratio=size_ratio,
            target="flat (≤ 1.1)",
            passed=size_ratio <= 1.1,
        ),
        Figure(
            "/latest database read p99, last day against the settled day",
            last["latest_read_p99_ms"],
            "ms",
            floor=settled["latest_read_p99_ms"],
            ratio=read_ratio,
            target="flat (≤ 1.5)",
            passed=read_ratio <= 1.5,
        ),
    ]


async def measure(
    queue_chats: int, chats: int, posts: int, days: int, server: str | None = None
) -> dict[str, Any]:
    """Both measurements, each in a temporary folder (and database) of its own; on the
    PostgreSQL server at `server`, if given, else on SQLite."""
    with tempfile.TemporaryDirectory(prefix="bench-ledger-") as folder:
        queue = await queue_for_everyone(Path(folder), queue_chats, server)
    with tempfile.TemporaryDirectory(prefix="bench-ledger-") as folder:
        days_measured = await month(Path(folder), chats, posts, days, server)
    return {"queue": queue, "month": days_measured, "chats": chats, "posts": posts}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Parse the sizes, measure, print the table and write the JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queue-chats", type=int, default=1_000_000)
    parser.add_argument("--chats", type=int, default=100_000)
    parser.add_argument("--posts", type=int, default=50, help="posts a day")
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, a few seconds")
    common.add_engine_options(parser)
    args = parser.parse_args(argv)
    sizes = (
        (5_000, 300, 5, 6) if args.smoke else (args.queue_chats, args.chats, args.posts, args.days)
    )
    with common.engine_server(args.engine, args.database_url) as server:
        measured = asyncio.run(measure(*sizes, server))
    table = figures(measured)
    common.print_table(
        f"Ledger on {args.engine}: one post for {sizes[0]:,} chats; {sizes[3]} days of "
        f"{sizes[2]} posts a day to {sizes[1]:,} chats (settled: day {SETTLED_DAY})",
        table,
    )
    result = {
        "smoke": args.smoke,
        "engine": args.engine,
        **measured,
        "figures": common.figures_json(table),
    }
    print(common.write_results(common.results_name("ledger", args.engine), result))
    return result


if __name__ == "__main__":
    main()
