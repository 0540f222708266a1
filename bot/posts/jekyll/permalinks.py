"""The address Jekyll gives a post: its permalink template, filled in and cleaned as Jekyll does.

A post's address is its front matter `permalink` when it has one, else the site's template (a
built-in style such as "date" or "pretty", or a custom pattern). Either is a pattern of
placeholders (`jekyll/drops/url_drop.rb`): `:categories`, `:year`, `:month`, `:i_month`, `:day`,
`:i_day`, `:short_year`, `:hour`, `:minute`, `:second`, `:title`, `:slug`, `:name`,
`:output_ext`, `:y_day`, `:week`, `:w_year`, `:w_day`, `:short_day`, `:long_day`,
`:short_month`, `:long_month`, `:path`, `:collection`, `:slugified_categories`.

Each value is escaped for a URL path (`URL.escape_path`) and the result is cleaned
(`URL#sanitize_url`: ".." becomes "/", "./" is removed, repeated "/" collapse, one leading "/").
Dates are the post's date in the site's time zone, as Jekyll's are; month and day names are
English whatever the machine's locale.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from posixpath import splitext

from bot.errors import PostError

from ._ruby import ruby_str
from .slugs import slugify

_PLACEHOLDER = re.compile(r":([a-z_]+)")
_PLAIN_PATH = re.compile(r"[a-zA-Z0-9./-]+")
#: What `Addressable::URI.encode` leaves as it is in a path, a query or a fragment.
_URL_SAFE = frozenset(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$&'()*+,;=:@/?"
)
_MONTH_NAMES = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
)  # fmt: skip
_DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass(frozen=True, slots=True)
class PermalinkParts:
    """What a post's address is made of, as Jekyll's `UrlDrop` sees the post."""

    date: datetime
    """The post's date in the site's time zone."""
    slug: str
    """The front matter `slug`, else the title part of the file name."""
    basename: str
    """The file name without its extension ("2014-09-08-hello")."""
    categories: Sequence[str] = ()
    path: str = ""
    """Jekyll's cleaned relative path, for `:path`."""
    output_ext: str = ".html"
    collection: str = "posts"

    def placeholders(self) -> dict[str, str]:
        """Every placeholder's value, before escaping."""
        return {name: self.value(name) for name in _VALUES}

    def value(self, name: str) -> str:
        """One placeholder's value, before escaping; KeyError for an unknown name."""
        return _VALUES[name](self)


def _categories(parts: PermalinkParts) -> str:
    return "/".join(dict.fromkeys(c.lower() for c in parts.categories))


def _slugified_categories(parts: PermalinkParts) -> str:
    return "/".join(dict.fromkeys(slugify(c) for c in parts.categories))


def _iso(parts: PermalinkParts, index: int) -> int:
    return parts.date.isocalendar()[index]


_VALUES: dict[str, Callable[[PermalinkParts], str]] = {
    "collection": lambda p: p.collection,
    "name": lambda p: slugify(p.basename),
    "title": lambda p: slugify(p.slug, "pretty", cased=True),
    "slug": lambda p: slugify(p.slug),
    "categories": _categories,
    "slugified_categories": _slugified_categories,
    "year": lambda p: f"{p.date.year:04d}",
    "month": lambda p: f"{p.date.month:02d}",
    "day": lambda p: f"{p.date.day:02d}",
    "hour": lambda p: f"{p.date.hour:02d}",
    "minute": lambda p: f"{p.date.minute:02d}",
    "second": lambda p: f"{p.date.second:02d}",
    "i_day": lambda p: str(p.date.day),
    "i_month": lambda p: str(p.date.month),
    "short_month": lambda p: _MONTH_NAMES[p.date.month - 1][:3],
    "long_month": lambda p: _MONTH_NAMES[p.date.month - 1],
    "short_year": lambda p: f"{p.date.year % 100:02d}",
    "w_year": lambda p: str(_iso(p, 0)),
    "week": lambda p: f"{_iso(p, 1):02d}",
    "w_day": lambda p: str(_iso(p, 2)),
    "short_day": lambda p: _DAY_NAMES[_iso(p, 2) - 1][:3],
    "long_day": lambda p: _DAY_NAMES[_iso(p, 2) - 1],
    "y_day": lambda p: f"{p.date.timetuple().tm_yday:03d}",
    "output_ext": lambda p: p.output_ext,
    "path": lambda p: p.path,
}


def expand(template: str, parts: PermalinkParts) -> str:
    """`template` with each placeholder replaced by its escaped value (`URL#generate_url`).

    A name followed by "_" may be the name alone (`:month_:day`). An unknown placeholder is a
    `PostError`: Jekyll stops the whole build on one, and a guessed address would be wrong.
    """
    pieces = _compiled(template)
    if isinstance(pieces, str):
        raise PostError(f"the permalink {template!r} has an unknown placeholder :{pieces}")
    out: list[str] = []
    for literal, name in pieces:
        out.append(literal)
        if name:
            out.append(escape_path(parts.value(name)))
    return "".join(out)


@lru_cache(maxsize=256)
def _compiled(template: str) -> tuple[tuple[str, str], ...] | str:
    """A template as (text, placeholder) pairs, or the first unknown placeholder's name.

    Sites use one or two templates for thousands of posts: each is read once.
    """
    pieces: list[tuple[str, str]] = []
    position = 0
    for found in _PLACEHOLDER.finditer(template):
        name = found[1]
        key = name if name in _VALUES else name[:-1] if name.endswith("_") else ""
        if key not in _VALUES:
            return name
        pieces.append((template[position : found.start()], key))
        position = found.start() + len(key) + 1
    pieces.append((template[position:], ""))
    return tuple(pieces)


def escape_path(value: str) -> str:
    """A placeholder's value made safe for a URL path, as Jekyll's `URL.escape_path` does.

    Letters outside ASCII, spaces and the like are percent-encoded as UTF-8; "#" becomes "%23";
    the characters a URL path may hold (including "?", which Jekyll leaves alone) stay.
    """
    if not value or _PLAIN_PATH.fullmatch(value):
        return value
    out: list[str] = []
    for char in value:
        if char in _URL_SAFE:
            out.append(char)
        else:
            out.extend(f"%{byte:02X}" for byte in char.encode("utf-8"))
    return "".join(out)


def sanitize_url(url: str) -> str:
    """Jekyll's `URL#sanitize_url`: one leading "/", no "..", no "./", no repeated "/"."""
    cleaned = f"/{url}".replace("..", "/").replace("./", "")
    return re.sub(r"/{2,}", "/", cleaned)


def output_ext(permalink: object) -> str:
    """The extension of the page Jekyll writes: the front matter permalink's own, else ".html"."""
    if isinstance(permalink, str) and permalink and not permalink.endswith("/"):
        name = permalink.rsplit("/", 1)[-1]
        ext = splitext(name)[1]
        if ext:
            return ext
    return ".html"


def post_url(template: str, parts: PermalinkParts, permalink: object = None) -> str:
    """The post's address within the site ("/2014/09/08/hello.html"), without `baseurl`.

    `permalink` is the front matter's (after `defaults`); when it is text it replaces the
    site's `template`, and may use the same placeholders.
    """
    own = ruby_str(permalink) if isinstance(permalink, str | int | float) else ""
    if isinstance(permalink, bool):
        own = ""
    chosen = own if own else template
    return sanitize_url(expand(chosen, parts))
