"""What editors do through the bot, as files in the archive: breaking news and retractions.

Breaking news typed into Telegram becomes an ordinary post file, so it is part of the archive,
of `/latest` and of every later scan, exactly like an article the newsroom's site published.
A retraction is likewise written into the post's own front matter (`retracted: true`), so the
archive and the bot never disagree about it. Nothing here knows about Telegram's types.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import frontmatter
from bs4 import BeautifulSoup
from markdownify import markdownify

from bot.errors import EditorError, PostError
from bot.importer import slugify
from bot.posts import Post, category_key, parse_post, read_post, safe_url

BREAKING = "BREAKING"
BREAKING_FOLDER = "breaking"

_COMMAND = re.compile(r"^\s*/breaking(?:@\w+)?\b", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class BreakingDraft:
    """A breaking item as the editor typed it, before anyone confirmed it."""

    headline: str
    body: str
    """The rest of the message as Markdown (may be empty)."""
    category: str = BREAKING
    language: str | None = None
    photo_id: str | None = None
    image: str | None = None


def draft_breaking(
    html: str,
    *,
    categories: dict[str, str],
    language: str | None = None,
    photo_id: str | None = None,
) -> BreakingDraft:
    """Read a `/breaking` message given as Telegram HTML (its formatting kept).

    The first line is the headline, the rest the body. `/breaking world: Headline` files the
    item under a known category (`categories` maps keys to display names); any other text
    before a colon is part of the headline.
    """
    text = _COMMAND.sub("", html, count=1).lstrip()
    first, _, rest = text.partition("\n")
    category = BREAKING
    label, colon, after = first.partition(":")
    if colon and category_key(label.strip()) in categories and label.strip():
        category = categories[category_key(label.strip())]
        first = after
    headline = " ".join(BeautifulSoup(first, "html.parser").get_text(" ").split())
    if not headline:
        raise EditorError("a breaking item needs a headline after /breaking")
    # Each line an editor types is a paragraph of its own.
    paragraphs = "".join(f"<p>{line}</p>" for line in rest.split("\n") if line.strip())
    body = markdownify(paragraphs, heading_style="ATX").strip()
    return BreakingDraft(headline, body, category, language, photo_id)


def breaking_post(draft: BreakingDraft, content_dir: Path, now: datetime) -> tuple[Path, str]:
    """The file a confirmed breaking item is written to, and its text (not yet written).

    Kept apart from writing so the preview an editor confirms is rendered from exactly the
    post that will be published.
    """
    code = f"BRK{now:%Y%m%d%H%M%S}{secrets.token_hex(2).upper()}"
    metadata: dict[str, object] = {
        "layout": "post",
        "code": code,
        "title": draft.headline,
        "category": draft.category,
        "date": now.isoformat(),
        "breaking": True,
    }
    if draft.language:
        metadata["language"] = draft.language
    if draft.image and safe_url(draft.image):
        metadata["image"] = draft.image
    if draft.photo_id:
        metadata["telegram_photo"] = draft.photo_id
    document = frontmatter.Post((draft.body or draft.headline) + "\n")
    document.metadata.update(metadata)
    name = f"{now:%Y-%m-%d-%H%M%S}-{slugify(draft.headline, 40)}.md"
    return content_dir / BREAKING_FOLDER / name, frontmatter.dumps(document, sort_keys=False) + "\n"


def preview_post(path: Path, text: str) -> Post:
    """The post a file's text will become, or `EditorError` when it would not load."""
    try:
        return parse_post(path, text.encode())
    except PostError as exc:
        raise EditorError(f"the item would not load: {exc}") from None


def write_post_file(path: Path, text: str) -> Post:
    """Write a new post file (never over an existing one) and read it back."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("x", encoding="utf-8") as handle:
        handle.write(text)
    return read_post(path)


def mark_retracted(post: Post) -> Post:
    """Set `retracted: true` in a post's own file, keeping everything else as it was."""
    try:
        document = frontmatter.load(post.path)
    except (OSError, ValueError) as exc:
        raise EditorError(f"cannot update {post.path.name}: {exc}") from None
    document.metadata["retracted"] = True
    temporary = post.path.with_name(f".{post.path.name}.tmp")
    temporary.write_text(frontmatter.dumps(document, sort_keys=False) + "\n", encoding="utf-8")
    temporary.replace(post.path)  # atomic: a scan never sees half a file
    return read_post(post.path)
