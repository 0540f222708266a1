"""The library of all posts: rescanning the content folder, and the index readers ask.

The content folder's files are found by `folder`: each post file is read through `parse`, or
through `site` when it is a post of a Jekyll site (the content folder itself when it holds a
`_config.yml`, or a folder inside it that does), or recalled from the posts cache when the same
bytes were read before under the same rules; the posts are indexed newest first, by id, by
category and by language.

A file that cannot be read becomes a `Rejection` with a one-line reason; it never stops the
other posts from loading, whatever went wrong with it: a link loop, a file linked from outside
the content folder, an error of the file system, or a bug in the reading rules themselves (the
rejection then names the exception). A folder inside that cannot be listed is rejected too, and
the posts found in it before stay loaded. Only a content folder that cannot be listed at all
fails the scan (`OSError`), and then the index of the last scan is kept as it was.

A scan re-reads only files whose size or modification time changed, and every post of a site
whose configuration changed. A site's configuration that cannot be read is a rejection (of its
`_config.yml`), and the site's posts found before stay loaded, as a folder's that cannot be
listed do. What a newsroom should fix although its posts load (a date read from the file name, a
site without an address) is a `Notice` (`PostLibrary.warnings`), never a rejection.

Besides the content folder, the library reads the folders it is given `also` (the editors'
breaking items in the newsroom folder), which may not exist yet, and passes every post through
its `Amendments` (the retractions editors recorded outside the post files) at every scan.
"""

from __future__ import annotations

import contextlib
import heapq
import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

from bot.errors import PostError
from bot.posts.cache import PostCache
from bot.posts.folder import inside, one_line, post_files, read_bytes, why
from bot.posts.jekyll import PostFile
from bot.posts.jekyll.config import CONFIG_FILES, find_config_file
from bot.posts.model import Category, Notice, Post, Rejection, primary_language
from bot.posts.parse import parse_post
from bot.posts.site import Site, open_site, read_site_file

log = logging.getLogger(__name__)

#: A site without an address: the notice, and the site's post files it is about.
_Linkless = tuple[Notice, frozenset[str]]
NO_LINK = (
    "the site has no `url`, so cards will have no link: set `url` in its configuration, "
    "or NEWSBOT_SITE_URL"
)


def read_post(path: Path) -> Post:
    """Read and parse one post file."""
    return parse_post(path, read_bytes(path))


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


class Amendments(Protocol):
    """Changes to posts recorded outside their files, applied to every post the library loads."""

    def reload(self) -> bool:
        """Read the record again; True when what it changes differs from before."""
        ...

    def apply(self, post: Post) -> Post:
        """The post as readers must see it."""
        ...


@dataclass(slots=True)
class _CachedFile:
    signature: tuple[object, ...] | None
    """Size, modification time and the rules of its site; None when the file could not even
    be looked at."""
    result: Post | Rejection


class PostLibrary:
    """All posts of the content folder, indexed newest first, by category and by id.

    `scan()` re-reads only files whose size or modification time changed, so rescanning a large
    archive that did not change costs one directory walk and no parsing. With a `PostCache`,
    the first scan after a start parses only the files that changed since the last run.
    """

    def __init__(
        self,
        root: Path,
        *,
        cache: PostCache | None = None,
        also: tuple[Path, ...] = (),
        amendments: Amendments | None = None,
        site_url: str | None = None,
    ) -> None:
        """`site_url` is the address of a Jekyll site whose `_config.yml` has no `url`."""
        self.root = root
        self._site_url = site_url
        self._site_notices: tuple[_Linkless, ...] = ()
        self._sites: dict[str, Site] = {}
        self._in_sites: dict[str, tuple[Site, PostFile]] = {}
        self._post_notices: tuple[Notice, ...] = ()
        self._also = also
        self._amendments = amendments
        self._cache = cache
        self._files: dict[str, _CachedFile] = {}
        self._posts: list[Post] = []
        self._by_id: dict[str, Post] = {}
        self._by_category: dict[str, list[Post]] = {}
        self._by_language: dict[str | None, list[Post]] = {}
        self._categories: dict[str, Category] = {}
        self._rejected: tuple[Rejection, ...] = ()
        self._unreadable: tuple[Rejection, ...] = ()

    def scan(self) -> ScanReport:
        """Bring the index up to date with the folder and report what changed.

        Raises `OSError` when the content folder cannot be listed, changing nothing.
        """
        unreadable: list[tuple[str, OSError]] = []
        site_folders: list[str] = []
        real_root = os.path.realpath(self.root)
        roots = dict.fromkeys(post_files(self.root, unreadable, site_folders), real_root)
        for folder in self._also:
            real = os.path.realpath(folder)
            with contextlib.suppress(FileNotFoundError):  # nothing written there yet
                roots.update(dict.fromkeys(post_files(folder, unreadable), real))
        in_sites, broken, notices = self._open_sites(site_folders, real_root)
        roots.update(dict.fromkeys(in_sites, real_root))
        self._in_sites = in_sites
        seen = set(roots)
        # What a folder that cannot be listed (or a site whose configuration cannot be read)
        # held at the last scan is kept as it was.
        lost = [folder for folder, _ in unreadable] + [str(r.path.parent) for r in broken]
        kept = {
            known
            for folder in lost
            for known in self._files
            if known.startswith(folder.rstrip(os.sep) + os.sep)
        }
        seen |= kept
        folders = tuple(
            Rejection(self._relative(Path(folder)), one_line(f"cannot read the folder: {why(exc)}"))
            for folder, exc in sorted(unreadable, key=lambda found: found[0])
        ) + tuple(Rejection(self._relative(r.path), r.reason) for r in broken)
        self._site_notices = notices
        first_scan = not self._files
        keys: list[str] = []
        dirty = folders != self._unreadable
        if self._amendments is not None and self._amendments.reload():
            dirty = True
        self._unreadable = folders
        for gone in self._files.keys() - seen:
            del self._files[gone]
            dirty = True
        for file_path in seen - kept:
            in_site = in_sites.get(file_path)
            try:
                stat = os.stat(file_path)
                signature: tuple[object, ...] | None = (
                    stat.st_size,
                    stat.st_mtime_ns,
                    in_site[0].rules if in_site else b"",
                )
                problem = None
            except OSError as exc:
                signature, problem = None, exc
            cached = self._files.get(file_path)
            if cached and signature is not None and cached.signature == signature:
                continue
            if problem is not None:
                reason = one_line(f"cannot read the file: {why(problem)}")
                result: Post | Rejection = Rejection(self._relative(Path(file_path)), reason)
                if cached and cached.result == result:
                    continue
            else:
                result = self._read(Path(file_path), roots[file_path], keys, in_site)
            self._files[file_path] = _CachedFile(signature, result)
            dirty = True
        if self._cache is not None:
            # An empty first scan (a folder not mounted yet, say) forgets nothing.
            self._cache.save(in_use=keys if first_scan and keys else None)
        if not dirty:
            return ScanReport(rejected=self._rejected)
        return self._rebuild()

    def _open_sites(
        self, folders: list[str], real_root: str
    ) -> tuple[dict[str, tuple[Site, PostFile]], list[Rejection], tuple[_Linkless, ...]]:
        """The post files of the Jekyll sites in `folders`, by path; a site whose configuration
        cannot be read as a rejection (of its configuration file); and the sites without an
        address, with the notice that says so."""
        found: dict[str, tuple[Site, PostFile]] = {}
        broken: list[Rejection] = []
        notices: list[_Linkless] = []
        sites: dict[str, Site] = {}
        for folder in folders:
            root = Path(folder)
            relative = os.path.relpath(os.path.realpath(folder), real_root)
            prefix = "" if relative == os.curdir else relative.replace(os.sep, "/") + "/"
            try:
                site = open_site(
                    root, prefix=prefix, site_url=self._site_url, before=self._sites.get(folder)
                )
            except PostError as exc:
                config = find_config_file(root) or root / CONFIG_FILES[0]
                broken.append(Rejection(config, one_line(str(exc))))
                continue
            except OSError as exc:
                broken.append(Rejection(root / CONFIG_FILES[0], one_line(why(exc))))
                continue
            sites[folder] = site
            for file in site.files:
                found[str(file.path)] = (site, file)
            if site.files and not site.has_links:
                config = find_config_file(root) or root / CONFIG_FILES[0]
                files = frozenset(str(file.path) for file in site.files)
                notices.append((Notice(self._relative(config), NO_LINK), files))
        self._sites = sites
        return found, broken, tuple(notices)

    def _read(
        self, path: Path, root: str, keys: list[str], in_site: tuple[Site, PostFile] | None
    ) -> Post | Rejection:
        """One file as a post (from the cache when its bytes were read before), or why not."""
        try:
            if not inside(str(path), root):
                raise PostError("the file is a link to outside the content folder")
            raw = read_bytes(path)
            if self._cache is None:
                return self._parse(path, raw, in_site)
            key, post = self._cache.recall(path, raw, in_site[0].rules if in_site else b"")
            if post is None:
                post = self._parse(path, raw, in_site)
                self._cache.keep(key, post)
            keys.append(key)
            return post
        except PostError as exc:
            return Rejection(self._relative(path), one_line(str(exc)))
        except Exception as exc:  # the last line of defence: one file never ends a scan
            log.debug("reading a post failed unexpectedly file=%s", path, exc_info=True)
            reason = one_line(f"cannot be read ({type(exc).__name__}: {exc})")
            return Rejection(self._relative(path), reason)

    def read_as(self, path: Path, raw: bytes) -> Post:
        """What `raw` would become as the post file at `path`, read by the rules the last scan
        read that file with (its Jekyll site's, or the plain folder's): how an editor's change
        to a file is checked before it replaces the file. `PostError` when it would not load."""
        return self._parse(path, raw, self._in_sites.get(str(path)))

    @staticmethod
    def _parse(path: Path, raw: bytes, in_site: tuple[Site, PostFile] | None) -> Post:
        if in_site is None:
            return parse_post(path, raw)
        site, file = in_site
        return read_site_file(site, file, raw)

    def _relative(self, path: Path) -> Path:
        for root in (self.root, *self._also):
            if path.is_relative_to(root):
                return path.relative_to(root)
        return path

    def _rebuild(self) -> ScanReport:
        before = self._by_id
        by_id: dict[str, Post] = {}
        rejected: list[Rejection] = list(self._unreadable)
        for file_path in sorted(self._files):
            result = self._files[file_path].result
            if isinstance(result, Rejection):
                rejected.append(result)
                continue
            if self._amendments is not None:
                result = self._amendments.apply(result)
            if result.id in by_id:
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
        self._post_notices = tuple(
            Notice(self._relative(post.path), one_line(warning))
            for post in sorted(by_id.values(), key=lambda post: str(post.path))
            for warning in post.warnings
        )
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

    @property
    def warnings(self) -> tuple[Notice, ...]:
        """What the last scan found a newsroom should fix, although the posts load."""
        linkless = tuple(
            notice
            for notice, files in self._site_notices
            if any(post.url is None for post in self._posts if str(post.path) in files)
        )
        return linkless + self._post_notices

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
