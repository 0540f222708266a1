"""Pace: a broadcast at the default 30 msg/s against a double that enforces Telegram's limits.

The double answers 429 "Too Many Requests" the moment more than 30 messages leave in any one
second, more than one a second reaches a private chat, or more than 20 a minute reach a group:
the limits Telegram documents. newsbot should never see one, and still use the allowance: the
floor here is the ceiling itself, 30 msg/s, and the figure is the share of it newsbot reaches
from the moment the post file appears to the last chat's message.

Run: `python -m bench.pace [--chats 3000] [--rate 30]` or `--smoke`.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import common
from bench.common import Figure

TARGET_SHARE = 0.95


async def newsbot(base_url: str, folder: str, chats: int, rate: float) -> dict[str, Any]:
    """Start the bot idle, drop a post file in, and wait for every chat's message."""
    from bot.app import Newsbot
    from bot.store import Status

    content, database = Path(folder) / "content", Path(folder) / "newsbot.sqlite3"
    bot = Newsbot(common.settings(base_url, content, database, rate=rate))
    await bot.start()
    try:
        await asyncio.sleep(0.5)
        cpu, wall = time.process_time(), time.perf_counter()
        common.write_breaking_post(content)
        bot.rescan()
        await common.wait_until(lambda: bot.sender.sent >= chats, 60 + 3 * chats / rate, 0.02)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        await common.wait_until(lambda: bot.sender.pending_outcomes == 0, 30)
        counts = await bot.store.delivery_counts()
    finally:
        await bot.stop()
    assert counts == {Status.SENT: chats}, counts
    return {"sent": chats, "seconds": wall, "cpu_seconds": cpu}


def busiest_second(times: list[float]) -> int:
    """The most sends in any one-second window (half-open, as the double counts them)."""
    most, start = 0, 0
    for end, at in enumerate(times):
        while times[start] <= at - 1.0:
            start += 1
        most = max(most, end - start + 1)
    return most


async def measure(chats: int, rate: float) -> dict[str, Any]:
    """Seed, start the double with flood limits, run newsbot in a fresh child."""
    with tempfile.TemporaryDirectory(prefix="bench-pace-") as folder:
        (Path(folder) / "content").mkdir()
        await common.seed_database(Path(folder) / "newsbot.sqlite3", chats=chats)
        async with common.DoubleProcess(flood="30,1,20") as double:
            run = await asyncio.to_thread(
                common.run_in_child,
                "bench.pace:newsbot",
                base_url=double.base_url,
                folder=folder,
                chats=chats,
                rate=rate,
            )
            stats = await double.stats()
            times = (await double.ask("times"))["sent_at"]
    return {
        "chats": chats,
        "rate": rate,
        "run": run,
        "flood_errors": stats["flood_errors"],
        "statuses": stats["statuses"],
        "double_sent": stats["sent"],
        "busiest_second": busiest_second(times),
        "double_span_seconds": (times[-1] - times[0]) if len(times) > 1 else 0.0,
    }


def figures(measured: dict[str, Any]) -> list[Figure]:
    """The table: rate against the ceiling, 429s, the busiest second, CPU."""
    run, ceiling = measured["run"], 30.0
    speed = run["sent"] / run["seconds"]
    return [
        Figure(
            "messages/s over the run",
            speed,
            "msg/s",
            floor=ceiling,
            ratio=speed / ceiling,
            target=f">= {TARGET_SHARE:.0%} of {ceiling:g} msg/s",
            passed=speed >= TARGET_SHARE * ceiling,
        ),
        Figure(
            "429 Too Many Requests",
            measured["flood_errors"],
            "",
            target="0",
            passed=measured["flood_errors"] == 0,
        ),
        Figure(
            "busiest one-second window",
            measured["busiest_second"],
            "msg",
            floor=ceiling,
            ratio=measured["busiest_second"] / ceiling,
            target=f"<= {ceiling:g}",
            passed=measured["busiest_second"] <= ceiling,
        ),
        Figure("CPU s per 1,000 messages", 1000 * run["cpu_seconds"] / run["sent"], "s"),
        Figure("peak RSS", run["peak_rss_mb"], "MB"),
    ]


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Parse the sizes, measure, print the table and write the JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chats", type=int, default=3000)
    parser.add_argument("--rate", type=float, default=30.0, help="NEWSBOT_RATE")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, a few seconds")
    args = parser.parse_args(argv)
    chats = 45 if args.smoke else args.chats
    measured = asyncio.run(measure(chats, args.rate))
    table = figures(measured)
    common.print_table(f"Pace: {chats:,} chats at {args.rate:g} msg/s, flood limits on", table)
    result = {"smoke": args.smoke, **measured, "figures": common.figures_json(table)}
    print(common.write_results("pace", result))
    return result


if __name__ == "__main__":
    main()
