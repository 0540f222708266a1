"""A Jekyll site's `_config.yml`, read the way Jekyll reads it, into one frozen `SiteConfig`.

Everything newsbot derives from a site (a post's address, its date, its excerpt) depends on a
handful of settings, each with a default that Jekyll fills in when the file is silent
(`jekyll/configuration.rb`, 4.3). Reading them once into plain values keeps the rules that use
them pure: they take a `SiteConfig`, never a path.

Guarantees:
- The file is read with `yaml.safe_load` (or `tomllib` for `_config.toml`): no YAML tags can run
  code. A file that is not a mapping is a `PostError` with a one-line reason.
- Unknown and malformed settings fall back to Jekyll's defaults instead of failing the site:
  a wrong `timezone` name, say, reads as no time zone (UTC), not as an error.
- `show_drafts` is ignored: drafts are never news.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from bot.errors import PostError

from ._ruby import ruby_str as _text

#: The files Jekyll reads its configuration from, in the order it looks for them.
CONFIG_FILES = ("_config.yml", "_config.yaml", "_config.toml")
DEFAULT_MARKDOWN_EXT = "markdown,mkdown,mkdn,mkd,md"
DEFAULT_EXCERPT_SEPARATOR = "\n\n"
#: Jekyll's built-in permalink styles (`Configuration::STYLE_TO_PERMALINK`).
PERMALINK_STYLES: Mapping[str, str] = {
    "none": "/:categories/:title:output_ext",
    "date": "/:categories/:year/:month/:day/:title:output_ext",
    "ordinal": "/:categories/:year/:y_day/:title:output_ext",
    "pretty": "/:categories/:year/:month/:day/:title/",
    "weekdate": "/:categories/:year/W:week/:short_day/:title:output_ext",
}
#: What Jekyll leaves out of a site even when no `exclude` says so (`DEFAULT_EXCLUDES`).
DEFAULT_EXCLUDES = (
    ".sass-cache",
    ".jekyll-cache",
    "gemfiles",
    "Gemfile",
    "Gemfile.lock",
    "node_modules",
    "vendor/bundle/",
    "vendor/cache/",
    "vendor/gems/",
    "vendor/ruby/",
)
_DEPRECATED_TYPES = {"post": "posts", "page": "pages", "draft": "drafts"}


@dataclass(frozen=True, slots=True)
class DefaultSet:
    """One entry of `defaults:`: front matter values for the posts a scope matches."""

    values: Mapping[str, Any]
    path: str | None = None
    """The scope's path within the site (may hold `*` globs); None or "" matches every path."""
    type: str | None = None
    """The scope's collection type ("posts", "pages"...); None matches every type."""


@dataclass(frozen=True, slots=True)
class SiteConfig:
    """What newsbot needs from a Jekyll site's configuration, with Jekyll's defaults filled in."""

    url: str = ""
    """The site's address ("https://example.org"), without `baseurl`; "" when it has none."""
    baseurl: str = ""
    """The path the site is served under ("/blog"), "" at the root; never ends with "/"."""
    permalink: str = PERMALINK_STYLES["date"]
    """The posts' permalink template, a built-in style already turned into its pattern."""
    timezone: str | None = None
    """The `timezone` setting (an IANA name) when it names a zone newsbot knows."""
    markdown_ext: tuple[str, ...] = (".markdown", ".mkdown", ".mkdn", ".mkd", ".md")
    """File extensions read as Markdown, lower-case with the dot."""
    excerpt_separator: str = DEFAULT_EXCERPT_SEPARATOR
    lang: str | None = None
    title: str = ""
    defaults: tuple[DefaultSet, ...] = ()
    future: bool = False
    """Whether Jekyll publishes posts dated in the future; newsbot waits for their date anyway."""
    collections_dir: str = ""
    exclude: tuple[str, ...] = DEFAULT_EXCLUDES
    include: tuple[str, ...] = (".htaccess",)
    languages: tuple[str, ...] = ()
    """The `languages` list of multilingual sites (jekyll-polyglot and the like), if any."""
    raw: Mapping[str, Any] = field(default_factory=dict)
    """The whole file as read, for Liquid's `site` variable."""

    @property
    def zone(self) -> tzinfo:
        """The zone of times written without an offset: the site's `timezone`, else UTC.

        Jekyll itself falls back to the building machine's local zone; newsbot's readers cannot
        know that machine, and UTC is what the site's own server most likely used.
        """
        return ZoneInfo(self.timezone) if self.timezone else UTC

    @property
    def markdown_and_html(self) -> frozenset[str]:
        """The extensions of post files newsbot reads: Markdown's and ".html"."""
        return frozenset((*self.markdown_ext, ".html"))


def find_config_file(root: Path) -> Path | None:
    """The configuration file of the Jekyll site at `root`, or None when it is not one."""
    for name in CONFIG_FILES:
        candidate = root / name
        if candidate.is_file():
            return candidate
    return None


def is_site_root(root: Path) -> bool:
    """Whether `root` is a Jekyll site: a folder with a `_config.yml` (or .yaml, .toml)."""
    return find_config_file(root) is not None


def load_config(root: Path, *, site_url: str | None = None) -> SiteConfig:
    """Read the configuration of the site at `root`; `site_url` stands in when it has no `url`.

    A folder without a configuration file gets Jekyll's defaults. Raises `PostError` when the
    file exists but cannot be read as a mapping.
    """
    path = find_config_file(root)
    if path is None:
        return config_from_mapping({}, site_url=site_url)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise PostError(f"{path.name}: cannot read the file: {exc}") from None
    try:
        data = tomllib.loads(text) if path.suffix == ".toml" else yaml.safe_load(text)
    except (yaml.YAMLError, tomllib.TOMLDecodeError) as exc:
        problem = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise PostError(f"{path.name}: malformed configuration: {problem}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise PostError(f"{path.name}: the configuration is not a mapping of settings")
    return config_from_mapping(data, site_url=site_url)


def config_from_mapping(data: Mapping[str, Any], *, site_url: str | None = None) -> SiteConfig:
    """A `SiteConfig` from already-parsed settings, with Jekyll's defaults for what is missing."""
    url = _text(data.get("url")).strip().rstrip("/")
    if not url and site_url:
        url = site_url.strip().rstrip("/")
    return SiteConfig(
        url=url,
        baseurl=_baseurl(data.get("baseurl")),
        permalink=posts_permalink(data),
        timezone=_zone_name(data.get("timezone")),
        markdown_ext=markdown_extensions(data.get("markdown_ext")),
        excerpt_separator=_excerpt_separator(data),
        lang=_text(data.get("lang")).strip() or None,
        title=_text(data.get("title")).strip(),
        defaults=default_sets(data.get("defaults")),
        future=data.get("future") is True,
        collections_dir=_text(data.get("collections_dir")).strip().strip("/"),
        exclude=_globs(data.get("exclude"), extra=DEFAULT_EXCLUDES),
        include=_globs(data.get("include"), extra=()) or (".htaccess",),
        languages=tuple(_text(code).strip() for code in _list(data.get("languages")) if code),
        raw=dict(data),
    )


def style_to_permalink(style: object) -> str:
    """The pattern of a built-in permalink style ("pretty"), or the custom pattern itself."""
    text = _text(style).strip()
    return PERMALINK_STYLES.get(text, text)


def posts_permalink(data: Mapping[str, Any]) -> str:
    """The posts' permalink template: `collections.posts.permalink`, else the site's style."""
    collections = data.get("collections")
    if isinstance(collections, Mapping):
        posts = collections.get("posts")
        if isinstance(posts, Mapping) and posts.get("permalink"):
            return style_to_permalink(posts["permalink"])
    style = data.get("permalink")
    # An empty or null `permalink` would stop Jekyll itself; the default is the sensible reading.
    return style_to_permalink(style) if style else PERMALINK_STYLES["date"]


def markdown_extensions(value: object) -> tuple[str, ...]:
    """The `markdown_ext` setting as extensions: "md,markdown" -> (".md", ".markdown")."""
    text = _text(value) if value is not None else DEFAULT_MARKDOWN_EXT
    found = tuple(f".{part.strip().lower()}" for part in text.split(",") if part.strip())
    return found or markdown_extensions(DEFAULT_MARKDOWN_EXT)


def default_sets(value: object) -> tuple[DefaultSet, ...]:
    """The valid entries of `defaults:` (others are skipped, as Jekyll warns and skips them)."""
    sets: list[DefaultSet] = []
    for entry in _list(value):
        if not isinstance(entry, Mapping) or not isinstance(entry.get("values"), Mapping):
            continue
        scope = entry.get("scope")
        scope = scope if isinstance(scope, Mapping) else {}
        path = scope.get("path")
        kind = scope.get("type")
        kind_name = None if kind is None else _text(kind)
        sets.append(
            DefaultSet(
                values=dict(entry["values"]),
                path=path if isinstance(path, str) else None,
                type=_DEPRECATED_TYPES.get(kind_name, kind_name) if kind_name else None,
            )
        )
    return tuple(sets)


def front_matter_defaults(
    config: SiteConfig, relative_path: str, kind: str = "posts"
) -> dict[str, Any]:
    """The front matter `defaults` give a file at `relative_path` (within the site).

    Jekyll's precedence (`FrontmatterDefaults#all`): every matching set is merged, a set with a
    longer scope path over a shorter one, and at equal length a set that names a type over one
    that does not. Nested mappings are merged key by key.
    """
    merged: dict[str, Any] = {}
    previous: DefaultSet | None = None
    for entry in config.defaults:
        if not _applies(entry, relative_path, kind, config.collections_dir):
            continue
        if previous is None or _has_precedence(previous, entry):
            merged = deep_merge(merged, entry.values)
            previous = entry
        else:
            merged = deep_merge(entry.values, merged)
    return merged


def deep_merge(base: Mapping[str, Any], other: Mapping[str, Any]) -> dict[str, Any]:
    """`other` over `base`, mappings merged key by key, a None in `other` keeping `base`'s value.

    This is `Utils.deep_merge_hashes`, the way Jekyll layers defaults and front matter.
    """
    merged = dict(base)
    for key, value in other.items():
        old = merged.get(key)
        if value is None and key in merged:
            continue
        if isinstance(old, Mapping) and isinstance(value, Mapping):
            merged[key] = deep_merge(old, value)
        else:
            merged[key] = value
    return merged


def _applies(entry: DefaultSet, relative_path: str, kind: str, collections_dir: str) -> bool:
    if entry.type is not None and entry.type != kind:
        return False
    scope = entry.path
    if not scope:
        return True
    path = _sanitize_scope(relative_path)
    if "*" in scope:
        pattern = _glob_pattern(_strip_collections_dir(_sanitize_scope(scope), collections_dir))
        # Jekyll globs the files on disk and asks whether the post's path starts with one of
        # them; matching the pattern against each leading part of the path is the same test.
        parts = path.split("/")
        return any(pattern.fullmatch("/".join(parts[:n])) for n in range(1, len(parts) + 1))
    # A plain string prefix, as in Jekyll: scope "es" also covers "espresso/_posts/...".
    return path.startswith(_strip_collections_dir(_sanitize_scope(scope), collections_dir))


def _has_precedence(old: DefaultSet, new: DefaultSet) -> bool:
    new_path, old_path = _sanitize_scope(new.path or ""), _sanitize_scope(old.path or "")
    if len(new_path) != len(old_path):
        return len(new_path) >= len(old_path)
    if new.type is not None:
        return True
    return old.type is None


def _sanitize_scope(path: str) -> str:
    return path.lstrip("/") if path.startswith("/") else path


def _strip_collections_dir(path: str, collections_dir: str) -> str:
    if collections_dir and path.startswith(f"{collections_dir}/"):
        return path[len(collections_dir) + 1 :]
    return path


def _glob_pattern(glob: str) -> re.Pattern[str]:
    """A glob as Ruby's `Dir.glob` reads it: `*` within one folder, `**` across folders."""
    pattern = ""
    index = 0
    while index < len(glob):
        if glob.startswith("**", index):
            pattern += ".*"
            index += 2
        elif glob[index] == "*":
            pattern += "[^/]*"
            index += 1
        elif glob[index] == "?":
            pattern += "[^/]"
            index += 1
        else:
            pattern += re.escape(glob[index])
            index += 1
    return re.compile(pattern.rstrip("/"))


def _excerpt_separator(data: Mapping[str, Any]) -> str:
    if "excerpt_separator" not in data or data["excerpt_separator"] is None:
        return DEFAULT_EXCERPT_SEPARATOR
    return _text(data["excerpt_separator"])


def _baseurl(value: object) -> str:
    """`baseurl` as Jekyll joins it: no trailing "/", and a leading one when there is a path."""
    path = _text(value).strip().rstrip("/")
    return f"/{path}" if path and not path.startswith("/") else path


def _zone_name(value: object) -> str | None:
    name = _text(value).strip()
    if not name:
        return None
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None
    return name


def _globs(value: object, *, extra: tuple[str, ...]) -> tuple[str, ...]:
    items = [_text(item) for item in _list(value) if item is not None and _text(item)]
    return tuple(dict.fromkeys([*items, *extra]))


def _list(value: object) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return list(value)
    return [value]
