"""Turning a saved HTML article into a post file in the content folder.

Saved pages carry navigation, scripts and footers around the article. The importer takes the
`<article>` (else `<main>`, else `<body>`), converts it to Markdown with markdownify (which drops
script and style contents), and writes the front matter with python-frontmatter. Title, image,
source link and date come from the options when given, else from the page's own metadata.

A saved page is anybody's HTML, so it is tidied first (`bot.posts.tidy`): read in linear time,
and nested at most 100 levels, the deeper tags left out and their text kept, so a
hostile page costs no more than its size and never exhausts the converter's recursion.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import frontmatter
from bs4 import BeautifulSoup, Tag
from markdownify import markdownify

from bot.errors import ArticleError, PostError
from bot.posts import Post, parse_post, safe_url, tidy_html


@dataclass(frozen=True, slots=True)
class ImportOptions:
    """What the editor said about the article on the command line."""

    category: str | None = None
    url: str | None = None
    image: str | None = None
    language: str | None = None


def _meta(soup: BeautifulSoup, *names: str) -> str | None:
    for name in names:
        tag = soup.find("meta", attrs={"property": name}) or soup.find("meta", attrs={"name": name})
        if isinstance(tag, Tag) and isinstance(tag.get("content"), str):
            value = str(tag["content"]).strip()
            if value:
                return value
    return None


def slugify(text: str, limit: int = 60) -> str:
    """A file-name slug from a headline."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:limit].rstrip("-") or "article"


def import_article(html: str, content_dir: Path, options: ImportOptions) -> Post:
    """Write `html` as a new post under `content_dir` and return it as newsbot reads it."""
    soup = BeautifulSoup(tidy_html(html, flatten=True), "html.parser")
    container = soup.find("article") or soup.find("main") or soup.body or soup
    heading = container.find("h1") if isinstance(container, Tag) else None
    title = _meta(soup, "og:title") or (heading.get_text(" ", strip=True) if heading else "")
    if not title and soup.title is not None:
        title = soup.title.get_text(" ", strip=True)
    if isinstance(heading, Tag):
        heading.decompose()  # the title lives in the front matter
    body = markdownify(str(container), heading_style="ATX").strip()
    body = re.sub(r"\n{3,}", "\n\n", body)
    if not title:
        raise ArticleError("no headline found: the page has no <h1>, og:title or <title>")
    if not body:
        raise ArticleError("no article text found in the page")

    published = _meta(soup, "article:published_time", "date")
    try:
        moment = datetime.fromisoformat(published) if published else datetime.now(UTC)
    except ValueError:
        moment = datetime.now(UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    url = safe_url(options.url) or safe_url(_meta(soup, "og:url"))
    image = safe_url(options.image) or safe_url(_meta(soup, "og:image"))
    if options.url and not safe_url(options.url):
        raise ArticleError(f"--url must be an http(s) address, not {options.url!r}")
    if options.image and not safe_url(options.image):
        raise ArticleError(f"--image must be an http(s) address, not {options.image!r}")
    digest = hashlib.sha256(f"{title}{url}{moment}".encode()).hexdigest()[:6].upper()
    metadata: dict[str, object] = {
        "layout": "post",
        "code": f"IMP{moment:%y%m%d%H%M}{digest}",
        "origin_url": url or "",
        "image": image or "",
        "title": title,
        "description": _meta(soup, "og:description", "description") or "",
        "category": options.category or "",
        "language": options.language or (soup.html.get("lang") if soup.html else None) or "",
        "date": moment.isoformat(),
    }
    document = frontmatter.Post(body + "\n")
    document.metadata.update(metadata)
    text = frontmatter.dumps(document, sort_keys=False) + "\n"
    path = content_dir / f"{moment:%Y-%m-%d}-{slugify(title)}.md"
    if path.exists():
        raise ArticleError(f"{path.name} already exists in the content folder")
    try:
        post = parse_post(path, text.encode())
    except PostError as exc:
        raise ArticleError(f"the imported article would not load: {exc}") from None
    content_dir.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return post
