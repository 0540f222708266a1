"""End to end: a database that refuses writes for a while, and a bot that waits it out.

The database is locked by another connection holding `BEGIN EXCLUSIVE` (what a backup tool, a
second process or an operator's `sqlite3` shell can do): every write newsbot tries fails once
SQLite's busy timeout has passed, as it would on a full disk. (A full disk itself is not made
here: that needs a small filesystem of its own, which a test cannot mount without root.) A
read-only database is made with SQLite's `query_only` on the bot's own connection: every write
fails with SQLite's "attempt to write a readonly database", as on a read-only mount. While
it lasts, a reader's command is answered with an apology, `/healthz` says what is wrong, and
the sender keeps the outcome of a message already sent. Once the lock is gone, both resume by
themselves: the post found meanwhile and the message in flight reach their chat once each,
and `/healthz` is healthy again.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx

from bot.app import Newsbot
from bot.settings import Settings
from bot.store import Status
from tests.conftest import StartBot
from tests.double import TelegramDouble
from tests.handlers.chat import ago, reply
from tests.helpers import WritePost, eventually

READER = 1


@contextlib.contextmanager
def locked(database: Path) -> Iterator[None]:
    """Another connection holding the database's write lock until the block ends."""
    other = sqlite3.connect(database, timeout=0, isolation_level=None)
    try:
        other.execute("BEGIN EXCLUSIVE")
        yield
        other.execute("ROLLBACK")
    finally:
        other.close()


async def unhealthy_saying(bot: Newsbot, why: str) -> bool:
    """Whether `/healthz` answers 503 and names `why`."""
    async with httpx.AsyncClient(timeout=30) as client:
        answer = await client.get(f"http://127.0.0.1:{bot.metrics_port}/healthz")
    return answer.status_code == 503 and why in answer.text


async def health(bot: Newsbot) -> int:
    async with httpx.AsyncClient(timeout=30) as client:
        answer = await client.get(f"http://127.0.0.1:{bot.metrics_port}/healthz")
    return answer.status_code


def received(double: TelegramDouble, chat: int, title: str) -> int:
    return sum(title in text for text in double.texts_to(chat))


async def test_a_locked_database_fails_commands_politely_and_loses_nothing(
    double: TelegramDouble, start_bot: StartBot, write_post: WritePost, bot_settings: Settings
) -> None:
    bot = await start_bot(subscribe_backlog=0)
    double.send_command(READER, "/start")
    await reply(double, READER, "Subscribed")
    write_post("before.md", title="Before the lock", date=ago(30))
    await eventually(lambda: received(double, READER, "Before the lock") == 1)

    # A message whose answer comes only once the database is locked: its outcome must wait.
    double.delay_next("sendMessage", 1.0)
    write_post("flight.md", title="In flight", date=ago(20))
    bot.rescan()
    await eventually(lambda: received(double, READER, "In flight") == 1)
    with locked(bot_settings.database):
        write_post("during.md", title="While locked", date=ago(10))
        bot.rescan()
        double.send_command(2, "/start")
        await reply(double, 2, "something went wrong", timeout=20)
        # /healthz says why: the scanner's queueing failed, or the lease cannot be kept.
        await eventually(
            lambda: unhealthy_saying(bot, "locked"), timeout=25, description="/healthz says why"
        )
        assert received(double, READER, "While locked") == 0

    await eventually(lambda: received(double, READER, "While locked") == 1, timeout=30)

    async def recovered() -> bool:
        counts = await bot.store.delivery_counts()
        return counts.get(Status.SENT, 0) == 3 and await health(bot) == 200

    await eventually(recovered, timeout=30, description="every delivery recorded, healthy")
    assert [received(double, READER, t) for t in ("Before", "In flight", "While locked")] == [
        1,
        1,
        1,
    ]
    double.send_command(2, "/start")  # commands work again
    await reply(double, 2, "Subscribed")


@contextlib.asynccontextmanager
async def read_only(bot: Newsbot) -> AsyncIterator[None]:
    """The bot's database refusing every write, as on a read-only mount, until the block ends."""
    database = bot.store._db  # the one connection the bot writes through
    await database.execute("PRAGMA query_only = ON")
    try:
        yield
    finally:
        await database.execute("PRAGMA query_only = OFF")


async def test_a_read_only_database_stops_nothing_for_good(
    double: TelegramDouble, start_bot: StartBot, write_post: WritePost
) -> None:
    bot = await start_bot(subscribe_backlog=0)
    double.send_command(READER, "/start")
    await reply(double, READER, "Subscribed")
    async with read_only(bot):
        write_post("during.md", title="While read-only", date=ago(10))
        bot.rescan()
        double.send_command(2, "/start")
        await reply(double, 2, "something went wrong", timeout=20)
        await eventually(
            lambda: unhealthy_saying(bot, "readonly"), timeout=25, description="/healthz says why"
        )
        assert received(double, READER, "While read-only") == 0

    await eventually(lambda: received(double, READER, "While read-only") == 1, timeout=30)

    async def healthy() -> bool:
        return await health(bot) == 200

    await eventually(healthy, timeout=30, description="healthy again")
    double.send_command(2, "/start")  # commands work again
    await reply(double, 2, "Subscribed")
