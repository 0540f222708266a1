"""Which files of a Jekyll site are posts, and what their place in the site says about them.

Jekyll (`reader.rb`, `readers/post_reader.rb`, `entry_filter.rb`) walks the site from its root,
skipping every name that starts with `.`, `_`, `#` or `~` or ends with `~`, and everything
`exclude` names (plus its default excludes, `node_modules` and `vendor/bundle/` among them).
In every folder it reaches it reads the `_posts` folder, at any depth within it, and each file
there whose name is `YYYY-M-D-title.ext` (padded or not) becomes a post. The folders above
`_posts` become the post's first categories: `news/_posts/x.md` is in "news", while
`_posts/news/x.md` is not.

newsbot reads the posts Jekyll would render as articles: Markdown files (the site's
`markdown_ext`) and `.html`. `_drafts` are never read. A symlink, to a file or a folder, is
followed only when its target is inside the site, so a site cannot make newsbot read files
elsewhere on the machine.
"""

from __future__ import annotations

import fnmatch
import os
import re
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path, PurePosixPath

from .config import SiteConfig

#: Jekyll's `Document::DATE_FILENAME_MATCHER`, on a file name: date, title, extension.
POST_NAME = re.compile(r"([0-9]{2,4}-[0-9]{1,2}-[0-9]{1,2})-([^/]*)(\.[^./]+)")
_SPECIAL_START = (".", "_", "#", "~")
#: A language code as a folder name: "en", "pt-br", "zh_Hant".
_LANGUAGE_FOLDER = re.compile(r"[a-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})?")


@dataclass(frozen=True, slots=True)
class PostName:
    """What a post's file name says: "2017-2-5-title.md" -> ("2017-2-5", "title", ".md")."""

    date_text: str
    slug: str
    """The title part, trailing dots removed as Jekyll does."""
    ext: str


@dataclass(frozen=True, slots=True)
class PostFile:
    """A file Jekyll reads as a post, and what its place in the site says about it."""

    path: Path
    """The file, under the site root as found (symlinks not resolved)."""
    site_path: str
    """The path within the site root, with "/": "es/_posts/2017-02-05-title.md"."""
    relative_path: str
    """Jekyll's `relative_path`: within `collections_dir` when the site sets one."""
    name: PostName
    folder_categories: tuple[str, ...]
    """The folders above `_posts`, as Jekyll's first categories: ("es",)."""

    @property
    def id_path(self) -> str:
        """The path within the site without the extension: unique per post, stable per file."""
        return self.site_path[: -len(self.name.ext)]

    @property
    def basename_without_ext(self) -> str:
        """The file name without its extension, as Jekyll's `:name` placeholder starts from."""
        return PurePosixPath(self.site_path).name[: -len(self.name.ext)]

    @property
    def cleaned_relative_path(self) -> str:
        """Jekyll's `:path`: the relative path without extension, `_posts` and trailing dots."""
        path = self.relative_path[: -len(self.name.ext)].replace("_posts", "", 1)
        return path.rstrip(".")

    @property
    def is_html(self) -> bool:
        """Whether the body is HTML rather than Markdown."""
        return self.name.ext.lower() == ".html"


def parse_post_name(file_name: str) -> PostName | None:
    """The date, title and extension of a post's file name, or None when it is not one."""
    match = POST_NAME.fullmatch(file_name)
    if match is None:
        return None
    date_text, slug, ext = match.groups()
    return PostName(date_text=date_text, slug=slug.rstrip("."), ext=ext)


def folder_categories(relative_path: str) -> tuple[str, ...]:
    """The categories the folders above `_posts` give a post (`Document#categories_from_path`).

    Jekyll cuts the path at the first "_posts" it contains, even inside a longer folder name.
    """
    if relative_path.startswith("_posts"):
        return ()
    head = relative_path.split("_posts", 1)[0]
    basename = relative_path.rpartition("/")[2]
    return tuple(part for part in head.split("/") if part and part not in ("_posts", basename))


#: What `find_posts` found in each `_posts` folder: the folders listed (with their modification
#: times) and the posts, by the `_posts` folder's path. Valid for one configuration only.
PostsMemo = dict[str, tuple[tuple[tuple[str, int], ...], tuple[PostFile, ...]]]
#: A folder modified this recently may change again within the same tick of the file system's
#: clock (a whole second on some), and its modification time would not show it.
_SETTLED_NS = 2_000_000_000


def find_posts(root: Path, config: SiteConfig, memo: PostsMemo | None = None) -> Iterator[PostFile]:
    """Every post file of the site at `root`, as Jekyll would find them, in a stable order.

    With `memo` (kept by the caller between walks of the site with the same `config`), a
    `_posts` folder none of whose folders changed since the last walk is not listed again: a
    rescan of a large unchanged site then costs one `stat` per folder.
    """
    walker = _Walker(root, config, memo)
    yield from walker.walk("")


def post_file(root: Path, site_path: str, config: SiteConfig) -> PostFile | None:
    """The post at `site_path` (within `root`), or None when Jekyll would not read it as one.

    For one file that changed, without walking the site; it applies the same rules as
    `find_posts` to the file's own path.
    """
    parts = PurePosixPath(site_path).parts
    if "_posts" not in parts:
        return None
    at = parts.index("_posts")
    walker = _Walker(root, config)
    folder, inside = "/".join(parts[:at]), "/".join(parts[at + 1 :])
    for depth in range(1, at + 1):
        if not walker.admitted(parts[depth - 1], "/".join(parts[:depth]), is_dir=True):
            return None
    if not walker.posts_may_be_in(folder):
        return None
    if not walker.inside_root(root / site_path):
        return None
    return walker.post(folder, inside)


def _unchanged(folders: tuple[tuple[str, int], ...]) -> bool:
    """Whether every folder still has the modification time it had, settled, when listed."""
    for folder, listed in folders:
        try:
            if listed < 0 or os.stat(folder).st_mtime_ns != listed:
                return False
        except OSError:
            return False
    return True


def language_folders(files: Iterable[PostFile], config: SiteConfig) -> frozenset[str]:
    """The folders that hold one language each, when the site is laid out by language.

    The site's `languages` list names them when it has one. Otherwise a site is laid out by
    language when at least two top-level folders hold a `_posts` folder directly and every such
    folder is named like a language code ("en", "pt-br"), as in `en/_posts`, `fr/_posts`.
    """
    if config.languages:
        return frozenset(config.languages)
    tops = {file.folder_categories[0] for file in files if len(file.folder_categories) == 1}
    if len(tops) >= 2 and all(_LANGUAGE_FOLDER.fullmatch(name) for name in tops):
        return frozenset(tops)
    return frozenset()


class _Walker:
    """One walk over a site, with the entry rules of Jekyll's `EntryFilter`."""

    def __init__(self, root: Path, config: SiteConfig, memo: PostsMemo | None = None) -> None:
        self.root = root
        self.config = config
        self.memo = memo
        self.real_root = os.path.realpath(root)
        self.extensions = config.markdown_and_html
        self.excludes = tuple(
            pattern.lstrip("/") for pattern in config.exclude if pattern not in config.include
        )
        self.seen: set[str] = set()
        # What `excluded` asks of a file, in one expression: the pattern matches it whole, or
        # the path starts with the pattern's text.
        self.file_excludes = re.compile(
            "|".join(
                f"(?:{fnmatch.translate(pattern)})|{re.escape(pattern)}"
                for pattern in self.excludes
            )
            or "(?!)"
        )

    def walk(self, folder: str) -> Iterator[PostFile]:
        directory = self.root / folder if folder else self.root
        real = os.path.realpath(directory)
        if real in self.seen:
            return
        self.seen.add(real)
        if self.posts_may_be_in(folder):
            yield from self.posts(folder)
        for entry in self.entries(directory):
            path = f"{folder}/{entry.name}" if folder else entry.name
            if not entry.is_dir() or not self.admitted(entry.name, path, is_dir=True):
                continue
            if not entry.is_symlink() or self.inside_root(Path(entry.path)):
                yield from self.walk(path)

    def posts(self, folder: str) -> Iterator[PostFile]:
        """The posts in `folder/_posts`, at any depth, in name order."""
        base = self.root / folder / "_posts" if folder else self.root / "_posts"
        if not base.is_dir() or not self.inside_root(base):
            return
        key = str(base)
        if self.memo is not None and key in self.memo:
            folders, found = self.memo[key]
            if _unchanged(folders):
                yield from found
                return
        listed: list[tuple[str, int]] = []
        links: set[str] = set()
        found_now = []
        for inside in sorted(self.files_below(base, "", listed, links)):
            post = self.post(folder, inside, linked=inside in links)
            if post is not None:
                found_now.append(post)
        if self.memo is not None:
            self.memo[key] = (tuple(listed), tuple(found_now))
        yield from found_now

    def files_below(
        self, base: Path, prefix: str, listed: list[tuple[str, int]], links: set[str]
    ) -> Iterator[str]:
        """Paths under `base` as Ruby's `Dir["**/*"]` lists them: no hidden names. Each folder
        listed goes into `listed`, with its modification time as it was before listing it, and
        each file that is a symlink into `links`."""
        folder = base / prefix if prefix else base
        try:
            mtime = os.stat(folder).st_mtime_ns
        except OSError:
            mtime = -1
        # A folder changed moments ago may change again within the same tick of the file
        # system's clock, unseen: it is listed again at the next walk, until it has settled.
        listed.append((str(folder), mtime if time.time_ns() - mtime > _SETTLED_NS else -1))
        for entry in self.entries(folder):
            if entry.name.startswith("."):
                continue
            inside = f"{prefix}/{entry.name}" if prefix else entry.name
            if entry.is_dir():
                if not entry.is_symlink():
                    yield from self.files_below(base, inside, listed, links)
            elif entry.is_file():
                if entry.is_symlink():
                    links.add(inside)
                yield inside

    def post(self, folder: str, inside: str, *, linked: bool = True) -> PostFile | None:
        """The post at `folder/_posts/inside`, or None when Jekyll's rules leave it out.

        `linked=False` says the file is no symlink, in a `_posts` folder already found inside
        the site: then it is inside the site too, and its path is not resolved again.
        """
        name = inside.rpartition("/")[2]
        if inside.startswith(_SPECIAL_START) or name.startswith(_SPECIAL_START):
            return None
        if inside.endswith("~"):
            return None
        parsed = parse_post_name(name)
        if parsed is None or parsed.ext.lower() not in self.extensions:
            return None
        site_path = f"{folder}/_posts/{inside}" if folder else f"_posts/{inside}"
        if self.excluded(site_path, is_dir=False):
            return None
        path = self.root / site_path
        if linked and not self.inside_root(path):
            return None
        relative = self.relative_path(site_path)
        return PostFile(
            path=path,
            site_path=site_path,
            relative_path=relative,
            name=parsed,
            folder_categories=folder_categories(relative),
        )

    def relative_path(self, site_path: str) -> str:
        collections_dir = self.config.collections_dir
        if collections_dir and site_path.startswith(f"{collections_dir}/"):
            return site_path[len(collections_dir) + 1 :]
        return site_path

    def posts_may_be_in(self, folder: str) -> bool:
        """Whether Jekyll reads posts in `folder` (only within `collections_dir` when set)."""
        collections_dir = self.config.collections_dir
        return not collections_dir or f"/{folder}".startswith(f"/{collections_dir}")

    def admitted(self, name: str, path: str, *, is_dir: bool) -> bool:
        """Whether Jekyll's entry filter keeps this file or folder."""
        included = self.included(path) or self.included(name)
        if self.excluded(path, is_dir=is_dir) and not included:
            return False
        if included:
            return True
        return not (name.startswith(_SPECIAL_START) or name.endswith("~"))

    def included(self, path: str) -> bool:
        return any(
            fnmatchcase(path, pattern) or path.startswith(pattern)
            for pattern in (p.lstrip("/") for p in self.config.include)
        )

    def excluded(self, path: str, *, is_dir: bool) -> bool:
        if not is_dir:  # one pattern for all: this is asked of every post file
            return self.file_excludes.match(path) is not None
        # `File.fnmatch?` without flags lets `*` match "/" too, as `fnmatchcase` does.
        return any(
            fnmatchcase(path, pattern)
            or path.startswith(pattern)
            or (is_dir and pattern == f"{path}/")
            for pattern in self.excludes
        )

    def inside_root(self, path: Path) -> bool:
        real = os.path.realpath(path)
        return real == self.real_root or real.startswith(self.real_root + os.sep)

    @staticmethod
    def entries(directory: Path) -> list[os.DirEntry[str]]:
        try:
            with os.scandir(directory) as found:
                return sorted(found, key=lambda entry: entry.name)
        except OSError:
            return []
