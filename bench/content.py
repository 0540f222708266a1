"""Content: reading a newsroom's archive of posts cold, and rescanning it when nothing changed.

Cold: `PostLibrary.scan()` of a fresh library over generated posts (front matter like the
newsroom's, five paragraphs of Markdown), in a fresh interpreter, as the bot does at start. Its
floor is the least work any reader of these files must do: `frontmatter.load` of each file.
Measured twice: at a restart, when the posts cache (`bot/posts/cache.py`) holds what the last run
read, and at the first start ever, when it is empty and every file's Markdown is parsed.

Rescan: the same library scanned again with nothing changed, which newsbot does every
`NEWSBOT_SCAN_SECONDS` and on every file event. Its floor is a walk of the folder with one
`stat` per file, the least work that can notice a change.

Both are measured twice: on a flat folder of posts shaped like the newsroom's, and on a generated
Jekyll site of as many posts (`write_site`: `_config.yml`, a `_posts` folder per section, the
front matter themes use, Liquid and kramdown in the bodies), whose floor is `frontmatter.load`
of the same post files.

Run: `python -m bench.content [--posts 10000] [--repeat 3]` or `--smoke`.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench import common
from bench.common import Figure

TARGET_COLD_RATIO = 1.5
TARGET_RESCAN_SECONDS = 0.050
RESCANS = 7


SITE_CONFIG = """\
title: Bench News
url: https://news.example.com
baseurl: /site
permalink: /:categories/:year/:month/:day/:title/
timezone: Asia/Bangkok
lang: en
defaults:
  - scope: {path: "", type: posts}
    values: {layout: post}
"""
SITE_SECTIONS = ("", "world", "business", "sport")


def write_site(folder: Path, count: int) -> None:
    """A Jekyll site of `count` posts, as a newsroom's would be: `_config.yml`, a `_posts`
    folder per section (and one at the root), the front matter Jekyll themes use (a date with
    an offset, `categories`, an `image` that is a site path), bodies with Liquid in links and
    kramdown attribute lists, one post in ten with a description and one in ten date-only."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "_config.yml").write_text(SITE_CONFIG, encoding="utf-8")
    newest = datetime.now(UTC) - timedelta(hours=1)
    for number in range(count):
        date = newest - timedelta(minutes=7 * number)
        section = SITE_SECTIONS[number % len(SITE_SECTIONS)]
        text = common.post_text(number, date=date, title=f"Story {number} of the site")
        meta, body = text.split("---\n", 2)[1:]
        lines = [
            "---",
            f'title: "Story {number} of the site"',
            f"date: {date:%Y-%m-%d}"
            if number % 10 == 5
            else f"date: {date:%Y-%m-%d %H:%M:%S} +0000",
            f"categories: [{section or 'news'}, Asia]",
            f"image: /assets/{date:%Y}/{number}.jpg",
        ]
        if number % 10 == 0:
            lines.append(f'description: "A short description of story {number}."')
        del meta
        body = body.replace("](https://example.com/", "]({{ site.baseurl }}/").replace(
            ").", '){:target="_blank"}.', 1
        )
        path = folder / section / "_posts" / f"{date:%Y}" / f"{date:%Y-%m-%d}-story-{number}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join([*lines, "---", body]), encoding="utf-8")


def _files(root: Path) -> list[str]:
    from bot.posts import post_files
    from bot.posts.jekyll import find_posts, is_site_root, load_config

    if is_site_root(root):
        return sorted(str(file.path) for file in find_posts(root, load_config(root)))
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


def measure(posts: int, repeat: int, layout: str = "flat") -> dict[str, Any]:
    """Write the posts (a flat folder, or a Jekyll `site`), then alternate floor and newsbot
    runs, each in a fresh child."""
    with (
        tempfile.TemporaryDirectory(prefix="bench-content-") as folder,
        tempfile.TemporaryDirectory(prefix="bench-content-cache-") as cache_folder,
    ):
        if layout == "site":
            write_site(Path(folder), posts)
        else:
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


def figures(measured: dict[str, Any], prefix: str = "") -> list[Figure]:
    """The table: cold load and rescan against their floors (names after `prefix`)."""
    cold, floor = measured["cold_seconds"], measured["floor_cold_seconds"]
    first = measured["first_start_seconds"]
    rescan, walk = measured["rescan_seconds"], measured["floor_rescan_seconds"]
    posts = measured["posts"]
    return [
        Figure(
            prefix + "cold load",
            cold,
            "s",
            floor=floor,
            ratio=cold / floor,
            target=f"<= {TARGET_COLD_RATIO} x floor",
            passed=cold / floor <= TARGET_COLD_RATIO,
        ),
        Figure(prefix + "cold load per post", 1e6 * cold / posts, "us", floor=1e6 * floor / posts),
        Figure(
            prefix + "cold load, first start ever",
            first,
            "s",
            floor=floor,
            ratio=first / floor,
            target=f"<= {TARGET_COLD_RATIO} x floor",
            passed=first / floor <= TARGET_COLD_RATIO,
        ),
        Figure(
            prefix + "rescan, nothing changed",
            1000 * rescan,
            "ms",
            floor=1000 * walk,
            ratio=rescan / walk,
            target=f"< {TARGET_RESCAN_SECONDS * 1000:g} ms",
            passed=rescan < TARGET_RESCAN_SECONDS,
        ),
        Figure(
            prefix + "peak RSS after loading",
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
    site = measure(posts, repeat, layout="site")
    table = figures(measured) + figures(site, prefix="Jekyll site: ")
    common.print_table(f"Content: {posts:,} posts, a flat folder and a Jekyll site", table)
    result = {
        "smoke": args.smoke,
        **measured,
        "site": site,
        "figures": common.figures_json(table),
    }
    print(common.write_results("content", result))
    return result


if __name__ == "__main__":
    main()
