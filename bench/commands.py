"""Commands under load: readers' commands answered while a broadcast runs.

The bot runs in a fresh interpreter with `--chats` subscribed chats and `--posts` posts (all
recorded as seen), and broadcasts one new post to every chat at `--rate`. While that runs,
readers in chats of their own send each command in `--commands` (`/latest`, a category's
command, `/start`), one every `--spacing` seconds. For each command:

- handling time: from the moment python-telegram-bot hands the update to the command's handler
  to the moment the handler returns, replies included (timed around
  `BaseHandler.handle_update`, so it works for whatever handler answers the command);
- reply time: from the double queueing the reader's message to the double receiving the first
  message of the answer: long polling, handling and the reply's trip, as a reader sees it.

The core of `/latest` is also timed alone, with no Telegram at all: `subscriptions.newest` over
the library and `render` of each card. Its floor is `PostLibrary.latest` (the index's own newest
first walk) with the same `render`s, and a reader whose languages match no post shows the worst
case, a walk over the whole archive.

Run: `python -m bench.commands [--chats 100000] [--posts 10000] [--rate 30]` or `--smoke`.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import common
from bench.common import Figure

TARGET_P99_MS = 20.0
READER_BASE = 900_000_000
CATEGORY = "world"


def _patch_handlers(timings: dict[str, list[float]]) -> None:
    """Time every handler call, keyed by command and callback name."""
    from telegram.ext import BaseHandler

    original = BaseHandler.handle_update

    async def timed(
        self: BaseHandler[Any, Any, Any], update: Any, application: Any, check: Any, context: Any
    ) -> Any:
        started = time.perf_counter()
        try:
            return await original(self, update, application, check, context)
        finally:
            message = getattr(update, "effective_message", None)
            text = (message.text or "").split(" ", 1)[0] if message is not None else ""
            name = getattr(self.callback, "__name__", type(self).__name__)
            timings[f"{text} {name}"].append(time.perf_counter() - started)

    BaseHandler.handle_update = timed  # type: ignore[method-assign]


def _core(library: Any, readers: int) -> dict[str, list[float]]:
    """Time the core of `/latest` and of a category command, with no Telegram."""
    from bot.render import render
    from bot.subscriptions import newest

    timings: dict[str, list[float]] = defaultdict(list)
    for _ in range(readers):
        now = datetime.now(UTC)
        for name, category, languages in (
            ("latest", None, None),
            ("category", CATEGORY, None),
            ("latest, reader of an absent language", None, frozenset({"xx"})),
        ):
            started = time.perf_counter()
            pool = library.candidates(category=category, languages=languages)
            for post in newest(pool, now, count=5, category=category, languages=languages):
                render(post)
            timings[name].append(time.perf_counter() - started)
            started = time.perf_counter()
            for post in library.latest(now, limit=5, category=category):
                render(post)
            timings[f"floor {name}"].append(time.perf_counter() - started)
    return timings


async def newsbot(
    folder: str, chats: int, rate: float, commands: list[str], count: int, spacing: float
) -> dict[str, Any]:
    """Start the double and the bot, start the broadcast, then send the readers' commands."""
    from bot.app import Newsbot

    handling: dict[str, list[float]] = defaultdict(list)
    _patch_handlers(handling)
    content, database = Path(folder) / "content", Path(folder) / "newsbot.sqlite3"
    async with common.DoubleProcess() as double:
        bot = Newsbot(common.settings(double.base_url, content, database, rate=rate))
        await bot.start()
        try:
            await asyncio.sleep(1.0)
            core = _core(bot.library, 3)  # warm up the card cache and the index
            common.write_breaking_post(content)
            bot.rescan()
            await common.wait_until(lambda: bot.sender.sent >= min(chats, 50), 60)
            sent_before = bot.sender.sent
            readers = [READER_BASE + i for i in range(count * len(commands))]
            await double.ask("watch", chats=readers)
            asked: list[tuple[str, int, float]] = []
            reader = iter(readers)
            for _ in range(count):
                for command in commands:
                    chat = next(reader)
                    answer = await double.ask("command", chat=chat, text=command)
                    asked.append((command, chat, answer["at"]))
                    await asyncio.sleep(spacing)
            core = _core(bot.library, count)
            await common.wait_until(
                lambda: sum(len(v) for k, v in handling.items() if "_gate" not in k) >= len(asked),
                30,
            )
            await asyncio.sleep(0.5)
            stats = await double.stats()
            sent_after = bot.sender.sent
        finally:
            await bot.stop()
    replies: dict[str, list[float]] = defaultdict(list)
    for command, chat, at in asked:
        arrived = [t for t in stats["watched"].get(str(chat), []) if t >= at]
        if arrived:
            replies[command].append(min(arrived) - at)
    return {
        "handling": dict(handling),
        "replies": dict(replies),
        "unanswered": len(asked) - sum(len(v) for v in replies.values()),
        "core": dict(core),
        "broadcast_sent_during": sent_after - sent_before,
        "broadcast_still_running": sent_after < chats,
        "flood_errors": stats["flood_errors"],
    }


def measure(
    chats: int, posts: int, rate: float, commands: list[str], count: int, spacing: float
) -> dict[str, Any]:
    """Seed the database and the content folder, then run the bot in a fresh child."""
    with tempfile.TemporaryDirectory(prefix="bench-commands-") as folder:
        content = Path(folder) / "content"
        content.mkdir()
        seen = common.write_posts(content, posts)
        asyncio.run(common.seed_database(Path(folder) / "newsbot.sqlite3", chats=chats, posts=seen))
        run = common.run_in_child(
            "bench.commands:newsbot",
            folder=folder,
            chats=chats,
            rate=rate,
            commands=commands,
            count=count,
            spacing=spacing,
        )
    return {
        "chats": chats,
        "posts": posts,
        "rate": rate,
        "commands": commands,
        "count": count,
        **run,
    }


def _ms(values: list[float], fraction: float) -> float:
    return 1000 * common.percentile(values, fraction)


def figures(measured: dict[str, Any]) -> list[Figure]:
    """The table: p50/p99 handling and reply time per command, and the core path."""
    table: list[Figure] = []
    for command in measured["commands"]:
        handled = [
            t
            for key, times in measured["handling"].items()
            if key.startswith(f"{command} ") and "_gate" not in key
            for t in times
        ]
        if handled:
            table.append(Figure(f"{command} handling p50", _ms(handled, 0.5), "ms"))
            p99 = _ms(handled, 0.99)
            table.append(
                Figure(
                    f"{command} handling p99",
                    p99,
                    "ms",
                    target=f"< {TARGET_P99_MS:g} ms",
                    passed=p99 < TARGET_P99_MS,
                )
            )
        replies = measured["replies"].get(command, [])
        if replies:
            table.append(Figure(f"{command} reply p50", _ms(replies, 0.5), "ms"))
            table.append(Figure(f"{command} reply p99", _ms(replies, 0.99), "ms"))
    core = measured["core"]
    for name in ("latest", "category", "latest, reader of an absent language"):
        p99, floor = _ms(core[name], 0.99), _ms(core[f"floor {name}"], 0.99)
        table.append(Figure(f"core {name} p99", p99, "ms", floor=floor, ratio=p99 / floor))
    return table


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Parse the sizes, measure, print the table and write the JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chats", type=int, default=100_000)
    parser.add_argument("--posts", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=30.0, help="NEWSBOT_RATE of the broadcast")
    parser.add_argument(
        "--commands",
        default=f"/latest,/{CATEGORY},/start",
        help="comma-separated commands, each sent --count times from chats of their own",
    )
    parser.add_argument("--count", type=int, default=400, help="times each command is sent")
    parser.add_argument("--spacing", type=float, default=0.05, help="seconds between commands")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, a few seconds")
    args = parser.parse_args(argv)
    commands = [c.strip() for c in args.commands.split(",") if c.strip()]
    chats, posts, count = (300, 100, 3) if args.smoke else (args.chats, args.posts, args.count)
    measured = measure(chats, posts, args.rate, commands, count, args.spacing)
    table = figures(measured)
    common.print_table(
        f"Commands during a broadcast at {args.rate:g} msg/s: {chats:,} chats, {posts:,} posts",
        table,
    )
    result = {"smoke": args.smoke, **measured, "figures": common.figures_json(table)}
    print(common.write_results("commands", result))
    return result


if __name__ == "__main__":
    main()
