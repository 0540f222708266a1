"""The reading rules: how one post file's bytes become a `Post`.

A post file is YAML front matter plus a Markdown (or HTML) body. From it newsbot derives what a
reader sees: a headline, a lead image, a one-paragraph summary with its inline formatting, the
categories and the source link. Newsrooms write these files by hand and by script, so every
reading rule here is forgiving of shape (BOMs, CRLF, legacy encodings, `categories` as a string)
and strict about safety (only http(s) links ever leave this module, through `safe_url`).

`parse_post` is pure: bytes and a path in, a `Post` or a `PostError` with a one-line reason
out; it never touches the file system. That is what lets the posts cache key a reading by this
module's source: anything that changes how bytes become a `Post` belongs here (or in `model`,
`limits` and `tidy`, which bound what one file may cost), and nothing else does.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time
from enum import Enum
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import frontmatter
import yaml
from markdown_it import MarkdownIt
from markdown_it.rules_core import inline as parse_inline
from markdown_it.rules_core import text_join
from markdown_it.rules_core.state_core import StateCore
from markdown_it.token import Token
from markdownify import markdownify

from bot.errors import PostError
from bot.posts.limits import HTML_HEAD, BudgetedYAML, body_head, check_date, inline_head
from bot.posts.model import Category, Post, Run, category_key, safe_url, tags_of
from bot.posts.tidy import tidy_html

MAX_FILE_BYTES = 1024 * 1024
#: A first paragraph no longer than this, on one line, can stand in for a missing title.
MAX_TITLE_PARAGRAPH = 160
MAX_CATEGORY_NAME = 64

_FILE_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})-")
_markdown = MarkdownIt("commonmark", {"html": True}).enable("strikethrough")
# Block structure only: the inline parse is most of Markdown's cost, and a post needs it for its
# first few blocks alone (`Block` does it on first use, as the core's own two rules would).
_block_markdown = MarkdownIt("commonmark", {"html": True}).enable("strikethrough")
_block_markdown.disable(["inline", "text_join"])


def parse_post(path: Path, raw: bytes) -> Post:
    """Turn one file's bytes into a `Post`, or raise `PostError` with a one-line reason."""
    if len(raw) > MAX_FILE_BYTES:
        raise PostError(f"file is larger than {MAX_FILE_BYTES // 1024} KB")
    text = decode(raw)
    if not text.lstrip().startswith("---"):
        raise PostError("no front matter (a post starts with a '---' line)")
    try:
        document = frontmatter.loads(text, handler=BudgetedYAML())
    except PostError:
        raise
    except yaml.YAMLError as exc:
        problem = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise PostError(f"malformed front matter: {problem}") from None
    except (ValueError, TypeError, AttributeError) as exc:
        raise PostError(f"malformed front matter: {exc}") from None
    meta: dict[str, Any] = dict(document.metadata)
    body = document.content
    if path.suffix.lower() == ".html":
        body = markdownify(tidy_html(body_head(body, HTML_HEAD, at="<")), heading_style="ATX")
    if not body.strip():
        raise PostError("the post has no body")

    moment, has_time = _parse_date(meta.get("date")) or _date_from_file_name(path)
    if moment is None:
        raise PostError("no date: add `date:` to the front matter or name the file YYYY-MM-DD-slug")
    check_date(moment)
    code = str(meta.get("code") or "").strip()
    blocks = read_blocks(body_head(body))
    title, summary = _headline_and_summary(meta, blocks)
    if not title:
        raise PostError("no headline: set `title:` or start the body with a heading")
    image = safe_url(meta.get("image")) or next(
        (src for block in blocks for src, _ in block.images), None
    )
    language = meta.get("language") or meta.get("lang")
    return Post(
        id=code or path.stem,
        path=path,
        title=title,
        summary=summary,
        date=moment,
        categories=_categories(meta),
        url=safe_url(meta.get("origin_url")) or safe_url(meta.get("url")),
        image=image,
        language=str(language).strip().lower() if language else None,
        published=meta.get("published", True) is not False,
        retracted=meta.get("retracted", False) is True,
        breaking=meta.get("breaking", False) is True,
        photo_id=str(meta["telegram_photo"]) if meta.get("telegram_photo") else None,
        digest=hashlib.sha256(raw).hexdigest(),
        has_time=has_time,
        tags=tags_of(meta.get("tags")),
    )


# --- the text and its front matter ----------------------------------------------------------------


def decode(raw: bytes) -> str:
    """Text of a post file: UTF-8 (BOM or not), else the Windows encoding newsrooms export."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = raw.decode("cp1252")
        except UnicodeDecodeError:
            text = raw.decode("latin-1")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _parse_date(value: object) -> tuple[datetime, bool] | None:
    """A time-zone-aware datetime from a front matter value (naive values are UTC), and whether
    it has a time of day."""
    has_time = True
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment, has_time = datetime.combine(value, time()), False
    elif isinstance(value, str) and value.strip():
        text = value.strip()
        has_time = len(text) > len("2026-11-20")
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            # Jekyll's own format: "2024-11-06 10:30:00 +0700".
            for pattern in ("%Y-%m-%d %H:%M:%S %z", "%Y-%m-%d %H:%M %z"):
                try:
                    moment = datetime.strptime(text, pattern)
                    break
                except ValueError:
                    continue
            else:
                raise PostError(f"unreadable date {text[:40]!r}") from None
    else:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)), has_time


def _date_from_file_name(path: Path) -> tuple[datetime | None, bool]:
    match = _FILE_DATE.match(path.name)
    if not match:
        return None, False
    try:
        year, month, day = map(int, match.groups())
        return datetime(year, month, day, tzinfo=UTC), False
    except ValueError:
        return None, False


def _categories(meta: dict[str, Any]) -> tuple[Category, ...]:
    names: list[str] = []
    for field_name in ("category", "categories"):
        value = meta.get(field_name)
        if isinstance(value, str):
            # Jekyll splits `categories` on spaces; `category` is one name ("Asia Pacific").
            names.extend(value.split() if field_name == "categories" else [value])
        elif isinstance(value, list):
            names.extend(str(item) for item in value if item is not None)
    return categories_named(names)


def categories_named(names: Iterable[str]) -> tuple[Category, ...]:
    """Categories of these names, in order, once per key, whitespace collapsed."""
    found: dict[str, Category] = {}
    for name in (" ".join(n.split())[:MAX_CATEGORY_NAME] for n in names):
        if name and (key := category_key(name)) not in found:
            found[key] = Category(name=name, key=key)
    return tuple(found.values())


# --- the body: Markdown blocks and their inline runs ----------------------------------------------


class BlockKind(Enum):
    """The top-level blocks a post's headline and summary are taken from."""

    HEADING = "heading"
    PARAGRAPH = "paragraph"


@dataclass(slots=True)
class Block:
    """A top-level heading or paragraph of the body, its inline content parsed on first use."""

    kind: BlockKind
    source: Token  # the block's "inline" token, children not yet parsed
    env: dict[str, Any]  # the document's link reference definitions
    base: str | None = None  # the page's address, which site paths in links resolve against
    level: int = 0  # 0 at the top; more inside a list or a quote
    parsed: tuple[list[Run], list[tuple[str, str]], bool] | None = None

    def _parse(self) -> tuple[list[Run], list[tuple[str, str]], bool]:
        if self.parsed is None:
            # Only as much as a card could show is parsed: inline work stays small and linear.
            self.source.content, cut = inline_head(self.source.content)
            state = StateCore("", _markdown, self.env)
            state.tokens = [self.source]
            parse_inline(state)
            text_join(state)
            runs, images, single_line = _inline(self.source.children or [], self.base)
            if cut:
                runs.append(Run(" …"))
            self.parsed = runs, images, single_line
        return self.parsed

    @property
    def runs(self) -> list[Run]:
        return self._parse()[0]

    @property
    def images(self) -> list[tuple[str, str]]:
        """(src, alt) of the images inside; only "![" starts an image, so most need no parse."""
        return self._parse()[1] if "![" in self.source.content else []

    @property
    def single_line(self) -> bool:
        return self._parse()[2]

    @property
    def text(self) -> str:
        return " ".join("".join(run.text for run in self.runs).split())


@dataclass(slots=True)
class _Marks:
    bold: int = 0
    italic: int = 0
    strike: int = 0
    links: list[str | None] = field(default_factory=list)


def _inline(
    children: Iterable[Token], base: str | None = None
) -> tuple[list[Run], list[tuple[str, str]], bool]:
    """Runs, images and whether the inline content is on a single line; links and images
    resolved against `base` when given, as a browser on that page would."""
    runs: list[Run] = []
    images: list[tuple[str, str]] = []
    single_line = True
    marks = _Marks()

    def add(text: str, *, code: bool = False) -> None:
        if not text:
            return
        run = Run(
            text=text,
            bold=marks.bold > 0,
            italic=marks.italic > 0,
            strike=marks.strike > 0,
            code=code,
            href=next((href for href in reversed(marks.links) if href), None),
        )
        previous = runs[-1] if runs else None
        if previous is not None and previous.text and _same_format(previous, run):
            runs[-1] = replace(previous, text=previous.text + text)
        else:
            runs.append(run)

    for token in children:
        markup = token.type
        if markup == "text":
            add(token.content)
        elif markup == "code_inline":
            add(token.content, code=True)
        elif markup in ("softbreak", "hardbreak"):
            single_line = False
            add(" ")
        elif markup in ("strong_open", "strong_close"):
            marks.bold += 1 if markup.endswith("open") else -1
        elif markup in ("em_open", "em_close"):
            marks.italic += 1 if markup.endswith("open") else -1
        elif markup in ("s_open", "s_close"):
            marks.strike += 1 if markup.endswith("open") else -1
        elif markup == "link_open":
            marks.links.append(_address(token.attrGet("href"), base))
        elif markup == "link_close" and marks.links:
            marks.links.pop()
        elif markup == "image":
            src = _address(token.attrGet("src"), base)
            if src:
                images.append((src, token.content))
        # Raw inline HTML (`<script>`, `<span>`) is dropped; the text between tags stays as text.
    return runs, images, single_line


def _address(value: object, base: str | None) -> str | None:
    if base is None or not isinstance(value, str) or not value.strip():
        return safe_url(value)
    try:
        return safe_url(urljoin(base, value.strip()))
    except ValueError:
        return None


def _same_format(a: Run, b: Run) -> bool:
    return (a.bold, a.italic, a.strike, a.code, a.href) == (
        b.bold,
        b.italic,
        b.strike,
        b.code,
        b.href,
    )


def read_blocks(body: str, base: str | None = None, *, every_level: bool = False) -> list[Block]:
    """The top-level headings and paragraphs of `body` (with `every_level`, also those inside
    lists and quotes), their inline content parsed on first use."""
    env: dict[str, Any] = {}
    tokens = _block_markdown.parse(body, env)
    blocks: list[Block] = []
    for index, token in enumerate(tokens):
        if token.type not in ("heading_open", "paragraph_open"):
            continue
        if token.level and not every_level:
            continue
        kind = BlockKind.HEADING if token.type == "heading_open" else BlockKind.PARAGRAPH
        blocks.append(Block(kind, tokens[index + 1], env, base, token.level))
    return blocks


def strip_runs(runs: list[Run]) -> tuple[Run, ...]:
    """The runs with the paragraph's leading and trailing whitespace removed."""
    trimmed = [run for run in runs if run.text]
    if trimmed:
        first = trimmed[0]
        trimmed[0] = replace(first, text=first.text.lstrip())
        trimmed[-1] = replace(trimmed[-1], text=trimmed[-1].text.rstrip())
    return tuple(run for run in trimmed if run.text)


def normalise(text: str) -> str:
    return " ".join(text.split()).casefold()


def _is_truncated_copy(description: str, paragraph: str) -> bool:
    """Whether a description is only the start of the paragraph, cut off by some tool."""
    cut = normalise(description).rstrip(".… ")
    return bool(cut) and normalise(paragraph).startswith(cut)


def _headline_and_summary(meta: dict[str, Any], blocks: list[Block]) -> tuple[str, tuple[Run, ...]]:
    title = str(meta.get("title") or "").strip()
    title = " ".join(title.split())
    if not title:
        heading = next((b for b in blocks if b.kind is BlockKind.HEADING and b.text), None)
        if heading is not None:
            title = heading.text
    if not title:
        first = next((b for b in blocks if b.kind is BlockKind.PARAGRAPH and b.text), None)
        if first is not None and first.single_line and len(first.text) <= MAX_TITLE_PARAGRAPH:
            title = first.text

    captions = {normalise(alt) for block in blocks for _, alt in block.images if alt.strip()}
    paragraph: Block | None = None
    for block in blocks:
        text = normalise(block.text)
        if block.kind is not BlockKind.PARAGRAPH or not text or block.images:
            continue
        if text == normalise(title) or text in captions:
            continue
        paragraph = block
        break

    description = " ".join(str(meta.get("description") or "").split())
    if paragraph is not None and not (
        description and not _is_truncated_copy(description, paragraph.text)
    ):
        return title, strip_runs(paragraph.runs)
    if description:
        return title, (Run(description),)
    return title, ()
