"""Posts already read, kept between starts, so a restart does not parse the whole archive again.

Reading a post costs far more than loading its file: the Markdown body is parsed for the
headline, the summary and the lead image, several times the work of the YAML front matter. A
newsroom's archive hardly changes between two starts of the bot, so each parsed `Post` is kept
in a small SQLite file beside the database, under a key made of the file's path, its exact
bytes and the reading rules themselves (`reading_rules`). Any change to any of them is a new
key, so a stale entry can never be used: it is simply never asked for again, and the next full
scan forgets it.

The reading rules are exactly what decides the `Post` a file's bytes become, and nothing more:

- the source of `bot/posts/parse.py`, where bytes become a `Post`;
- the source of `bot/posts/model.py`, because the values kept here depend on it too: `safe_url`
  and `category_key` decide a post's links, image and category keys, so a stricter `safe_url`
  must never be bypassed by an entry read under the old one; and `Post`'s fields are what
  `dump_post` writes;
- the sources of `bot/posts/limits.py` and `bot/posts/tidy.py`, the budgets a file's reading
  must stay within: a file refused under a budget must be read again when the budget changes;
- the sources of `bot/posts/site.py` and of every module of `bot/posts/jekyll`, how a Jekyll
  site's post becomes a `Post`; and, in the key of each of a site's posts, the site's own rules
  (`Site.rules`: its `_config.yml` as read, its language folders, the address newsbot was given
  for it), so that editing `_config.yml` reads every post of the site again;
- `ENTRY_FORMAT`, this module's own layout of an entry, bumped by hand when `dump_post` changes;
- the versions of the parsers `parse.py` and `site.py` use (Markdown, front matter, YAML, HTML,
  Liquid).

`library.py` (finding files, scans, the index) is not among them, so changing how the folder is
walked or indexed keeps every installation's cache. This module imports the modules of the
reading rules only, never `library`, which uses it.

The cache is disposable. Deleting the file costs one slower start; a corrupt or unreadable file
is reported once and the bot reads every post the slow way.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
from collections.abc import Callable, Iterable
from datetime import datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from bot.posts import jekyll, limits, model, parse, site, tidy
from bot.posts.model import Category, Post, Run

log = logging.getLogger(__name__)

#: The layout of one entry as `dump_post` writes it; part of every key.
ENTRY_FORMAT = 3
#: The modules whose source decides how a file becomes a `Post` (see the module docstring).
RULE_SOURCES: tuple[Path, ...] = tuple(
    Path(str(module.__file__)) for module in (parse, model, limits, tidy, site)
) + tuple(sorted(Path(str(jekyll.__file__)).parent.glob("*.py")))
#: The distributions `parse.py` reads posts with.
PARSERS = (
    "markdown-it-py",
    "python-frontmatter",
    "PyYAML",
    "markdownify",  # HTML posts
    "beautifulsoup4",
    "python-liquid",  # Jekyll sites
)


def reading_rules(read_source: Callable[[Path], bytes] = Path.read_bytes) -> bytes:
    """A digest of what decides how a file becomes a `Post`: `RULE_SOURCES` as `read_source`
    returns them, `ENTRY_FORMAT` and the parsers' versions."""
    digest = hashlib.sha256(f"entry format {ENTRY_FORMAT}\0".encode())
    for path in RULE_SOURCES:
        source = read_source(path)
        digest.update(f"{path.name} {len(source)}\0".encode())
        digest.update(source)
    digest.update(",".join(metadata.version(name) for name in PARSERS).encode())
    return digest.digest()


_RULES = reading_rules()


def cache_key(path: Path, raw: bytes, rules: bytes = _RULES, site: bytes = b"") -> str:
    """The key of one file's reading: its path, its bytes, the reading rules, and the rules of
    the Jekyll site it belongs to (`Site.rules`: its configuration), if any."""
    digest = hashlib.sha256(rules)
    digest.update(site)
    digest.update(b"\0")
    digest.update(str(path).encode("utf-8", "surrogateescape"))
    digest.update(b"\0")
    digest.update(raw)
    return digest.hexdigest()


def dump_post(post: Post) -> str:
    """A post as JSON, without its path (the key already stands for it)."""
    return json.dumps(
        [
            post.id,
            post.title,
            [[r.text, r.bold, r.italic, r.strike, r.code, r.href] for r in post.summary],
            post.date.isoformat(),
            [[c.name, c.key] for c in post.categories],
            post.url,
            post.image,
            post.language,
            post.published,
            post.retracted,
            post.breaking,
            post.photo_id,
            post.digest,
            post.has_time,
            list(post.warnings),
            list(post.tags),
        ],
        ensure_ascii=False,
        separators=(",", ":"),
    )


def load_post(path: Path, text: str) -> Post:
    """The `Post` that `dump_post` wrote, at `path`."""
    fields: list[Any] = json.loads(text)
    (post_id, title, summary, moment, categories, url, image, language) = fields[:8]
    published, retracted, breaking, photo_id, digest, has_time, warnings, tags = fields[8:]
    return Post(
        id=post_id,
        path=path,
        title=title,
        summary=tuple(Run(*run) for run in summary),
        date=datetime.fromisoformat(moment),
        categories=tuple(Category(*category) for category in categories),
        url=url,
        image=image,
        language=language,
        published=published,
        retracted=retracted,
        breaking=breaking,
        photo_id=photo_id,
        digest=digest,
        has_time=has_time,
        warnings=tuple(warnings),
        tags=tuple(tags),
    )


class PostCache:
    """Parsed posts by `cache_key`, in an SQLite file of their own.

    Used from the thread that scans the content folder, one scan at a time. Everything found
    in the file is read once, at the first scan; new readings are written in one transaction
    at the end of each scan (`save`).
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._connection: sqlite3.Connection | None = None
        self._known: dict[str, str] | None = None
        self._new: dict[str, str] = {}
        self._broken = False

    def _open(self) -> sqlite3.Connection | None:
        if self._connection is None and not self._broken:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                connection = sqlite3.connect(self.path, check_same_thread=False)
                connection.execute(
                    "CREATE TABLE IF NOT EXISTS posts (key TEXT PRIMARY KEY, post TEXT NOT NULL)"
                )
                self._connection = connection
            except sqlite3.Error as exc:
                self._give_up(exc)
        return self._connection

    def _give_up(self, exc: Exception) -> None:
        log.warning("post cache unusable, reading every post in full path=%s error=%s",
                    self.path, exc)  # fmt: skip
        self._broken = True
        self._known = {}
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def recall(self, path: Path, raw: bytes, site: bytes = b"") -> tuple[str, Post | None]:
        """This file's key, and the post read from the same path and bytes (and the same
        site configuration, `site`) before, if any."""
        key = cache_key(path, raw, site=site)
        if self._known is None:
            self._known = {}
            connection = self._open()
            if connection is not None:
                try:
                    self._known = dict(connection.execute("SELECT key, post FROM posts"))
                except sqlite3.Error as exc:
                    self._give_up(exc)
        text = self._known.get(key)
        if text is None:
            return key, None
        try:
            return key, load_post(path, text)
        except (ValueError, TypeError, KeyError):
            return key, None  # unreadable entry: read the file again

    def keep(self, key: str, post: Post) -> None:
        """Remember a post just read; written at the next `save`."""
        self._new[key] = dump_post(post)

    def save(self, in_use: Iterable[str] | None = None) -> None:
        """Write what was read since the last save; with `in_use` (every key of a full scan),
        also forget every entry not among them."""
        if not self._new and in_use is None:
            return
        connection = self._open()
        if connection is None:
            self._new.clear()
            return
        try:
            with connection:
                if self._new:
                    connection.executemany(
                        "INSERT OR REPLACE INTO posts (key, post) VALUES (?, ?)",
                        self._new.items(),
                    )
                if in_use is not None:
                    keep = set(in_use)
                    stale = [(key,) for key in (self._known or {}) if key not in keep]
                    connection.executemany("DELETE FROM posts WHERE key = ?", stale)
                    self._known = {}  # the first scan is over; later ones ask only for new files
        except sqlite3.Error as exc:
            self._give_up(exc)
        self._new.clear()

    def close(self) -> None:
        """Close the file."""
        if self._connection is not None:
            self._connection.close()
            self._connection = None
