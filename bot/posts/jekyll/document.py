"""One post of a Jekyll site as Jekyll itself sees it: address, date, categories, title, excerpt.

This is where the rules of the other modules meet, in Jekyll's order (`document.rb`): the front
matter `defaults` for the post's path go under its own front matter; the folders above `_posts`
and the front matter give the categories; the front matter's date, else the file name's, gives
the date in the site's zone; the date, slug and categories fill the permalink; the excerpt comes
from the front matter or the body. Nothing here reads files or knows about Telegram: the caller
passes the text, and decides what a reader sees from the plain values returned.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.errors import PostError

from ._ruby import ruby_str
from .categories import post_categories
from .config import SiteConfig, deep_merge, front_matter_defaults
from .dates import PostDate, post_date
from .excerpt import post_excerpt
from .files import PostFile
from .front_matter import load_front_matter, split_front_matter
from .permalinks import PermalinkParts, output_ext, post_url
from .slugs import titleize_slug
from .urls import page_url


@dataclass(frozen=True, slots=True)
class SitePost:
    """What Jekyll makes of one post file, as plain values."""

    file: PostFile
    data: Mapping[str, Any]
    """The front matter over the site's `defaults` for this post (Jekyll's `page`)."""
    body: str
    """The body exactly as Jekyll splits it from the front matter (Markdown or HTML source)."""
    title: str
    """The front matter's `title` as written, else the one Jekyll makes from the file name."""
    title_from_file: bool
    slug: str
    date: PostDate | None
    """None only when neither the front matter nor the file name has a readable date."""
    categories: tuple[str, ...]
    url: str | None
    """The address within the site, without `baseurl` ("/2014/09/08/hello.html")."""
    link: str | None
    """The full http(s) address (`url` + `baseurl` + `url`), None when the site has no `url`."""
    excerpt: str
    """Jekyll's excerpt as source (Liquid and Markdown not rendered yet)."""
    excerpt_from_front_matter: bool
    language: str | None
    published: bool
    warnings: tuple[str, ...] = ()
    """What a newsroom should fix although the post can be read (shown by `newsbot check`)."""

    def page_variables(self) -> dict[str, Any]:
        """Liquid's `page` for this post, as Jekyll fills it."""
        return {
            **self.data,
            "title": self.title,
            "slug": self.slug,
            "url": self.url or "",
            "date": self.date.moment if self.date else None,
            "categories": list(self.categories),
            "path": self.file.relative_path,
        }


def read_site_post(
    config: SiteConfig,
    file: PostFile,
    text: str,
    *,
    language_folders: frozenset[str] = frozenset(),
) -> SitePost:
    """The post in `text` (the file's decoded content) as Jekyll sees it.

    Raises `PostError` when the front matter is malformed.
    """
    source, body = split_front_matter(text)
    return site_post(
        config, file, load_front_matter(source), body, language_folders=language_folders
    )


def site_post(
    config: SiteConfig,
    file: PostFile,
    front_matter: Mapping[str, Any],
    body: str,
    *,
    language_folders: frozenset[str] = frozenset(),
) -> SitePost:
    """The post with this front matter and body as Jekyll sees it, at `file`'s place."""
    defaults = front_matter_defaults(config, file.relative_path)
    data = deep_merge(defaults, front_matter)
    warnings: list[str] = []

    when, problem = post_date(data.get("date"), file.name.date_text, config.zone)
    if problem:
        warnings.append(problem)
    categories = post_categories(file.folder_categories, front_matter, defaults)
    title_value = data.get("title")
    title_from_file = title_value is None or title_value is False
    title = titleize_slug(file.name.slug) if title_from_file else ruby_str(title_value)
    slug_value = data.get("slug")
    slug = file.name.slug if slug_value is None or slug_value is False else ruby_str(slug_value)

    url: str | None = None
    if when is not None:
        permalink = data.get("permalink")
        parts = PermalinkParts(
            date=when.moment,
            slug=slug,
            basename=file.basename_without_ext,
            categories=categories,
            path=file.cleaned_relative_path,
            output_ext=output_ext(permalink),
        )
        try:
            url = post_url(config.permalink, parts, permalink)
        except PostError as exc:
            warnings.append(str(exc))
    excerpt, own_excerpt = post_excerpt(data, body, config.excerpt_separator)
    return SitePost(
        file=file,
        data=data,
        body=body,
        title=title,
        title_from_file=title_from_file,
        slug=slug,
        date=when,
        categories=categories,
        url=url,
        link=page_url(config, url) if url else None,
        excerpt=excerpt,
        excerpt_from_front_matter=own_excerpt,
        language=post_language(data, file, language_folders, config),
        published=data.get("published") is not False,
        warnings=tuple(warnings),
    )


def post_language(
    data: Mapping[str, Any],
    file: PostFile,
    language_folders: frozenset[str],
    config: SiteConfig,
) -> str | None:
    """The post's language: front matter `language`/`lang`, else the language folder it sits
    in (when the site is laid out by language), else the site's `lang`."""
    for key in ("language", "lang"):
        value = data.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    if file.folder_categories and file.folder_categories[0] in language_folders:
        return file.folder_categories[0]
    return config.lang
