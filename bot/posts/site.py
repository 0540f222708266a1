"""A Jekyll site in the content folder: which files are its posts, and each one as a `Post`.

A folder with a `_config.yml` (the content folder itself, or a folder inside it) is a Jekyll
site, and newsbot reads it as Jekyll publishes it (`bot/posts/jekyll`): the posts of every
`_posts` folder, each with the address, date, categories, title and excerpt Jekyll gives it.
This module turns that into what a reader's card shows:

- the id is the post's `code`, else its path within the content folder without the extension
  (`_posts/2026-11-20-ferry`, `fr/_posts/2026-11-20-ferry`), so translations that share a file
  name are different posts;
- the link is `origin_url`, `canonical_url` or `link` when absolute, else the post's permalink
  on the site (`url` + `baseurl`, or the `site_url` newsbot is given when the site has no `url`);
- the image is the front matter's `image` made absolute as `absolute_url` does, never a body
  image in its place; only a post without one may show the first image of its body;
- the summary is the `description`, else the `excerpt:`, else Jekyll's excerpt, with Liquid
  rendered (or removed), kramdown attribute lists and WordPress shortcodes gone, and never a
  lead-in ending with ":" alone; front matter text is HTML-decoded and stripped of tags;
- the date is Jekyll's, in the site's `timezone`; a date-only post keeps `has_time=False`.

Only what a card needs is read: the front matter, the excerpt, and the head of the body when the
excerpt has no words of its own. Like `parse`, reading one file is pure: `read_site_file` takes
the bytes. A `Site` holds everything besides the file that shapes its posts, and its `rules`
digest is part of each post's cache key, so a changed `_config.yml` is never served stale posts.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from markdownify import markdownify

from bot.errors import PostError
from bot.posts.jekyll import (
    PostFile,
    SiteConfig,
    SitePost,
    absolute_url,
    find_posts,
    has_liquid,
    language_folders,
    load_config,
    load_front_matter,
    plain_text,
    remove_attribute_lists,
    remove_shortcodes,
    render_liquid,
    resolve,
    site_post,
    split_front_matter,
)
from bot.posts.jekyll.files import PostsMemo
from bot.posts.limits import HTML_HEAD, BudgetedYAML, body_head, check_date
from bot.posts.model import Post, Run, safe_url, tags_of
from bot.posts.parse import (
    MAX_FILE_BYTES,
    Block,
    BlockKind,
    categories_named,
    decode,
    normalise,
    read_blocks,
    strip_runs,
)
from bot.posts.tidy import tidy_html

#: How much of a body is read for a summary when the excerpt has none: a card's worth, twice.
SUMMARY_HEAD = 8 * 1024
#: Front matter fields that give a post's own address, in order of preference.
LINK_FIELDS = ("origin_url", "canonical_url", "link")
_WORD = re.compile(r"\w")


@dataclass(frozen=True, slots=True)
class Site:
    """A Jekyll site found in the content folder, with everything that shapes its posts."""

    root: Path
    prefix: str
    """The site's folder within the content folder, with a trailing "/"; "" for the folder
    itself. Ids of the site's posts start with it."""
    config: SiteConfig
    languages: frozenset[str]
    files: tuple[PostFile, ...]
    rules: bytes
    """A digest of the configuration, the language folders and the prefix: part of every post's
    cache key, so that changing any of them reads every post again."""
    memo: PostsMemo = field(default_factory=dict, compare=False, repr=False)
    """What the last walk of the site found in each `_posts` folder, for the next walk."""

    @property
    def has_links(self) -> bool:
        """Whether posts get an address: the site has a `url`, or newsbot was given one."""
        return bool(self.config.url)


def open_site(
    root: Path, *, prefix: str = "", site_url: str | None = None, before: Site | None = None
) -> Site:
    """The site at `root`: its configuration and post files. `PostError` for a broken config.

    With the same site as read `before` (at the last scan), the `_posts` folders that did not
    change are not listed again, as long as the configuration is the same.
    """
    config = load_config(root, site_url=site_url)
    memo = before.memo if before is not None and before.config == config else {}
    files = tuple(find_posts(root, config, memo))
    languages = language_folders(files, config)
    shape = repr((config, sorted(languages), prefix)).encode("utf-8", "surrogateescape")
    return Site(root, prefix, config, languages, files, hashlib.sha256(shape).digest(), memo)


def read_site_file(site: Site, file: PostFile, raw: bytes) -> Post:
    """One post file of the site as a `Post`, or `PostError` with a one-line reason."""
    if len(raw) > MAX_FILE_BYTES:
        raise PostError(f"file is larger than {MAX_FILE_BYTES // 1024} KB")
    source, body = split_front_matter(decode(raw))
    front = load_front_matter(source, BudgetedYAML().load)
    post = site_post(site.config, file, front, body, language_folders=site.languages)
    if post.date is None:
        raise PostError(post.warnings[0] if post.warnings else "no date")
    check_date(post.date.moment)
    title = plain_text(post.title)
    if not title:
        raise PostError("no headline: set `title:` in the front matter")
    base = post.link
    page = post.page_variables()
    body_blocks: list[Block] | None = None

    def body_head_blocks() -> list[Block]:
        nonlocal body_blocks
        if body_blocks is None:
            body_blocks = _blocks(site.config, file, body_head(post.body, SUMMARY_HEAD), page, base)
        return body_blocks

    summary = _summary(site.config, file, post, title, page, base, body_head_blocks)
    if post.data.get("image"):
        image = _image(site.config, post.data["image"], base)
    elif "![" in post.body[:SUMMARY_HEAD]:
        image = next((src for block in body_head_blocks() for src, _ in block.images), None)
    else:
        image = None
    code = str(front.get("code") or "").strip()
    language = post.language.strip().lower() if post.language else None
    return Post(
        id=code or site.prefix + file.id_path,
        path=file.path,
        title=title,
        summary=summary,
        date=post.date.moment,
        categories=categories_named(post.categories),
        url=next((u for f in LINK_FIELDS if (u := safe_url(front.get(f)))), None) or post.link,
        image=image,
        language=language or None,
        published=post.published,
        retracted=front.get("retracted", False) is True,
        breaking=front.get("breaking", False) is True,
        photo_id=str(front["telegram_photo"]) if front.get("telegram_photo") else None,
        digest=hashlib.sha256(site.rules + raw).hexdigest(),
        has_time=post.date.has_time,
        warnings=post.warnings,
        tags=tags_of(front.get("tags")),
    )


def _image(config: SiteConfig, value: object, base: str | None) -> str | None:
    """The front matter's image as an absolute address, as a theme's `absolute_url` makes it."""
    if isinstance(value, Mapping):  # jekyll-seo-tag's `image: {path: ..., alt: ...}`
        value = value.get("path") or value.get("url")
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    site = f"{config.url}/" if config.url else None
    if has_liquid(text):  # `{{ site.baseurl }}/assets/x.jpg`: rendered, it is a site path
        text = render_liquid(text, config).strip()
        return safe_url(resolve(text, site)) if site and text else safe_url(text)
    if text.startswith("//"):  # scheme-relative: the page's scheme, as a browser reads it
        where = base or site
        return safe_url(resolve(text, where)) if where else None
    return safe_url(absolute_url(config, text))


def _summary(
    config: SiteConfig,
    file: PostFile,
    post: SitePost,
    title: str,
    page: Mapping[str, Any],
    base: str | None,
    body_head_blocks: Callable[[], list[Block]],
) -> tuple[Run, ...]:
    """The description, else the author's `excerpt:`, else Jekyll's excerpt, else the first
    paragraph of the body with words of its own; never a lead-in ending with ":" alone."""
    for text in (
        plain_text(post.data.get("description")),
        plain_text(post.excerpt) if post.excerpt_from_front_matter else "",
    ):
        if text and not text.endswith(":"):
            return (Run(text),)
    if not post.excerpt_from_front_matter and post.excerpt.strip():
        found = _paragraphs(_blocks(config, file, post.excerpt, page, base), title)
        if found and not _text(found[-1]).endswith(":"):
            return _joined(found)
    blocks = body_head_blocks()
    found = _paragraphs(blocks, title)
    if not found:
        return ()
    lead, runs = found[0], list(found[0].runs)
    if _text(lead).endswith(":"):
        # A lead-in ("Here is what changed:") is read with what it leads in to: the list (or
        # quote) after it, else the next paragraph.
        for block in blocks[blocks.index(lead) + 1 :]:
            if block.level == 0 and len(runs) > len(lead.runs):
                break
            if block.text:
                runs = [*runs, Run(" "), *strip_runs(block.runs)]
                if block.level == 0:
                    break
    return strip_runs(runs)


def _blocks(
    config: SiteConfig, file: PostFile, source: str, page: Mapping[str, Any], base: str | None
) -> list[Block]:
    """The blocks of a piece of the body as the site shows it: Liquid rendered, kramdown's
    attribute lists and WordPress shortcodes removed, HTML read as Markdown."""
    text = render_liquid(source, config, page) if has_liquid(source) else source
    text = remove_shortcodes(remove_attribute_lists(text))
    if file.is_html:
        text = markdownify(tidy_html(body_head(text, HTML_HEAD, at="<")), heading_style="ATX")
    return read_blocks(text, base, every_level=True)


def _paragraphs(blocks: list[Block], title: str) -> list[Block]:
    """The top-level paragraphs with words of their own: not the title again, not an image or
    its caption."""
    captions = {normalise(alt) for block in blocks for _, alt in block.images if alt.strip()}
    found = []
    for block in blocks:
        if block.kind is not BlockKind.PARAGRAPH or block.level or block.images:
            continue
        text = normalise(block.text)
        if not _WORD.search(text) or text == normalise(title) or text in captions:
            continue
        found.append(block)
    return found


def _joined(blocks: list[Block]) -> tuple[Run, ...]:
    runs: list[Run] = []
    for block in blocks:
        if runs:
            runs.append(Run("\n\n"))
        runs.extend(strip_runs(block.runs))
    return tuple(runs)


def _text(block: Block) -> str:
    return block.text.rstrip()
