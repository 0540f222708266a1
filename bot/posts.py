"""Reading the newsroom's Jekyll posts into `Post` values, and keeping them indexed.

A post file is YAML front matter plus a Markdown (or HTML) body. From it newsbot derives what a
reader sees: a headline, a lead image, a one-paragraph summary with its inline formatting, the
categories and the source link. Newsrooms write these files by hand and by script, so every
reading rule here is forgiving of shape (BOMs, CRLF, legacy encodings, `categories` as a string)
and strict about safety (only http(s) links ever leave this module).

A file that cannot be read becomes a `Rejection` with a one-line reason; it never stops the
other posts from loading.
"""

from __future__ import annotations

import hashlib
import heapq
import os
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import frontmatter
import yaml
from markdown_it import MarkdownIt
from markdown_it.rules_core import inline as parse_inline
from markdown_it.rules_core import text_join
from markdown_it.rules_core.state_core import StateCore
from markdown_it.token import Token
from markdownify import markdownify

from bot.errors import PostError

if TYPE_CHECKING:
    from bot.postcache import PostCache

POST_SUFFIXES = frozenset({".md", ".markdown", ".html"})
MAX_FILE_BYTES = 1024 * 1024
#: A first paragraph no longer than this, on one line, can stand in for a missing title.
MAX_TITLE_PARAGRAPH = 160
CATEGORY_KEY_LENGTH = 32
MAX_CATEGORY_NAME = 64

_FILE_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})-")
#: A language code as readers and posts write it: "en", "th", "en-US", "zh_Hant".
LANGUAGE_CODE = re.compile(r"([a-z]{2,3})(?:[-_][a-z0-9]{1,8})*")
#: Whitespace (Unicode's, as `str.isspace` knows it) or a control character (category Cc).
_SPACE_OR_CONTROL = re.compile(r"[\s\x00-\x1f\x7f-\x9f]")
_markdown = MarkdownIt("commonmark", {"html": True}).enable("strikethrough")
# Block structure only: the inline parse is most of Markdown's cost, and a post needs it for its
# first few blocks alone (`_Block` does it on first use, as the core's own two rules would).
_block_markdown = MarkdownIt("commonmark", {"html": True}).enable("strikethrough")
_block_markdown.disable(["inline", "text_join"])


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
        return hashlib.sha256(shown.encode()).hexdigest()

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


# --- small rules -------------------------------------------------------------------------------


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


def primary_language(code: str | None) -> str | None:
    """The language part of a code, lower-cased: "en-US" -> "en"; None when there is none."""
    if not code:
        return None
    match = LANGUAGE_CODE.fullmatch(code.strip().lower())
    return match.group(1) if match else code.strip().lower() or None


def _normalise(text: str) -> str:
    return " ".join(text.split()).casefold()


def _parse_date(value: object) -> datetime | None:
    """A time-zone-aware datetime from a front matter value; naive values are UTC."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime.combine(value, time())
    elif isinstance(value, str) and value.strip():
        text = value.strip()
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
                raise PostError(f"unreadable date {text!r}") from None
    else:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _date_from_file_name(path: Path) -> datetime | None:
    match = _FILE_DATE.match(path.name)
    if not match:
        return None
    try:
        year, month, day = map(int, match.groups())
        return datetime(year, month, day, tzinfo=UTC)
    except ValueError:
        return None


def _categories(meta: dict[str, Any]) -> tuple[Category, ...]:
    names: list[str] = []
    for field_name in ("category", "categories"):
        value = meta.get(field_name)
        if isinstance(value, str):
            # Jekyll splits `categories` on spaces; `category` is one name ("Asia Pacific").
            names.extend(value.split() if field_name == "categories" else [value])
        elif isinstance(value, list):
            names.extend(str(item) for item in value if item is not None)
    found: dict[str, Category] = {}
    for name in (" ".join(n.split())[:MAX_CATEGORY_NAME] for n in names):
        if name and (key := category_key(name)) not in found:
            found[key] = Category(name=name, key=key)
    return tuple(found.values())


def _decode(raw: bytes) -> str:
    """Text of a post file: UTF-8 (BOM or not), else the Windows encoding newsrooms export."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = raw.decode("cp1252")
        except UnicodeDecodeError:
            text = raw.decode("latin-1")
    return text.replace("\r\n", "\n").replace("\r", "\n")


# --- the body ----------------------------------------------------------------------------------


@dataclass(slots=True)
class _Block:
    """A top-level heading or paragraph of the body, its inline content parsed on first use."""

    kind: str  # "heading" or "paragraph"
    source: Token  # the block's "inline" token, children not yet parsed
    env: dict[str, Any]  # the document's link reference definitions
    parsed: tuple[list[Run], list[tuple[str, str]], bool] | None = None

    def _parse(self) -> tuple[list[Run], list[tuple[str, str]], bool]:
        if self.parsed is None:
            state = StateCore("", _markdown, self.env)
            state.tokens = [self.source]
            parse_inline(state)
            text_join(state)
            self.parsed = _inline(self.source.children or [])
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


def _inline(children: Iterable[Token]) -> tuple[list[Run], list[tuple[str, str]], bool]:
    """Runs, images and whether the inline content is on a single line."""
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
        kind = token.type
        if kind == "text":
            add(token.content)
        elif kind == "code_inline":
            add(token.content, code=True)
        elif kind in ("softbreak", "hardbreak"):
            single_line = False
            add(" ")
        elif kind in ("strong_open", "strong_close"):
            marks.bold += 1 if kind.endswith("open") else -1
        elif kind in ("em_open", "em_close"):
            marks.italic += 1 if kind.endswith("open") else -1
        elif kind in ("s_open", "s_close"):
            marks.strike += 1 if kind.endswith("open") else -1
        elif kind == "link_open":
            marks.links.append(safe_url(token.attrGet("href")))
        elif kind == "link_close" and marks.links:
            marks.links.pop()
        elif kind == "image":
            src = safe_url(token.attrGet("src"))
            if src:
                images.append((src, token.content))
        # Raw inline HTML (`<script>`, `<span>`) is dropped; the text between tags stays as text.
    return runs, images, single_line


def _same_format(a: Run, b: Run) -> bool:
    return (a.bold, a.italic, a.strike, a.code, a.href) == (
        b.bold,
        b.italic,
        b.strike,
        b.code,
        b.href,
    )


def _blocks(body: str) -> list[_Block]:
    env: dict[str, Any] = {}
    tokens = _block_markdown.parse(body, env)
    blocks: list[_Block] = []
    for index, token in enumerate(tokens):
        if token.type not in ("heading_open", "paragraph_open") or token.level != 0:
            continue
        kind = "heading" if token.type == "heading_open" else "paragraph"
        blocks.append(_Block(kind, tokens[index + 1], env))
    return blocks


def _strip_runs(runs: list[Run]) -> tuple[Run, ...]:
    """The runs with the paragraph's leading and trailing whitespace removed."""
    trimmed = [run for run in runs if run.text]
    if trimmed:
        first = trimmed[0]
        trimmed[0] = replace(first, text=first.text.lstrip())
        trimmed[-1] = replace(trimmed[-1], text=trimmed[-1].text.rstrip())
    return tuple(run for run in trimmed if run.text)


def _is_truncated_copy(description: str, paragraph: str) -> bool:
    """Whether a description is only the start of the paragraph, cut off by some tool."""
    cut = _normalise(description).rstrip(".… ")
    return bool(cut) and _normalise(paragraph).startswith(cut)


def _headline_and_summary(
    meta: dict[str, Any], blocks: list[_Block]
) -> tuple[str, tuple[Run, ...]]:
    title = str(meta.get("title") or "").strip()
    title = " ".join(title.split())
    if not title:
        heading = next((b for b in blocks if b.kind == "heading" and b.text), None)
        if heading is not None:
            title = heading.text
    if not title:
        first = next((b for b in blocks if b.kind == "paragraph" and b.text), None)
        if first is not None and first.single_line and len(first.text) <= MAX_TITLE_PARAGRAPH:
            title = first.text

    captions = {_normalise(alt) for block in blocks for _, alt in block.images if alt.strip()}
    paragraph: _Block | None = None
    for block in blocks:
        text = _normalise(block.text)
        if block.kind != "paragraph" or not text or block.images:
            continue
        if text == _normalise(title) or text in captions:
            continue
        paragraph = block
        break

    description = " ".join(str(meta.get("description") or "").split())
    if paragraph is not None and not (
        description and not _is_truncated_copy(description, paragraph.text)
    ):
        return title, _strip_runs(paragraph.runs)
    if description:
        return title, (Run(description),)
    return title, ()


# --- reading one file --------------------------------------------------------------------------


def parse_post(path: Path, raw: bytes) -> Post:
    """Turn one file's bytes into a `Post`, or raise `PostError` with a one-line reason."""
    if len(raw) > MAX_FILE_BYTES:
        raise PostError(f"file is larger than {MAX_FILE_BYTES // 1024} KB")
    text = _decode(raw)
    if not text.lstrip().startswith("---"):
        raise PostError("no front matter (a post starts with a '---' line)")
    try:
        document = frontmatter.loads(text)
    except yaml.YAMLError as exc:
        problem = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise PostError(f"malformed front matter: {problem}") from None
    except (ValueError, TypeError, AttributeError) as exc:
        raise PostError(f"malformed front matter: {exc}") from None
    meta: dict[str, Any] = dict(document.metadata)
    body = document.content
    if path.suffix.lower() == ".html":
        body = markdownify(body, heading_style="ATX")
    if not body.strip():
        raise PostError("the post has no body")

    moment = _parse_date(meta.get("date")) or _date_from_file_name(path)
    if moment is None:
        raise PostError("no date: add `date:` to the front matter or name the file YYYY-MM-DD-slug")
    code = str(meta.get("code") or "").strip()
    blocks = _blocks(body)
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
    )


def read_bytes(path: Path) -> bytes:
    """A post file's bytes, refusing one too large to be a post before reading it."""
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise PostError(f"file is larger than {MAX_FILE_BYTES // 1024} KB")
        return path.read_bytes()
    except OSError as exc:
        raise PostError(f"cannot read the file: {exc.strerror or exc}") from None


def read_post(path: Path) -> Post:
    """Read and parse one post file."""
    return parse_post(path, read_bytes(path))


# --- the library of all posts ------------------------------------------------------------------


def post_files(root: Path) -> Iterator[str]:
    """Every post file under `root` (or `root` itself when it is one), skipping `_drafts`,
    `.git` and every other name that starts with `_` or `.`, as Jekyll does."""
    if root.is_file():
        if root.suffix.lower() in POST_SUFFIXES:
            yield str(root)
        return
    try:
        entries = list(os.scandir(root))
    except OSError:
        return
    for entry in entries:
        if entry.name.startswith(("_", ".")):
            continue
        if entry.is_dir(follow_symlinks=False):
            yield from post_files(Path(entry.path))
        elif os.path.splitext(entry.name)[1].lower() in POST_SUFFIXES and entry.is_file():
            yield entry.path


@dataclass(frozen=True, slots=True)
class ScanReport:
    """What a scan of the content folder found different from the one before."""

    added: tuple[Post, ...] = ()
    changed: tuple[Post, ...] = ()
    removed: tuple[str, ...] = ()
    rejected: tuple[Rejection, ...] = ()

    @property
    def anything_changed(self) -> bool:
        """Whether the set of posts or their content differs from the previous scan."""
        return bool(self.added or self.changed or self.removed)


@dataclass(slots=True)
class _CachedFile:
    size: int
    mtime_ns: int
    result: Post | Rejection


class PostLibrary:
    """All posts of the content folder, indexed newest first, by category and by id.

    `scan()` re-reads only files whose size or modification time changed, so rescanning a large
    archive that did not change costs one directory walk and no parsing. With a `PostCache`,
    the first scan after a start parses only the files that changed since the last run.
    """

    def __init__(self, root: Path, *, cache: PostCache | None = None) -> None:
        self.root = root
        self._cache = cache
        self._files: dict[str, _CachedFile] = {}
        self._posts: list[Post] = []
        self._by_id: dict[str, Post] = {}
        self._by_category: dict[str, list[Post]] = {}
        self._by_language: dict[str | None, list[Post]] = {}
        self._categories: dict[str, Category] = {}
        self._rejected: tuple[Rejection, ...] = ()

    def scan(self) -> ScanReport:
        """Bring the index up to date with the folder and report what changed."""
        seen = set(post_files(self.root))
        first_scan = not self._files
        keys: list[str] = []
        dirty = False
        for gone in self._files.keys() - seen:
            del self._files[gone]
            dirty = True
        for file_path in seen:
            try:
                stat = os.stat(file_path)
            except OSError:
                continue
            cached = self._files.get(file_path)
            if cached and (cached.size, cached.mtime_ns) == (stat.st_size, stat.st_mtime_ns):
                continue
            result = self._read(Path(file_path), keys)
            self._files[file_path] = _CachedFile(stat.st_size, stat.st_mtime_ns, result)
            dirty = True
        if self._cache is not None:
            # An empty first scan (a folder not mounted yet, say) forgets nothing.
            self._cache.save(in_use=keys if first_scan and keys else None)
        if not dirty:
            return ScanReport(rejected=self._rejected)
        return self._rebuild()

    def _read(self, path: Path, keys: list[str]) -> Post | Rejection:
        """One file as a post (from the cache when its bytes were read before), or why not."""
        try:
            raw = read_bytes(path)
            if self._cache is None:
                return parse_post(path, raw)
            key, post = self._cache.recall(path, raw)
            if post is None:
                post = parse_post(path, raw)
                self._cache.keep(key, post)
            keys.append(key)
            return post
        except PostError as exc:
            return Rejection(self._relative(path), str(exc))

    def _relative(self, path: Path) -> Path:
        try:
            return path.relative_to(self.root)
        except ValueError:
            return path

    def _rebuild(self) -> ScanReport:
        before = self._by_id
        by_id: dict[str, Post] = {}
        rejected: list[Rejection] = []
        for file_path in sorted(self._files):
            result = self._files[file_path].result
            if isinstance(result, Rejection):
                rejected.append(result)
            elif result.id in by_id:
                first = self._relative(by_id[result.id].path)
                reason = f"duplicate id {result.id!r} (already used by {first})"
                rejected.append(Rejection(self._relative(result.path), reason))
            else:
                by_id[result.id] = result
        posts = sorted(by_id.values(), key=lambda p: (p.date, p.id), reverse=True)
        by_category: dict[str, list[Post]] = {}
        by_language: dict[str | None, list[Post]] = {}
        categories: dict[str, Category] = {}
        for post in posts:
            for category in post.categories:
                by_category.setdefault(category.key, []).append(post)
                categories.setdefault(category.key, category)
            by_language.setdefault(primary_language(post.language), []).append(post)
        self._posts, self._by_id, self._by_category = posts, by_id, by_category
        self._by_language = by_language
        self._categories = dict(sorted(categories.items()))
        self._rejected = tuple(rejected)
        return ScanReport(
            added=tuple(p for i, p in by_id.items() if i not in before),
            changed=tuple(
                p for i, p in by_id.items() if i in before and before[i].digest != p.digest
            ),
            removed=tuple(i for i in before if i not in by_id),
            rejected=self._rejected,
        )

    @property
    def posts(self) -> list[Post]:
        """Every loaded post, newest first (including unpublished and future ones)."""
        return self._posts

    @property
    def categories(self) -> dict[str, Category]:
        """Categories by key, in key order."""
        return self._categories

    @property
    def languages(self) -> list[str]:
        """The languages posts are written in (primary codes, sorted)."""
        return sorted(language for language in self._by_language if language is not None)

    def candidates(
        self, *, category: str | None = None, languages: frozenset[str] | None = None
    ) -> Iterable[Post]:
        """Posts newest first, among them every post of `category` that a reader of `languages`
        receives (posts without a language reach everyone), and as few others as the indexes
        allow, so that finding a reader's newest few never walks the whole archive."""
        by_category = self._posts if category is None else self._by_category.get(category, [])
        if languages is None:
            return by_category
        lists = [self._by_language.get(code, []) for code in (*sorted(languages), None)]
        if sum(map(len, lists)) >= len(by_category):
            return by_category
        return heapq.merge(*lists, key=lambda post: (post.date, post.id), reverse=True)

    @property
    def rejected(self) -> tuple[Rejection, ...]:
        """Files the last scan could not load."""
        return self._rejected

    def get(self, post_id: str) -> Post | None:
        """The post with this id, if loaded."""
        return self._by_id.get(post_id)

    def latest(self, now: datetime, *, limit: int = 5, category: str | None = None) -> list[Post]:
        """The newest posts readers may see at `now`, optionally of one category key."""
        pool = self._posts if category is None else self._by_category.get(category, [])
        found: list[Post] = []
        for post in pool:
            if post.is_live(now):
                found.append(post)
                if len(found) >= limit:
                    break
        return found
