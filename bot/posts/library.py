"""The library of all posts: finding post files, rescanning them, and the index readers ask.

A content folder is walked as Jekyll would (names starting with `_` or `.` are skipped), each
post file is read through `parse` (or recalled from the posts cache when its bytes were read
before), and the posts are indexed newest first, by id, by category and by language.

A file that cannot be read becomes a `Rejection` with a one-line reason; it never stops the
other posts from loading, whatever went wrong with it: a link loop, a file linked from outside
the content folder, an error of the file system, or a bug in the reading rules themselves (the
rejection then names the exception). A folder inside that cannot be listed is rejected too, and
the posts found in it before stay loaded. Only a content folder that cannot be listed at all
fails the scan (`OSError`), and then the index of the last scan is kept as it was.

A scan re-reads only files whose size or modification time changed.

Besides the content folder, the library reads the folders it is given `also` (the editors'
breaking items in the newsroom folder), which may not exist yet, and passes every post through
its `Amendments` (the retractions editors recorded outside the post files) at every scan.
"""

from __future__ import annotations

import contextlib
import heapq
import logging
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

from bot.errors import PostError
from bot.posts.cache import PostCache
from bot.posts.model import Category, Post, Rejection, primary_language
from bot.posts.parse import MAX_FILE_BYTES, parse_post

log = logging.getLogger(__name__)

POST_SUFFIXES = frozenset({".md", ".markdown", ".html"})
#: A rejection's reason is one line of at most this many characters.
MAX_REASON = 200


# --- one file ----------------------------------------------------------------------------------


def read_bytes(path: Path) -> bytes:
    """A post file's bytes, refusing one too large to be a post before reading it."""
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise PostError(f"file is larger than {MAX_FILE_BYTES // 1024} KB")
        return path.read_bytes()
    except OSError as exc:
        raise PostError(f"cannot read the file: {_why(exc)}") from None


def _why(exc: OSError) -> str:
    return exc.strerror or str(exc) or type(exc).__name__


def read_post(path: Path) -> Post:
    """Read and parse one post file."""
    return parse_post(path, read_bytes(path))


# --- the content folder ------------------------------------------------------------------------


def post_files(root: Path, unreadable: list[tuple[str, OSError]] | None = None) -> Iterator[str]:
    """Every post file under `root` (or `root` itself when it is one), skipping `_drafts`,
    `.git` and every other name that starts with `_` or `.`, as Jekyll does.

    Linked folders are not followed. A linked file is listed even when its link cannot be
    followed (a loop, say): reading it says why. `OSError` when `root` cannot be listed; a
    folder inside that cannot be is added to `unreadable`, with the error, and skipped.
    """
    if root.is_file():
        if root.suffix.lower() in POST_SUFFIXES:
            yield str(root)
        return
    folders = [str(root)]  # a stack, not recursion: folders may nest deeper than Python's stack
    while folders:
        folder = folders.pop()
        try:
            with os.scandir(folder) as listing:
                entries = list(listing)
        except OSError as exc:
            if folder == str(root):
                raise
            if unreadable is not None:
                unreadable.append((folder, exc))
            continue
        for entry in entries:
            if entry.name.startswith(("_", ".")):
                continue
            if _is_folder(entry):
                folders.append(entry.path)
            elif os.path.splitext(entry.name)[1].lower() in POST_SUFFIXES and _may_be_file(entry):
                yield entry.path


def _is_folder(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir(follow_symlinks=False)
    except OSError:
        return False


def _may_be_file(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_file()
    except OSError:
        return True


def inside(path: str, root: str) -> bool:
    """Whether `path`, once every link in it is followed, is `root` or under it."""
    real = os.path.realpath(path)
    return real == root or real.startswith(root.rstrip(os.sep) + os.sep)


def one_line(reason: str) -> str:
    """A reason as one line of at most `MAX_REASON` characters."""
    line = " ".join(reason.split())
    return line if len(line) <= MAX_REASON else line[: MAX_REASON - 1] + "…"


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
    signature: tuple[int, int] | None
    """Size and modification time; None when the file could not even be looked at."""
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
    ) -> None:
        self.root = root
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
        roots = {path: os.path.realpath(self.root) for path in post_files(self.root, unreadable)}
        for folder in self._also:
            real = os.path.realpath(folder)
            with contextlib.suppress(FileNotFoundError):  # nothing written there yet
                roots.update(dict.fromkeys(post_files(folder, unreadable), real))
        seen = set(roots)
        # What a folder that cannot be listed held at the last scan is kept as it was.
        kept = {
            known
            for folder, _ in unreadable
            for known in self._files
            if known.startswith(folder.rstrip(os.sep) + os.sep)
        }
        seen |= kept
        folders = tuple(
            Rejection(
                self._relative(Path(folder)), one_line(f"cannot read the folder: {_why(exc)}")
            )
            for folder, exc in sorted(unreadable, key=lambda found: found[0])
        )
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
            try:
                stat = os.stat(file_path)
                signature: tuple[int, int] | None = (stat.st_size, stat.st_mtime_ns)
                problem = None
            except OSError as exc:
                signature, problem = None, exc
            cached = self._files.get(file_path)
            if cached and signature is not None and cached.signature == signature:
                continue
            if problem is not None:
                reason = one_line(f"cannot read the file: {_why(problem)}")
                result: Post | Rejection = Rejection(self._relative(Path(file_path)), reason)
                if cached and cached.result == result:
                    continue
            else:
                result = self._read(Path(file_path), roots[file_path], keys)
            self._files[file_path] = _CachedFile(signature, result)
            dirty = True
        if self._cache is not None:
            # An empty first scan (a folder not mounted yet, say) forgets nothing.
            self._cache.save(in_use=keys if first_scan and keys else None)
        if not dirty:
            return ScanReport(rejected=self._rejected)
        return self._rebuild()

    def _read(self, path: Path, root: str, keys: list[str]) -> Post | Rejection:
        """One file as a post (from the cache when its bytes were read before), or why not."""
        try:
            if not inside(str(path), root):
                raise PostError("the file is a link to outside the content folder")
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
            return Rejection(self._relative(path), one_line(str(exc)))
        except Exception as exc:  # the last line of defence: one file never ends a scan
            log.debug("reading a post failed unexpectedly file=%s", path, exc_info=True)
            reason = one_line(f"cannot be read ({type(exc).__name__}: {exc})")
            return Rejection(self._relative(path), reason)

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
