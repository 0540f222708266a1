"""Restart: from start to the first delivery with a large backlog of pending deliveries.

After a crash or a deploy in the middle of a broadcast, the queue in the database holds every
pending delivery. This measures, in a fresh interpreter, the time from constructing `Newsbot`
to the first message the double accepts, with `--pending` deliveries pending (one post to that
many chats). The floor is the same restart with a single pending delivery, so the ratio is what
the backlog itself costs. On SQLite, or with `--engine postgresql` on a PostgreSQL server.

Run: `python -m bench.restart [--pending 100000] [--repeat 3] [--engine sqlite|postgresql]` or
`--smoke`.
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

#: What the issue asks of a restart with a million deliveries pending.
TARGET_SECONDS = 2.0


async def newsbot(base_url: str, folder: str, database: str) -> dict[str, Any]:
    """Start the bot and time the first delivery; stop at once."""
    from bot.app import Newsbot

    os.chdir(folder)  # where the posts cache goes with PostgreSQL
    content = Path(folder) / "content"
    started = time.perf_counter()
    bot = Newsbot(common.settings(base_url, content, database, rate=30.0))
    await bot.start()
    try:
        ready = time.perf_counter() - started
        await common.wait_until(lambda: bot.sender.sent >= 1, 120, interval=0.001)
        first = time.perf_counter() - started
    finally:
        await bot.stop()
    return {"start_seconds": ready, "first_delivery_seconds": first}


async def measure(pending: int, repeat: int, server: str | None = None) -> dict[str, Any]:
    """Alternate restarts with one pending delivery and with `pending`, each in a fresh child;
    on the PostgreSQL server at `server`, if given, else on SQLite."""
    runs: dict[str, list[dict[str, Any]]] = {"floor": [], "newsbot": []}
    async with common.DoubleProcess() as double:
        for _ in range(repeat):
            for name, size in (("floor", 1), ("newsbot", pending)):
                with tempfile.TemporaryDirectory(prefix="bench-restart-") as folder:
                    async with common.breaking_pending(Path(folder), size, server) as database:
                        runs[name].append(
                            await asyncio.to_thread(
                                common.run_in_child,
                                "bench.restart:newsbot",
                                base_url=double.base_url,
                                folder=folder,
                                database=database,
                            )
                        )
    return {
        "pending": pending,
        "repeat": repeat,
        "first_delivery_seconds": common.median(
            [r["first_delivery_seconds"] for r in runs["newsbot"]]
        ),
        "floor_first_delivery_seconds": common.median(
            [r["first_delivery_seconds"] for r in runs["floor"]]
        ),
        "runs": runs,
    }


def figures(measured: dict[str, Any]) -> list[Figure]:
    """The table: time to the first delivery against the restart with one pending."""
    first, floor = measured["first_delivery_seconds"], measured["floor_first_delivery_seconds"]
    return [
        Figure(
            "start to first delivery",
            first,
            "s",
            floor=floor,
            ratio=first / floor,
            target=f"< {TARGET_SECONDS:g} s",
            passed=first < TARGET_SECONDS,
        ),
        Figure(
            "peak RSS",
            common.median([r["peak_rss_mb"] for r in measured["runs"]["newsbot"]]),
            "MB",
            floor=common.median([r["peak_rss_mb"] for r in measured["runs"]["floor"]]),
        ),
    ]


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Parse the sizes, measure, print the table and write the JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pending", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each, median kept")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, a few seconds")
    common.add_engine_options(parser)
    args = parser.parse_args(argv)
    pending, repeat = (500, 1) if args.smoke else (args.pending, args.repeat)
    with common.engine_server(args.engine, args.database_url) as server:
        measured = asyncio.run(measure(pending, repeat, server))
    table = figures(measured)
    common.print_table(f"Restart on {args.engine}: {pending:,} deliveries pending", table)
    result = {
        "smoke": args.smoke,
        "engine": args.engine,
        **measured,
        "figures": common.figures_json(table),
    }
    print(common.write_results(common.results_name("restart", args.engine), result))
    return result


if __name__ == "__main__":
    main()
