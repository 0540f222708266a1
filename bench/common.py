"""Shared pieces of the benchmarks: the machine, results, generated content, the double.

Every benchmark compares a figure with a floor measured in the same run (the same work done by
the least code that can do it), because absolute times depend on the machine and on whatever
else it is doing. Measurements that report peak memory run in a fresh interpreter each
(`run_in_child`), since a process's peak RSS only ever grows.

The benchmarks that touch the database run on either engine (`--engine sqlite|postgresql`):
`database` seeds an SQLite file in bulk and, for PostgreSQL, copies it into a fresh database of
its own on a server started for the run (`bench/postgres.py`) or given (`--database-url`).
Their results go to `<name>.json` on SQLite and `<name>-postgresql.json` on PostgreSQL.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import json
import os
import platform
import resource
import sqlite3
import statistics
import sys
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

# RetryAfter warns about its future type unless this is set (as the tests and `newsbot run` do).
os.environ.setdefault("PTB_TIMEDELTA", "1")

ROOT = Path(__file__).resolve().parents[1]
#: Where results go; the smoke test points this elsewhere so it never overwrites a real run's.
RESULTS = Path(os.environ.get("NEWSBOT_BENCH_RESULTS") or ROOT / "bench" / "results")
TOKEN = "123456789:AAbenchmarkBENCHMARKbenchmark_0000"
RESULT_MARK = "BENCH-RESULT "
#: The number of the breaking post the broadcast benchmarks send.
BREAKING = 9_999_999
CATEGORIES = ("World", "Business", "Thailand", "Asia Pacific", "Sport", "Tech", "Life", "Opinion")
FIRST_CHAT = 1_000_000
SUPERGROUP_BASE = -1_001_000_000_000
#: One chat in this many is a supergroup; the rest are private chats.
GROUP_EVERY = 10


# --- the machine and the results -----------------------------------------------------------------


def machine() -> dict[str, Any]:
    """What the figures came from: cores, CPU model, Python, and how busy the machine was."""
    model = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "nproc": os.cpu_count(),
        "cpu": model,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def peak_rss_mb() -> float:
    """This process's peak resident memory so far, in MB (Linux reports KB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def write_results(name: str, payload: dict[str, Any]) -> Path:
    """Write `bench/results/<name>.json` with the machine and the time of the run."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    document = {
        "benchmark": name,
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "argv": sys.argv[1:],
        "machine": machine(),
        **payload,
    }
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    return path


@dataclass(frozen=True, slots=True)
class Figure:
    """One line of a benchmark's table: a value, its floor and ratio, and its target."""

    name: str
    value: float
    unit: str = ""
    floor: float | None = None
    ratio: float | None = None
    target: str = ""
    passed: bool | None = None

    def as_json(self) -> dict[str, Any]:
        """The figure as a JSON object."""
        return {
            "value": round(self.value, 4),
            "unit": self.unit,
            "floor": None if self.floor is None else round(self.floor, 4),
            "ratio": None if self.ratio is None else round(self.ratio, 3),
            "target": self.target,
            "passed": self.passed,
        }


def _number(value: float | None) -> str:
    if value is None:
        return "-"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.3g}"


def print_table(title: str, figures: Sequence[Figure]) -> None:
    """Print the figures as an aligned text table."""
    rows = [("figure", "value", "floor", "ratio", "target", "")]
    for f in figures:
        verdict = "" if f.passed is None else ("PASS" if f.passed else "MISS")
        rows.append(
            (
                f.name,
                f"{_number(f.value)} {f.unit}".strip(),
                _number(f.floor),
                "-" if f.ratio is None else f"{f.ratio:.2f}",
                f.target,
                verdict,
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    print(f"\n{title}")
    for index, row in enumerate(rows):
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
        if index == 0:
            print("  ".join("-" * width for width in widths))
    sys.stdout.flush()


def figures_json(figures: Sequence[Figure]) -> dict[str, Any]:
    """The figures keyed by name, for the JSON file."""
    return {f.name: f.as_json() for f in figures}


def percentile(values: Sequence[float], fraction: float) -> float:
    """The value below which `fraction` of `values` lie (nearest rank)."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(fraction * len(ordered) + 0.5) - 1))
    return ordered[index]


def median(values: Sequence[float]) -> float:
    """The median, or NaN for no values."""
    return statistics.median(values) if values else float("nan")


# --- measuring in a fresh interpreter -----------------------------------------------------------


def run_in_child(target: str, timeout: float = 1800, **kwargs: Any) -> dict[str, Any]:
    """Run `module:function(**kwargs)` in a fresh interpreter and return its JSON result.

    The child adds its own peak RSS, so each measurement's memory is its own. Its stderr (the
    bot's warnings, a traceback) goes straight to ours.
    """
    import subprocess

    completed = subprocess.run(
        [sys.executable, "-m", "bench.child", target, json.dumps(kwargs)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        timeout=timeout,
        check=False,
    )
    for line in reversed(completed.stdout.splitlines()):
        if line.startswith(RESULT_MARK):
            result: dict[str, Any] = json.loads(line.removeprefix(RESULT_MARK))
            return result
    raise RuntimeError(f"{target} failed (exit {completed.returncode}); its stderr is above")


def connections_to(url: str) -> int:
    """TCP connections this process holds open to the host and port of `url` (from /proc).

    The connection pool of httpx grows to as many connections as requests were ever in flight
    at once, and every request then costs more; this shows how far it grew.
    """
    from urllib.parse import urlsplit

    port = urlsplit(url).port
    sockets = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            sockets.add(target[len("socket:[") : -1])
    count = 0
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        remote_port = int(fields[2].split(":")[1], 16)
        if remote_port == port and fields[3] == "01" and fields[9] in sockets:
            count += 1
    return count


def cpu_seconds_of(pid: int) -> float:
    """User plus system CPU seconds of another live process, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# --- generated content and databases ------------------------------------------------------------

PARAGRAPH = (
    "Officials said on {weekday} that the {thing} would be reviewed by a committee of "
    "**independent experts** before the end of the year, and that residents in _{place}_ "
    "would be asked for their views at [public hearings](https://example.com/hearings/{n}). "
    "Critics say the plan leaves too many questions open about cost, timing and who pays."
)
PLACES = ("Chiang Mai", "Khon Kaen", "Hat Yai", "Udon Thani", "Phuket", "Nakhon Ratchasima")
THINGS = ("flood barrier", "rail link", "solar programme", "port expansion", "school plan")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday")


def post_text(number: int, *, date: datetime, title: str | None = None, image: bool = True) -> str:
    """A realistic post file: front matter like the newsroom's and a body of Markdown.

    Three posts in four are written by hand: a title, five paragraphs. The fourth is shaped like
    the newsroom's scraped imports (see the seed post): no title in the front matter, an empty
    heading, the headline as the first paragraph, a captioned photo, then twelve paragraphs.
    """
    category = CATEGORIES[number % len(CATEGORIES)]
    place = PLACES[number % len(PLACES)]
    thing = THINGS[number % len(THINGS)]
    headline = title or f"{place} weighs {thing} as costs rise, report {number}"
    scraped = image and title is None and number % 4 == 0
    lines = [
        "---",
        "layout: post",
        f'code: "BENCH{number:07d}"',
        f'title: "{"" if scraped else headline}"',
        f'description: "A short description of story {number} for listings."',
        f'category: "{category}"',
        'language: "en"',
        f"date: {date.strftime('%Y-%m-%dT%H:%M:%SZ')}",
        f'origin_url: "https://news.example.com/{category.lower().replace(" ", "-")}/{number}"',
    ]
    if image:
        lines.append(f'image: "https://img.example.com/{number}.jpg"')
    lines += ["---", ""]
    if scraped:
        caption = f"Residents of {place} at a hearing on the {thing} on {WEEKDAYS[number % 5]}."
        lines += ["# ", "", headline, "", f"![{caption}](https://img.example.com/{number}-1.jpg)"]
        lines += ["", caption, ""]
    for paragraph in range(12 if scraped else 5):
        lines.append(
            PARAGRAPH.format(
                weekday=WEEKDAYS[(number + paragraph) % len(WEEKDAYS)],
                thing=thing,
                place=place,
                n=number * 10 + paragraph,
            )
        )
        lines.append("")
    return "\n".join(lines)


def post_id(number: int) -> str:
    """The id of generated post `number` (its `code`)."""
    return f"BENCH{number:07d}"


def write_posts(
    folder: Path, count: int, *, newest: datetime | None = None, start: int = 0
) -> list[tuple[str, str]]:
    """Write `count` post files, one every seven minutes back from `newest`, in year folders.

    Returns (id, digest) of each, for recording them in a database as already seen.
    """
    newest = newest or datetime.now(UTC) - timedelta(hours=1)
    written: list[tuple[str, str]] = []
    for number in range(start, start + count):
        date = newest - timedelta(minutes=7 * (number - start))
        raw = post_text(number, date=date, image=number % 3 != 0).encode()
        path = folder / str(date.year) / f"{date:%Y-%m-%d}-story-{number}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(raw)
        written.append((post_id(number), hashlib.sha256(raw).hexdigest()))
    return written


def write_breaking_post(folder: Path, number: int = BREAKING) -> str:
    """A fresh text-only post (a sendMessage card, as the floor sends); returns its id."""
    raw = post_text(number, date=datetime.now(UTC) - timedelta(minutes=1), image=False)
    (folder / f"breaking-{number}.md").write_text(raw, encoding="utf-8")
    return post_id(number)


@contextlib.asynccontextmanager
async def breaking_pending(folder: Path, chats: int, server: str | None) -> AsyncIterator[str]:
    """A content folder with one breaking post, and a database (a file in `folder`, or one on
    `server`) with it pending for `chats` chats: a broadcast cut off, as a restart finds it."""
    content = folder / "content"
    content.mkdir()
    raw = post_text(BREAKING, date=datetime.now(UTC) - timedelta(minutes=5), image=False).encode()
    (content / "breaking.md").write_bytes(raw)
    async with database(
        folder,
        server,
        chats=chats,
        pending_post=(post_id(BREAKING), hashlib.sha256(raw).hexdigest()),
    ) as url:
        yield url


def chat_ids(count: int) -> list[int]:
    """Chat ids: mostly private chats, one in `GROUP_EVERY` a supergroup."""
    return [
        SUPERGROUP_BASE - i if i % GROUP_EVERY == GROUP_EVERY - 1 else FIRST_CHAT + i
        for i in range(count)
    ]


async def seed_database(
    path: Path,
    *,
    chats: int,
    posts: Sequence[tuple[str, str]] = (),
    pending_post: tuple[str, str] | None = None,
) -> None:
    """A database made by `Store.open` (so migrations ran), filled in bulk.

    `chats` chats subscribed to everything; `posts` (id, digest) recorded as already seen, so
    no start queues them; `pending_post` (id, digest) recorded too and queued, pending, for
    every chat. The archive counts as taken, so the first start does not archive what it finds.
    """
    from bot.store import Store

    store = await Store.open(path)
    await store.set_setting("archive_taken", "yes")
    await store.close()
    now = time.time()
    ids = chat_ids(chats)
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        connection.execute("BEGIN")
        connection.executemany(
            "INSERT INTO chats (id, type, title, active, subscribed_at) VALUES (?, ?, ?, 1, ?)",
            ((c, "private" if c > 0 else "supergroup", None, now) for c in ids),
        )
        connection.executemany(
            "INSERT INTO subscriptions (chat_id, category) VALUES (?, '*')", ((c,) for c in ids)
        )
        recorded = list(posts)
        if pending_post is not None:
            recorded.append(pending_post)
        connection.executemany(
            "INSERT INTO posts (id, digest, first_seen, archived) VALUES (?, ?, ?, 0)",
            ((post, digest, now) for post, digest in recorded),
        )
        if pending_post is not None:
            connection.executemany(
                "INSERT INTO deliveries (post_id, chat_id, created_at, updated_at) "
                "VALUES (?, ?, ?, ?)",
                ((pending_post[0], c, now, now) for c in ids),
            )
        connection.execute("COMMIT")
    finally:
        connection.close()


# --- the engine ---------------------------------------------------------------------------------

ENGINES = ("sqlite", "postgresql")


def add_engine_options(parser: argparse.ArgumentParser) -> None:
    """`--engine` and `--database-url`, for a benchmark that runs on either engine."""
    parser.add_argument("--engine", choices=ENGINES, default="sqlite", help="database engine")
    parser.add_argument(
        "--database-url",
        help="with --engine postgresql: a server to use (postgresql://... of a user that may "
        "create databases); by default one is started on loopback for the run",
    )


def results_name(name: str, engine: str) -> str:
    """The results file of benchmark `name` on `engine`, without `.json`."""
    return name if engine == "sqlite" else f"{name}-{engine}"


@contextlib.contextmanager
def engine_server(engine: str, database_url: str | None = None) -> Iterator[str | None]:
    """For PostgreSQL, the URL of a server for the whole benchmark (started with PostgreSQL's
    durable defaults, stopped after); for SQLite, None."""
    if engine == "sqlite":
        yield None
        return
    from bench import postgres

    with postgres.server(database_url, durable=True) as url:
        yield url


@contextlib.asynccontextmanager
async def database(
    folder: Path, server: str | None, *, name: str = "newsbot.sqlite3", **seed: Any
) -> AsyncIterator[str]:
    """A seeded database (see `seed_database`) for one run: the SQLite file `folder/name`, or,
    with a PostgreSQL `server`, a fresh database there holding a copy of it (dropped after)."""
    path = folder / name
    await seed_database(path, **seed)
    if server is None:
        yield str(path)
        return
    from bench import postgres

    async with postgres.fresh_database(server) as url:
        await postgres.seed_from(path, url)
        yield url


def settings(
    api_url: str, content: Path, database: Path | str, *, rate: float = 30.0, **overrides: Any
) -> Any:
    """Bot settings for a benchmark: the double's URL, these folders, and the given rate."""
    from bot.settings import Settings

    # Servers the bot may open (metrics, webhook) listen on loopback, on a free port, so a
    # benchmark never competes with a running bot or a test for one.
    for name, value in (("listen", "127.0.0.1:0"), ("metrics_port", 0)):
        if name in Settings.model_fields:
            overrides.setdefault(name, value)
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        telegram_bot_token=TOKEN,
        telegram_api_url=api_url,
        content_dir=content,
        database=database,
        rate=rate,
        **overrides,
    )


def sender_concurrency(rate: float) -> int:
    """The sender's number of messages in flight at `rate`, as `bot/app.py` chooses it."""
    import math

    return max(8, min(128, math.ceil(rate / 10)))


# --- the double in its own process --------------------------------------------------------------


class DoubleProcess:
    """`bench/double_process.py` as a child process, with its stdin/stdout protocol."""

    def __init__(
        self, *, flood: str | None = None, latency: float = 0.0, faults: str | None = None
    ) -> None:
        self._flood = flood
        self._latency = latency
        self._faults = faults
        self._process: asyncio.subprocess.Process | None = None
        self.port = 0

    async def __aenter__(self) -> DoubleProcess:
        extra = ["--flood", self._flood] if self._flood else []
        if self._latency:
            extra += ["--latency", str(self._latency)]
        if self._faults:
            extra += ["--faults", self._faults]
        self._process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bench.double_process",
            *extra,
            cwd=ROOT,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            limit=64 * 1024 * 1024,
        )
        assert self._process.stdout is not None
        first = await asyncio.wait_for(self._process.stdout.readline(), 30)
        if not first:
            raise RuntimeError("the double process did not start")
        self.port = int(json.loads(first)["port"])
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        process = self._process
        if process is None:
            return
        assert process.stdin is not None
        process.stdin.close()
        try:
            await asyncio.wait_for(process.wait(), 10)
        except TimeoutError:
            process.kill()
            await process.wait()

    @property
    def pid(self) -> int:
        """The double's process id."""
        assert self._process is not None
        return self._process.pid

    @property
    def base_url(self) -> str:
        """The Bot API base URL, for `Settings.telegram_api_url`."""
        return f"http://127.0.0.1:{self.port}/bot"

    async def ask(self, op: str, **fields: Any) -> dict[str, Any]:
        """Send one request line and read its answer."""
        process = self._process
        assert process is not None and process.stdin is not None and process.stdout is not None
        process.stdin.write((json.dumps({"op": op, **fields}) + "\n").encode())
        await process.stdin.drain()
        answer: dict[str, Any] = json.loads(await process.stdout.readline())
        return answer

    async def stats(self) -> dict[str, Any]:
        """Counters: sent, first/last send time, statuses, flood errors, watched chats."""
        return await self.ask("stats")

    def cpu_seconds(self) -> float:
        """CPU seconds the double has used so far."""
        return cpu_seconds_of(self.pid)


async def wait_until(predicate: Any, seconds: float, interval: float = 0.05) -> None:
    """Poll an (async or plain) predicate until it holds; TimeoutError after `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        value = predicate()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"condition not met within {seconds}s")
        await asyncio.sleep(interval)
