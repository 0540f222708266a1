"""Memory: peak RSS of the running bot with a newsroom's chats and archive loaded.

The bot starts in a fresh interpreter against a database of `--chats` subscribed chats and a
content folder of `--posts` posts (recorded as seen, so nothing is queued), settles, and then
broadcasts one new post to every chat at `--rate`: the most memory it needs at that scale.
The floor is the same bot started in a fresh interpreter with no chats and no posts: the
interpreter, python-telegram-bot, aiohttp, httpx and SQLite, before any newsroom data.

A broadcast to a million chats at 1,000 msg/s takes 17 minutes; `--broadcast-for SECONDS` ends
the run after that much of it. Nothing the bot holds grows with the messages sent past the
first minute (the pace remembers a minute of chats, the sender reads the queue a page at a
time), so a few minutes show the broadcast's peak.

Run: `python -m bench.memory [--chats 100000] [--posts 10000] [--rate 1000]
[--broadcast-for SECONDS] [--engine sqlite|postgresql]` or `--smoke`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import common
from bench.common import Figure

#: The most the bot may hold: 150 MB at a newsroom's 100,000 chats, 250 MB at a million.
TARGET_MB = 150.0
TARGET_MB_MILLION = 250.0
#: Seconds between two readings of the resident memory during the broadcast.
SAMPLE_EVERY = 10.0


def current_rss_mb() -> float:
    """Resident memory now (VmRSS), in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def newsbot(
    base_url: str,
    folder: str,
    database: str,
    chats: int,
    rate: float,
    broadcast: bool,
    broadcast_for: float | None = None,
) -> dict[str, Any]:
    """Start the bot, let it settle, then (optionally) broadcast one post to every chat, or
    for `broadcast_for` seconds of it."""
    from bot.app import Newsbot

    os.chdir(folder)  # where the posts cache goes with PostgreSQL
    content = Path(folder) / "content"
    started = time.perf_counter()
    bot = Newsbot(common.settings(base_url, content, database, rate=rate))
    await bot.start()
    start_seconds = time.perf_counter() - started
    try:
        await asyncio.sleep(1.0)  # the first queue pass reads every post id the database knows
        result: dict[str, Any] = {
            "posts": len(bot.library.posts),
            "start_seconds": start_seconds,
            "settled_rss_mb": round(current_rss_mb(), 1),
            "settled_peak_rss_mb": round(common.peak_rss_mb(), 1),
        }
        if broadcast and chats:
            common.write_breaking_post(content)
            bot.rescan()
            began = time.perf_counter()
            longest = broadcast_for if broadcast_for is not None else 120 + 3 * chats / rate
            samples: list[tuple[float, int, float]] = []  # (seconds, messages sent, RSS in MB)
            while bot.sender.sent < chats and (elapsed := time.perf_counter() - began) < longest:
                await asyncio.sleep(0.05)
                if elapsed >= SAMPLE_EVERY * (len(samples) + 1):
                    samples.append((elapsed, bot.sender.sent, round(current_rss_mb(), 1)))
            if broadcast_for is None and bot.sender.sent < chats:
                raise TimeoutError(f"{bot.sender.sent} of {chats} sent in {longest:.0f} s")
            result["sent"] = bot.sender.sent
            result["during_broadcast"] = samples
            result["after_broadcast_rss_mb"] = round(current_rss_mb(), 1)
    finally:
        await bot.stop()
    return result


async def measure(
    chats: int,
    posts: int,
    rate: float,
    broadcast: bool,
    broadcast_for: float | None = None,
    server: str | None = None,
) -> dict[str, Any]:
    """The floor (nothing loaded), then the loaded bot, each in a fresh child; on the
    PostgreSQL server at `server`, if given, else on SQLite."""
    runs: dict[str, dict[str, Any]] = {}
    async with common.DoubleProcess() as double:
        for name, size in (("floor", (0, 0)), ("newsbot", (chats, posts))):
            with tempfile.TemporaryDirectory(prefix="bench-memory-") as folder:
                content = Path(folder) / "content"
                content.mkdir()
                seen = common.write_posts(content, size[1])
                async with common.database(
                    Path(folder), server, chats=size[0], posts=seen
                ) as database:
                    runs[name] = await asyncio.to_thread(
                        common.run_in_child,
                        "bench.memory:newsbot",
                        timeout=3600,
                        base_url=double.base_url,
                        folder=folder,
                        database=database,
                        chats=size[0],
                        rate=rate,
                        broadcast=broadcast,
                        broadcast_for=broadcast_for,
                    )
    assert runs["newsbot"]["posts"] == posts, runs
    return {
        "chats": chats,
        "posts": posts,
        "rate": rate,
        "broadcast": broadcast,
        "broadcast_for": broadcast_for,
        "runs": runs,
    }


def figures(measured: dict[str, Any]) -> list[Figure]:
    """The table: peak RSS against the empty bot, settled and after the broadcast."""
    loaded, empty = measured["runs"]["newsbot"], measured["runs"]["floor"]
    peak = loaded["peak_rss_mb"]
    target = TARGET_MB_MILLION if measured["chats"] > 100_000 else TARGET_MB
    return [
        Figure(
            "peak RSS",
            peak,
            "MB",
            floor=empty["peak_rss_mb"],
            ratio=peak / empty["peak_rss_mb"],
            target=f"< {target:g} MB",
            passed=peak < target,
        ),
        Figure(
            "RSS settled, before the broadcast",
            loaded["settled_rss_mb"],
            "MB",
            floor=empty["settled_rss_mb"],
            ratio=loaded["settled_rss_mb"] / empty["settled_rss_mb"],
        ),
        Figure("start with the archive loaded", loaded["start_seconds"], "s"),
    ]


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Parse the sizes, measure, print the table and write the JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chats", type=int, default=100_000)
    parser.add_argument("--posts", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=1000.0, help="NEWSBOT_RATE")
    parser.add_argument("--no-broadcast", action="store_true", help="measure the idle bot only")
    parser.add_argument(
        "--broadcast-for", type=float, help="seconds of the broadcast to run (default: all of it)"
    )
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, a few seconds")
    common.add_engine_options(parser)
    args = parser.parse_args(argv)
    chats, posts = (200, 100) if args.smoke else (args.chats, args.posts)
    with common.engine_server(args.engine, args.database_url) as server:
        measured = asyncio.run(
            measure(chats, posts, args.rate, not args.no_broadcast, args.broadcast_for, server)
        )
    table = figures(measured)
    common.print_table(f"Memory on {args.engine}: {chats:,} chats, {posts:,} posts", table)
    result = {
        "smoke": args.smoke,
        "engine": args.engine,
        **measured,
        "figures": common.figures_json(table),
    }
    print(common.write_results(common.results_name("memory", args.engine), result))
    return result


if __name__ == "__main__":
    main()
