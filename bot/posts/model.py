"""What a post is: the `Post` value a reader sees, its parts, and the small pure rules on them.

Everything here is a plain value or a pure function: no files, no parsing, no Telegram. The
rules that decide what may reach a reader live here because every stage relies on them: only
`safe_url` lets a link or an image through (which keeps `javascript:` and `file:` out of
messages), and `category_key` is the one spelling of a category's command.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, tzinfo
from pathlib import Path
from urllib.parse import urlsplit

CATEGORY_KEY_LENGTH = 32

#: A language code as readers and posts write it: "en", "th", "en-US", "zh_Hant".
LANGUAGE_CODE = re.compile(r"([a-z]{2,3})(?:[-_][a-z0-9]{1,8})*")
#: Whitespace (Unicode's, as `str.isspace` knows it) or a control character (category Cc).
_SPACE_OR_CONTROL = re.compile(r"[\s\x00-\x1f\x7f-\x9f]")


@dataclass(frozen=True, slots=True)
class Category:
    """A section of the newsroom: its display name and the key used for commands."""

    name: str
    key: str


@dataclass(frozen=True, slots=True)
class Run:
    """A stretch of summary text sharing one set of inline formatting.

    Keeping the summary as runs of plain text (rather than as HTML or Markdown) lets the
    renderer escape every character itself and shorten the text without ever cutting markup.
    """

    text: str
    bold: bool = False
    italic: bool = False
    strike: bool = False
    code: bool = False
    href: str | None = None


@dataclass(frozen=True, slots=True)
class Post:
    """One article as a reader will see it."""

    id: str
    path: Path
    title: str
    summary: tuple[Run, ...]
    date: datetime
    categories: tuple[Category, ...] = ()
    url: str | None = None
    image: str | None = None
    language: str | None = None
    published: bool = True
    retracted: bool = False
    breaking: bool = False
    photo_id: str | None = None
    """A Telegram `file_id` for the lead image, for breaking news sent as a photo by an editor."""
    digest: str = ""
    has_time: bool = True
    """False when the post's date has no time of day (`date: 2026-11-20`, or the file name's):
    a card then shows the date alone, never an invented "00:00"."""
    warnings: tuple[str, ...] = ()
    """What a newsroom should fix although the post loads (shown by `newsbot check`)."""
    tags: tuple[str, ...] = ()
    """The front matter's `tags`: words readers' filters match (`bot.filters`)."""

    @property
    def summary_text(self) -> str:
        """The summary without formatting."""
        return "".join(run.text for run in self.summary)

    @property
    def category(self) -> Category | None:
        """The post's main (first) category."""
        return self.categories[0] if self.categories else None

    @property
    def card_digest(self) -> str:
        """A hash of everything a reader's card shows.

        It changes when an edit of the file should reach readers (headline, summary, image,
        link, categories, retraction) and not when only the rest of the article changed.
        """
        shown = repr(
            (self.title, self.summary, self.image, self.photo_id, self.url, self.categories,
             self.date.isoformat(), self.retracted or not self.published, self.breaking)
        )  # fmt: skip
        if not self.has_time:  # only then: every other post's digest stays what it was
            shown += " date only"
        return hashlib.sha256(shown.encode()).hexdigest()

    def date_in(self, zone: tzinfo) -> datetime:
        """The post's date as a reader in `zone` reads it: its moment there when it has a time
        of day; a date alone is the day the newsroom wrote, in its own zone, never shifted."""
        return self.date.astimezone(zone) if self.has_time else self.date

    def is_live(self, now: datetime) -> bool:
        """Whether readers may see the post at `now`: published, not retracted, not future."""
        return self.published and not self.retracted and self.date <= now


@dataclass(frozen=True, slots=True)
class Rejection:
    """A file that was not loaded, and why."""

    path: Path
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


@dataclass(frozen=True, slots=True)
class Notice:
    """Something a newsroom should fix although newsbot reads its posts: a file, and why."""

    path: Path
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


def safe_url(value: object) -> str | None:
    """The URL when it is an absolute http(s) URL, else None.

    Everything a reader can tap goes through here, which is what keeps `javascript:` and
    `file:` links out of messages.
    """
    if not isinstance(value, str):
        return None
    url = value.strip()
    if not url or _SPACE_OR_CONTROL.search(url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return url


def category_key(name: str) -> str:
    """The command key for a category name: "Asia Pacific" -> "asia_pacific".

    Telegram commands allow 1-32 characters of a-z, 0-9 and _. Names with no Latin letters at
    all (Thai, say) get a stable key derived from a hash, so they still have a command.
    """
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    key = re.sub(r"[^a-z0-9]+", "_", ascii_name.lower()).strip("_")
    key = key[:CATEGORY_KEY_LENGTH].rstrip("_")
    if not key:
        key = "c_" + hashlib.sha1(name.encode()).hexdigest()[:8]  # noqa: S324 - not security
    return key


def tags_of(value: object) -> tuple[str, ...]:
    """Front matter `tags` as Jekyll reads them: a list, or a string split on whitespace."""
    if isinstance(value, str):
        return tuple(value.split())
    if isinstance(value, list):
        return tuple(" ".join(str(item).split()) for item in value if item is not None)
    return ()


def primary_language(code: str | None) -> str | None:
    """The language part of a code, lower-cased: "en-US" -> "en"; None when there is none."""
    if not code:
        return None
    match = LANGUAGE_CODE.fullmatch(code.strip().lower())
    return match.group(1) if match else code.strip().lower() or None
