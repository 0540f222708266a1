"""Content: reading a newsroom's archive of posts cold, and rescanning it when nothing changed.

Cold: `PostLibrary.scan()` of a fresh library over generated posts (front matter like the
newsroom's, five paragraphs of Markdown), in a fresh interpreter, as the bot does at start. Its
floor is the least work any reader of these files must do: `frontmatter.load` of each file.
Measured twice: at a restart, when the posts cache (`bot/posts/cache.py`) holds what the last run
read, and at the first start ever, when it is empty and every file's Markdown is parsed.

Rescan: the same library scanned again with nothing changed, which newsbot does every
`NEWSBOT_SCAN_SECONDS` and on every file event. Its floor is a walk of the folder with one
`stat` per file, the least work that can notice a change.

Run: `python -m bench.content [--posts 10000] [--repeat 3]` or `--smoke`.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import common
from bench.common import Figure

TARGET_COLD_RATIO = 1.5
TARGET_RESCAN_SECONDS = 0.050
RESCANS = 7


def _files(root: Path) -> list[str]:
    from bot.posts import post_files

    return sorted(post_files(root))


def floor_cold(folder: str) -> dict[str, Any]:
    """`frontmatter.load` of every post file."""
    import frontmatter

    files = _files(Path(folder))
    started = time.perf_counter()
    for path in files:
        frontmatter.load(path)
    return {"files": len(files), "seconds": time.perf_counter() - started}


def newsbot_cold(folder: str, cache: str) -> dict[str, Any]:
    """`PostLibrary.scan()` from nothing with the posts cache at `cache`, then rescans with
    nothing changed."""
    from bot.posts import PostCache, PostLibrary

    library = PostLibrary(Path(folder), cache=PostCache(Path(cache)))
    started = time.perf_counter()
    report = library.scan()
    cold = time.perf_counter() - started
    rescans = []
    for _ in range(RESCANS):
        started = time.perf_counter()
        again = library.scan()
        rescans.append(time.perf_counter() - started)
        assert not again.anything_changed
    return {
        "posts": len(library.posts),
        "rejected": len(report.rejected),
        "seconds": cold,
        "rescan_seconds": rescans,
    }


def floor_rescan(folder: str) -> dict[str, Any]:
    """A walk of the folder and a `stat` of each file, `RESCANS` times."""
    times = []
    for _ in range(RESCANS):
        started = time.perf_counter()
        count = 0
        for directory, _, names in os.walk(folder):
            for name in names:
                os.stat(os.path.join(directory, name))
                count += 1
        times.append(time.perf_counter() - started)
    return {"files": count, "rescan_seconds": times}


def measure(posts: int, repeat: int) -> dict[str, Any]:
    """Write the posts, then alternate floor and newsbot runs, each in a fresh child."""
    with (
        tempfile.TemporaryDirectory(prefix="bench-content-") as folder,
        tempfile.TemporaryDirectory(prefix="bench-content-cache-") as cache_folder,
    ):
        common.write_posts(Path(folder), posts)
        cache = Path(cache_folder) / "posts-cache.sqlite3"
        runs: dict[str, list[dict[str, Any]]] = {
            name: [] for name in ("floor", "first_start", "newsbot", "walk")
        }
        for _ in range(repeat):
            runs["floor"].append(common.run_in_child("bench.content:floor_cold", folder=folder))
            cache.unlink(missing_ok=True)
            for name in ("first_start", "newsbot"):  # the first fills the cache for the second
                runs[name].append(
                    common.run_in_child(
                        "bench.content:newsbot_cold", folder=folder, cache=str(cache)
                    )
                )
            runs["walk"].append(common.run_in_child("bench.content:floor_rescan", folder=folder))
    newsbot = runs["newsbot"]
    for run in newsbot + runs["first_start"]:
        assert run["posts"] == posts and run["rejected"] == 0, run
    return {
        "posts": posts,
        "repeat": repeat,
        "cold_seconds": common.median([r["seconds"] for r in newsbot]),
        "first_start_seconds": common.median([r["seconds"] for r in runs["first_start"]]),
        "floor_cold_seconds": common.median([r["seconds"] for r in runs["floor"]]),
        "rescan_seconds": common.median([t for r in newsbot for t in r["rescan_seconds"]]),
        "floor_rescan_seconds": common.median(
            [t for r in runs["walk"] for t in r["rescan_seconds"]]
        ),
        "peak_rss_mb": common.median([r["peak_rss_mb"] for r in newsbot]),
        "floor_peak_rss_mb": common.median([r["peak_rss_mb"] for r in runs["floor"]]),
        "runs": runs,
    }


def figures(measured: dict[str, Any]) -> list[Figure]:
    """The table: cold load and rescan against their floors."""
    cold, floor = measured["cold_seconds"], measured["floor_cold_seconds"]
    first = measured["first_start_seconds"]
    rescan, walk = measured["rescan_seconds"], measured["floor_rescan_seconds"]
    posts = measured["posts"]
    return [
        Figure(
            "cold load",
            cold,
            "s",
            floor=floor,
            ratio=cold / floor,
            target=f"<= {TARGET_COLD_RATIO} x floor",
            passed=cold / floor <= TARGET_COLD_RATIO,
        ),
        Figure("cold load per post", 1e6 * cold / posts, "us", floor=1e6 * floor / posts),
        Figure(
            "cold load, first start ever",
            first,
            "s",
            floor=floor,
            ratio=first / floor,
            target=f"<= {TARGET_COLD_RATIO} x floor",
            passed=first / floor <= TARGET_COLD_RATIO,
        ),
        Figure(
            "rescan, nothing changed",
            1000 * rescan,
            "ms",
            floor=1000 * walk,
            ratio=rescan / walk,
            target=f"< {TARGET_RESCAN_SECONDS * 1000:g} ms",
            passed=rescan < TARGET_RESCAN_SECONDS,
        ),
        Figure(
            "peak RSS after loading",
            measured["peak_rss_mb"],
            "MB",
            floor=measured["floor_peak_rss_mb"],
            ratio=measured["peak_rss_mb"] / measured["floor_peak_rss_mb"],
        ),
    ]


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Parse the sizes, measure, print the table and write the JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each, median kept")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, a few seconds")
    args = parser.parse_args(argv)
    posts, repeat = (200, 1) if args.smoke else (args.posts, args.repeat)
    measured = measure(posts, repeat)
    table = figures(measured)
    common.print_table(f"Content: {posts:,} posts", table)
    result = {"smoke": args.smoke, **measured, "figures": common.figures_json(table)}
    print(common.write_results("content", result))
    return result


if __name__ == "__main__":
    main()
