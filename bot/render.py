"""Turning a `Post` into the one Bot API call that delivers it, as plain data.

The card a reader gets: category and date, the bold headline, the summary, the source's name as a
link with a category hashtag, and a "Read more" button. With a lead image it is a `sendPhoto`
whose caption holds the card; without one it is a `sendMessage` with a preview of the source.

Telegram counts its limits (1024 for a caption, 4096 for a text) in UTF-16 code units of the
visible text. The card is built from pieces whose visible text and HTML are known separately, so
the summary can be shortened to fit before any HTML exists: escaping happens last, and a cut can
never fall inside a tag, an entity or a surrogate pair.

Every part of the card counts against the limit, and the parts the newsroom does not write as
prose are each cut to a budget of their own first: a category label (`MAX_LABEL`), the date
(`MAX_DATELINE`), the source's name (`MAX_SOURCE_NAME`, however long its host) and the hashtags
(`MAX_TAGS`, whole tags only). Together they take well under half a caption, so the headline
always has room and the card always fits.
"""

from __future__ import annotations

import html
import unicodedata
from dataclasses import dataclass, replace
from datetime import UTC, tzinfo
from typing import Any, Literal
from urllib.parse import urlsplit

from bot.posts import Category, Post, Run

CAPTION_LIMIT = 1024
TEXT_LIMIT = 4096
#: Telegram ignores formatting past 100 entities; stay clear of it with room for the card's own.
MAX_SUMMARY_ENTITIES = 90
MAX_CATEGORIES_SHOWN = 3
MAX_LABEL = 64
MAX_DATELINE = 48
MAX_SOURCE_NAME = 64
MAX_TAGS = 120
ELLIPSIS = "…"
READ_MORE = "Read more"
SHARE = "Share ↗"
#: What starts an inline query that names one article (the "Share" button's, `/share`'s).
SHARE_PREFIX = "post:"
#: The longest inline query Telegram sends is 256 characters; a longer id cannot be shared.
MOST_SHARED_ID = 250
BREAKING = "BREAKING"

_JOINERS = {"\u200d", "\u2060"}


def utf16_len(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units (an emoji is usually 2)."""
    return len(text.encode("utf-16-le")) // 2


@dataclass(frozen=True, slots=True)
class Card:
    """A post as one Bot API call: the method and its exact parameters, without `chat_id`.

    `text` is what the reader sees, without markup; it is used for logs, the terminal preview
    and as the last-resort plain version.
    """

    method: Literal["sendPhoto", "sendMessage"]
    params: dict[str, Any]
    text: str

    @property
    def has_photo(self) -> bool:
        """Whether the call carries a lead image."""
        return self.method == "sendPhoto"


def _escape(text: str) -> str:
    return html.escape(text, quote=False)


def _run_html(run: Run, *, formatted: bool = True) -> str:
    text = _escape(run.text)
    if not formatted:
        return text
    if run.code:
        text = f"<code>{text}</code>"
    else:
        if run.strike:
            text = f"<s>{text}</s>"
        if run.italic:
            text = f"<i>{text}</i>"
        if run.bold:
            text = f"<b>{text}</b>"
    if run.href:
        text = f'<a href="{html.escape(run.href, quote=True)}">{text}</a>'
    return text


def _entity_count(run: Run) -> int:
    return run.code + (not run.code) * (run.bold + run.italic + run.strike) + (run.href is not None)


def _safe_cut(text: str, index: int) -> int:
    """Move a cut point back so it does not split a character from its combining marks."""
    while 0 < index < len(text) and (
        unicodedata.category(text[index]).startswith("M")
        or text[index] in _JOINERS
        or text[index - 1] in _JOINERS
        or "\ufe00" <= text[index] <= "\ufe0f"
    ):
        index -= 1
    return index


def _prefix(text: str, limit: int) -> str:
    """The longest start of `text` of at most `limit` UTF-16 code units."""
    head = text[:limit]
    while (excess := utf16_len(head) - limit) > 0:
        head = head[: len(head) - max(1, excess // 2)]
    return head


def split_text(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """Plain text as pieces of at most `limit` UTF-16 code units, for separate messages.

    Each cut is at the last line break of a piece, else at its last space, else (one very long
    word) where the limit falls, never inside a character or before its combining marks.
    """
    pieces: list[str] = []
    rest = text
    while utf16_len(rest) > limit:
        head = _prefix(rest, limit)
        cut = head.rfind("\n")
        if cut <= 0:
            cut = head.rfind(" ")
        if cut <= 0:
            cut = _safe_cut(rest, len(head)) or len(head)
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    pieces.append(rest)
    return [piece for piece in pieces if piece] or [_prefix(text, limit)]


def shorten(runs: tuple[Run, ...], budget: int) -> tuple[Run, ...]:
    """The runs cut to at most `budget` UTF-16 units, at a word boundary, ending in "…".

    When no word boundary exists (a single long word, or Thai written without spaces) the cut
    falls between characters instead, never inside a surrogate pair or a combining sequence.
    """
    plain = "".join(run.text for run in runs)
    if utf16_len(plain) <= budget:
        return runs
    if budget <= utf16_len(ELLIPSIS):
        return ()
    room = budget - utf16_len(ELLIPSIS)
    cut = units = 0
    for char in plain:
        units += 2 if ord(char) > 0xFFFF else 1
        if units > room:
            break
        cut += 1
    boundary = max((i for i in range(cut, 0, -1) if plain[i].isspace()), default=0)
    cut = boundary or _safe_cut(plain, cut)
    kept = plain[:cut].rstrip(" \t\n\u00a0,;:-–—")
    cut = len(kept)
    shortened: list[Run] = []
    position = 0
    for run in runs:
        if position >= cut:
            break
        piece = run.text[: cut - position]
        position += len(run.text)
        if piece:
            shortened.append(replace(run, text=piece))
    return (*shortened, Run(ELLIPSIS))


def _fit(text: str, budget: int) -> str:
    """Plain text cut to `budget` UTF-16 units, ending in "…" when it was cut."""
    return "".join(run.text for run in shorten((Run(text),), budget))


def _hashtags(categories: tuple[Category, ...], budget: int = MAX_TAGS) -> str:
    """The categories' hashtags, as many whole ones as fit in `budget`."""
    tags = ""
    for category in categories:
        more = f"{tags} #{category.key}" if tags else f"#{category.key}"
        if utf16_len(more) > budget:
            break
        tags = more
    return tags


def site_name(url: str) -> str:
    """A source's display name from its URL: https://www.example-news.com/x -> example-news.com."""
    host = urlsplit(url).hostname or url
    return host.removeprefix("www.")


class _Pieces:
    """Pieces of a card being built, each with its visible text and its HTML."""

    def __init__(self) -> None:
        self.pieces: list[tuple[str, str]] = []

    def add(self, visible: str, markup: str | None = None) -> None:
        self.pieces.append((visible, _escape(visible) if markup is None else markup))

    @property
    def visible(self) -> str:
        return "".join(visible for visible, _ in self.pieces)

    @property
    def html(self) -> str:
        return "".join(markup for _, markup in self.pieces)


def render(
    post: Post,
    *,
    zone: tzinfo = UTC,
    source_name: str | None = None,
    with_image: bool = True,
    image: str | None = None,
    share: bool = False,
) -> Card:
    """The Bot API call that delivers `post`.

    `image` overrides the photo parameter (a cached Telegram `file_id`, say) while keeping the
    caption; `with_image=False` gives the text version used when the image cannot be sent.
    `share` adds a "Share" button, which opens the inline query of this one article in a chat
    the reader picks.
    """
    photo = (image or post.image or post.photo_id) if with_image else None
    limit = CAPTION_LIMIT if photo else TEXT_LIMIT

    moment = post.date_in(zone)
    dateline = f"{moment.day} {moment:%b %Y}"
    if post.has_time:
        dateline = f"{dateline}, {moment:%H:%M} {moment.tzname() or ''}".rstrip()
    shown = post.categories[:MAX_CATEGORIES_SHOWN]
    labels = [_fit(c.name, MAX_LABEL) for c in shown]
    if post.breaking and BREAKING not in (name.upper() for name in labels):
        labels.insert(0, BREAKING)
    header = " · ".join([*labels, _fit(dateline, MAX_DATELINE)])
    footer = _Pieces()
    if post.url:
        name = _fit(source_name or site_name(post.url), MAX_SOURCE_NAME)
        footer.add(name, f'<a href="{html.escape(post.url, quote=True)}">{_escape(name)}</a>')
    tags = _hashtags(shown)
    if tags:
        footer.add(" · " if post.url else "")
        footer.add(tags)

    fixed = utf16_len(header) + utf16_len(footer.visible) + 2  # the line breaks around the title
    title = shorten((Run(post.title),), max(limit - fixed - 16, 16))
    fixed += utf16_len("".join(r.text for r in title))
    summary = post.summary
    blank_lines = 4 if footer.pieces else 2  # "\n\n" before the summary and before the footer
    if summary:
        summary = shorten(summary, limit - fixed - blank_lines)

    body = _Pieces()
    body.add(header, f"<i>{_escape(header)}</i>")
    body.add("\n")
    title_text = "".join(r.text for r in title)
    body.add(title_text, f"<b>{_escape(title_text)}</b>")
    entities = 3 + (post.url is not None)
    for index, run in enumerate(summary):
        if index == 0:
            body.add("\n\n")
        entities += _entity_count(run)
        body.add(run.text, _run_html(run, formatted=entities <= MAX_SUMMARY_ENTITIES))
    if footer.pieces:
        body.add("\n\n")
        body.pieces.extend(footer.pieces)

    params: dict[str, Any] = {"parse_mode": "HTML"}
    if photo:
        params.update(photo=photo, caption=body.html)
    else:
        params["text"] = body.html
        params["link_preview_options"] = (
            {"url": post.url, "prefer_large_media": True} if post.url else {"is_disabled": True}
        )
    row: list[dict[str, str]] = []
    if post.url:
        row.append({"text": READ_MORE, "url": post.url})
    if share and (query := share_query(post)) is not None:
        row.append({"text": SHARE, "switch_inline_query": query})
    if row:
        params["reply_markup"] = {"inline_keyboard": [row]}
    return Card("sendPhoto" if photo else "sendMessage", params, body.visible)


def share_query(post: Post) -> str | None:
    """The inline query that offers exactly this post, or None when its id is too long."""
    return None if len(post.id) > MOST_SHARED_ID else SHARE_PREFIX + post.id


def preview_record(post: Post, card: Card) -> dict[str, Any]:
    """The JSON shape of `newsbot preview --json`: the post as read, and the call it becomes."""
    category = post.category
    return {
        "post": {
            "id": post.id,
            "title": post.title,
            "summary": post.summary_text,
            "category": category.name if category else None,
            "category_key": category.key if category else None,
            "date": post.date.isoformat(),
            "url": post.url,
            "image": post.image,
            "language": post.language,
        },
        "method": card.method,
        "params": card.params,
    }
