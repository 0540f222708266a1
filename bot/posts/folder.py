"""Where post files are found: the walk of a content folder, and reading one file's bytes.

A content folder is walked as Jekyll would (names starting with `_` or `.` are skipped); a folder
holding a Jekyll `_config.yml` is not walked but handed back as a site, which `site` reads by
Jekyll's own rules. Everything here is about files, never about what is in them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from bot.errors import PostError
from bot.posts.jekyll.config import CONFIG_FILES
from bot.posts.parse import MAX_FILE_BYTES

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
        raise PostError(f"cannot read the file: {why(exc)}") from None


def why(exc: OSError) -> str:
    return exc.strerror or str(exc) or type(exc).__name__


# --- the content folder ------------------------------------------------------------------------


def post_files(
    root: Path,
    unreadable: list[tuple[str, OSError]] | None = None,
    sites: list[str] | None = None,
) -> Iterator[str]:
    """Every post file under `root` (or `root` itself when it is one), skipping `_drafts`,
    `.git` and every other name that starts with `_` or `.`, as Jekyll does.

    Linked folders are not followed. A linked file is listed even when its link cannot be
    followed (a loop, say): reading it says why. `OSError` when `root` cannot be listed; a
    folder inside that cannot be is added to `unreadable`, with the error, and skipped.
    With `sites`, a folder holding a Jekyll `_config.yml` (`root` itself included) is not
    walked but added to `sites`, to be read as the site it is.
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
        if sites is not None and any(entry.name in CONFIG_FILES for entry in entries):
            sites.append(folder)
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
