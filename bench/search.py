"""Search: how long /search takes to find its page in an archive of `--posts` posts.

The archive is real: post files written to a folder (a headline, a summary and a body of two
paragraphs; one post in four in Thai, written without spaces between words as Thai is), read
by `PostLibrary`, and indexed by `SearchIndex.sync`, the way a running bot indexes them.

Then each query of `QUERIES` (common words and rare ones, English and Thai, one and several
terms, short terms) is asked `--repeat` times through `Finder.find`, the whole query path of
/search but Telegram: the reader's words made terms, the FTS5 query with its ranking and page,
and the posts looked up and checked live in the library. The floor is a bare FTS5 query of the
same words on its own connection (`MATCH` of the quoted terms, `ORDER BY rank LIMIT 6`), timed
in the same run, alternating with newsbot's; the figure is newsbot's p99 and its ratio to the
floor's p99.

Run: `python -m bench.search [--posts 100000] [--repeat 30]` or `--smoke`.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sqlite3
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench import common
from bench.common import Figure

TARGET_P99_MS = 50.0
THAI_EVERY = 4
WORDS = [
    "river",
    "harbour",
    "election",
    "budget",
    "rice",
    "export",
    "farmers",
    "flood",
    "drought",
    "school",
    "rail",
    "bridge",
    "court",
    "minister",
    "festival",
    "tourism",
    "temple",
    "market",
    "energy",
    "solar",
    "port",
    "airport",
    "museum",
    "hospital",
    "vaccine",
    "election",
    "coast",
    "fishing",
    "typhoon",
    "mekong",
    "border",
    "trade",
    "currency",
    "bank",
    "startup",
    "football",
]
THAI = ("น้ำท่วม", "เชียงใหม่", "ส่งออกข้าว", "การเลือกตั้ง", "ชาวนา", "ท่าเรือ", "โรงเรียน", "รถไฟ")
#: What readers search for: common and rare, English and Thai, short terms among them.
QUERIES = (
    "river",
    "rice export",
    "flood chiang mai",
    "election minister court",
    "report 4242",
    "ai",
    "mekong ai",
    "น้ำท่วม",
    "ส่งออกข้าว ชาวนา",
    "typhoon coast fishing port",
)


def _sentence(rng: random.Random, count: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(count)).capitalize() + "."


def write_archive(folder: Path, count: int) -> None:
    """`count` post files with varied words, one every seven minutes back from an hour ago."""
    rng = random.Random(7)
    newest = datetime.now(UTC) - timedelta(hours=1)
    for number in range(count):
        date = newest - timedelta(minutes=7 * number)
        if number % THAI_EVERY == 0:
            words = [rng.choice(THAI) for _ in range(12)]
            title = "".join(words[:3]) + f" {number}"
            body = "".join(words[3:8]) + "\n\n" + "".join(words[8:]) + "ในวันนี้"
        else:
            title = f"{_sentence(rng, 5)[:-1]} report {number}"
            body = _sentence(rng, 30) + "\n\n" + _sentence(rng, 40) + " AI" * (number % 7 == 0)
        path = folder / str(date.year) / f"{date:%Y-%m-%d}-story-{number}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(
            "---\n"
            f'code: "S{number:07d}"\n'
            f'title: "{title}"\n'
            f'category: "{common.CATEGORIES[number % len(common.CATEGORIES)]}"\n'
            f"date: {date:%Y-%m-%dT%H:%M:%SZ}\n"
            f'origin_url: "https://news.example.com/{number}"\n'
            "---\n\n" + body + "\n",
            encoding="utf-8",
        )


def _floor_sql(terms: tuple[str, ...]) -> tuple[str, str]:
    """The bare FTS5 query of the same terms: one index, ranked, one page."""
    from bot.store.search import TRIGRAM, fts_string

    long = [fts_string(t) for t in terms if len(t) >= TRIGRAM]
    table = "search_trigrams" if long else "search_words"
    words = " ".join(long or [fts_string(t) for t in terms])
    return f"SELECT rowid FROM {table} WHERE {table} MATCH ? ORDER BY rank LIMIT 6", words


async def measure(posts: int, repeat: int) -> dict[str, Any]:
    """Build the archive and its index, then time newsbot's query path against the floor."""
    from bot.posts import PostLibrary
    from bot.search import Finder, search_terms
    from bot.search_index import SearchIndex
    from bot.store import Store

    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch) / "content"
        started = time.perf_counter()
        write_archive(folder, posts)
        library = PostLibrary(folder)
        library.scan()
        read = time.perf_counter() - started
        store = await Store.open(Path(scratch) / "newsbot.sqlite3")
        try:
            started = time.perf_counter()
            now = datetime.now(UTC)
            await SearchIndex(store).sync(library.posts, now)
            indexing = time.perf_counter() - started
            finder = Finder(store, library)
            bare = sqlite3.connect(Path(scratch) / "newsbot.sqlite3")
            ours: list[float] = []
            floor: list[float] = []
            found: dict[str, int] = {}
            for _ in range(repeat):
                for words in QUERIES:
                    sql, match = _floor_sql(search_terms(words))
                    begun = time.perf_counter()
                    bare.execute(sql, (match,)).fetchall()
                    floor.append(time.perf_counter() - begun)
                    begun = time.perf_counter()
                    results = await finder.find(words, now)
                    ours.append(time.perf_counter() - begun)
                    found[words] = len(results.posts)
            bare.close()
        finally:
            await store.close()
    return {
        "read_seconds": read,
        "index_seconds": indexing,
        "ours": ours,
        "floor": floor,
        "found": found,
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the benchmark, print its table and write `bench/results/search.json`."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, a few seconds")
    args = parser.parse_args(argv)
    posts, repeat = (400, 3) if args.smoke else (args.posts, args.repeat)
    measured = asyncio.run(measure(posts, repeat))
    ours_ms = common.percentile(measured["ours"], 0.99) * 1000
    floor_ms = common.percentile(measured["floor"], 0.99) * 1000
    median_ms = common.median(measured["ours"]) * 1000
    floor_median_ms = common.median(measured["floor"]) * 1000
    figures = [
        Figure(
            "/search query path p99",
            ours_ms,
            "ms",
            floor_ms,
            ours_ms / floor_ms if floor_ms else None,
            f"< {TARGET_P99_MS:g} ms",
            ours_ms < TARGET_P99_MS,
        ),
        Figure(
            "/search query path median",
            median_ms,
            "ms",
            floor_median_ms,
            median_ms / floor_median_ms if floor_median_ms else None,
        ),
        Figure("indexing the archive", measured["index_seconds"], "s"),
    ]
    common.print_table(f"search, {posts:,} posts, {len(QUERIES)} queries x {repeat}", figures)
    result = {
        "smoke": args.smoke,
        "posts": posts,
        "repeat": repeat,
        "queries": list(QUERIES),
        "found": measured["found"],
        "read_seconds": round(measured["read_seconds"], 2),
        "index_seconds": round(measured["index_seconds"], 2),
        "figures": common.figures_json(figures),
    }
    common.write_results("search", result)
    return result


if __name__ == "__main__":
    main()
