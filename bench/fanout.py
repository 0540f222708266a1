"""Fan-out: one post to many subscribed chats with the overall rate limit lifted.

Telegram allows up to 1,000 messages a second to a bot with paid broadcasts, the most
`NEWSBOT_RATE` accepts. The bot runs in this benchmark's child process, the Bot API double in
another, on loopback. Measured from the moment the post file appears to the last chat's message:
finding it, queueing one delivery per chat in SQLite, sending, and recording every outcome.

The floor is the least code that sends the same messages: python-telegram-bot's
`Bot.send_message` in a loop, at the sender's concurrency, against the same double, with no
database. Its ratio is floor msg/s ÷ newsbot msg/s (1.0 = newsbot costs nothing on top).
Because newsbot never exceeds its configured rate and the floor has no limit, the ratio is also
reported against the floor held to the same rate (`paced floor`), which is what it could be.

Run: `python -m bench.fanout [--chats 100000] [--rate 1000] [--repeat 1] [--latency 0]`, or
`--smoke`. `--latency 0.05` makes the double answer each send after 50 ms, as Telegram does from
far away; more messages are then in flight at once.
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

TARGET_RATE = 1000.0
TARGET_RATIO = 1.3


async def floor(
    base_url: str, chats: int, concurrency: int, rate: float | None = None
) -> dict[str, Any]:
    """Bare PTB: `concurrency` workers calling `send_message` with newsbot's card, no database.

    With `rate`, every call first waits its turn from newsbot's own `Pace` at that rate, so the
    figure is the most a sender held to that rate can do.
    """
    from telegram import Bot, InlineKeyboardMarkup, LinkPreviewOptions
    from telegram.error import RetryAfter
    from telegram.request import HTTPXRequest

    from bot.pace import Pace, seconds
    from bot.posts import parse_post
    from bot.render import render

    post = parse_post(Path("breaking.md"), common.post_text(1, date=_now(), image=False).encode())
    params = render(post).params
    ids = common.chat_ids(chats)
    bot = Bot(
        common.TOKEN,
        base_url=base_url,
        request=HTTPXRequest(connection_pool_size=concurrency, pool_timeout=30.0),
    )
    await bot.initialize()
    pace = Pace(rate) if rate else None
    position = 0
    sent = 0

    async def worker() -> None:
        nonlocal position, sent
        while position < len(ids):
            chat = ids[position]
            position += 1
            if pace is not None:
                await pace.turn()
            while True:
                try:
                    await bot.send_message(
                        chat,
                        text=params["text"],
                        parse_mode=params["parse_mode"],
                        link_preview_options=LinkPreviewOptions(**params["link_preview_options"]),
                        reply_markup=InlineKeyboardMarkup.de_json(params["reply_markup"], bot),
                    )
                    break
                except RetryAfter as exc:  # only the unpaced floor can go past the rate
                    await asyncio.sleep(seconds(exc.retry_after))
            sent += 1

    cpu, wall = time.process_time(), time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    connections = common.connections_to(base_url)
    await bot.shutdown()
    return {"sent": sent, "seconds": wall, "cpu_seconds": cpu, "connections": connections}


def _now() -> Any:
    from datetime import UTC, datetime, timedelta

    return datetime.now(UTC) - timedelta(minutes=1)


async def newsbot(base_url: str, folder: str, chats: int, rate: float) -> dict[str, Any]:
    """The real bot: start it idle, drop a post file in, wait for every chat's message."""
    from bot.app import Newsbot
    from bot.store import Status

    content, database = Path(folder) / "content", Path(folder) / "newsbot.sqlite3"
    bot = Newsbot(common.settings(base_url, content, database, rate=rate))
    await bot.start()
    try:
        await asyncio.sleep(0.5)  # the first scan and queue pass find nothing
        cpu, wall = time.process_time(), time.perf_counter()
        common.write_breaking_post(content)
        bot.rescan()
        first: float | None = None
        while bot.sender.sent < chats:
            if first is None and bot.sender.sent:
                first = time.perf_counter() - wall
            await asyncio.sleep(0.01)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        connections = common.connections_to(base_url)
        await common.wait_until(lambda: bot.sender.pending_outcomes == 0, 30)
        counts = await bot.store.delivery_counts()
    finally:
        await bot.stop()
    assert counts == {Status.SENT: chats}, counts
    return {
        "sent": chats,
        "seconds": wall,
        "cpu_seconds": cpu,
        "connections": connections,
        "first_message_after": first,
        "failed": bot.sender.failed,
    }


def _rates(result: dict[str, Any]) -> tuple[float, float]:
    """Messages a second and CPU seconds per 1,000 messages."""
    return result["sent"] / result["seconds"], 1000 * result["cpu_seconds"] / result["sent"]


async def measure(chats: int, rate: float, repeat: int = 1, latency: float = 0.0) -> dict[str, Any]:
    """Seed the database, then run the floor, the paced floor and newsbot, each in a fresh
    child, `repeat` times in turn (so a busy spell on the machine hits all three alike)."""
    concurrency = common.sender_concurrency(rate)
    variants = (
        ("floor", "bench.fanout:floor", {"concurrency": concurrency}),
        ("paced_floor", "bench.fanout:floor", {"concurrency": concurrency, "rate": rate}),
        ("newsbot", "bench.fanout:newsbot", {"rate": rate}),
    )
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name, _, _ in variants}
    # The double enforces Telegram's limits with the overall one lifted to `rate`, so a pace
    # that let more than `rate` messages through in some second would show as 429s.
    flood = f"{rate:.0f},1,20"
    async with common.DoubleProcess(flood=flood, latency=latency) as double:
        for _ in range(repeat):
            for name, target, kwargs in variants:
                with tempfile.TemporaryDirectory(prefix="bench-fanout-") as folder:
                    if name == "newsbot":
                        (Path(folder) / "content").mkdir()
                        await common.seed_database(Path(folder) / "newsbot.sqlite3", chats=chats)
                        kwargs = {**kwargs, "folder": folder}
                    double_cpu = double.cpu_seconds()
                    floods = (await double.stats())["flood_errors"]
                    run = await asyncio.to_thread(
                        common.run_in_child, target, base_url=double.base_url, chats=chats, **kwargs
                    )
                run["double_cpu_seconds"] = double.cpu_seconds() - double_cpu
                run["flood_errors"] = (await double.stats())["flood_errors"] - floods
                runs[name].append(run)
        stats = await double.stats()
    expected = 3 * chats * repeat
    assert stats["sent"] == expected, f"the double saw {stats['sent']} messages, not {expected}"
    # Each variant's figures come from its run of median speed.
    chosen = {
        name: sorted(found, key=lambda r: r["sent"] / r["seconds"])[len(found) // 2]
        for name, found in runs.items()
    }
    return {
        "chats": chats,
        "rate": rate,
        "latency": latency,
        "concurrency": concurrency,
        "repeat": repeat,
        "runs": chosen,
        "all_runs": runs,
    }


def figures(measured: dict[str, Any]) -> list[Figure]:
    """The table: newsbot's figures, each against its floor."""
    runs = measured["runs"]
    speed, cpu = _rates(runs["newsbot"])
    floor_speed, floor_cpu = _rates(runs["floor"])
    paced_speed, _ = _rates(runs["paced_floor"])
    ceiling = measured["rate"]
    return [
        Figure(
            "messages/s",
            speed,
            "msg/s",
            floor=floor_speed,
            ratio=floor_speed / speed,
            target=f">= {TARGET_RATE:,.0f} msg/s; ratio <= {TARGET_RATIO}",
            passed=speed >= TARGET_RATE and floor_speed / speed <= TARGET_RATIO,
        ),
        Figure(
            "messages/s vs paced floor",
            speed,
            "msg/s",
            floor=paced_speed,
            ratio=paced_speed / speed,
            target=f"ratio <= {TARGET_RATIO}",
            passed=paced_speed / speed <= TARGET_RATIO,
        ),
        Figure("share of the rate ceiling", speed / ceiling, "", floor=1.0, ratio=speed / ceiling),
        Figure("CPU s per 1,000 messages", cpu, "s", floor=floor_cpu, ratio=cpu / floor_cpu),
        Figure(
            "peak RSS",
            runs["newsbot"]["peak_rss_mb"],
            "MB",
            floor=runs["floor"]["peak_rss_mb"],
            ratio=runs["newsbot"]["peak_rss_mb"] / runs["floor"]["peak_rss_mb"],
        ),
        Figure(
            "connections to the double at the end",
            runs["newsbot"]["connections"],
            "",
            floor=runs["paced_floor"]["connections"],
        ),
        Figure(
            "429 Too Many Requests",
            runs["newsbot"]["flood_errors"],
            "",
            target="0",
            passed=runs["newsbot"]["flood_errors"] == 0,
        ),
        Figure("post file to first message", runs["newsbot"]["first_message_after"] or 0, "s"),
    ]


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Parse the sizes, measure, print the table and write the JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chats", type=int, default=100_000)
    parser.add_argument("--rate", type=float, default=TARGET_RATE)
    parser.add_argument("--repeat", type=int, default=1, help="runs of each, median kept")
    parser.add_argument(
        "--latency", type=float, default=0.0, help="seconds the double takes to answer a send"
    )
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, a few seconds")
    args = parser.parse_args(argv)
    chats = 300 if args.smoke else args.chats
    measured = asyncio.run(measure(chats, args.rate, args.repeat, args.latency))
    table = figures(measured)
    title = f"Fan-out: one post to {chats:,} chats at rate {args.rate:g}"
    if args.latency:
        title += f", {args.latency * 1000:g} ms answers"
    common.print_table(title, table)
    result = {"smoke": args.smoke, **measured, "figures": common.figures_json(table)}
    print(common.write_results("fanout", result))
    return result


if __name__ == "__main__":
    main()
