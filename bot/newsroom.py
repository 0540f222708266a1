"""What editors do through the bot, as files: breaking news and retractions.

Breaking news typed into Telegram becomes an ordinary post file, so it is part of the archive,
of `/latest` and of every later scan, exactly like an article the newsroom's site published. It
is written into the editors' folder: `NEWSBOT_NEWSROOM_DIR` when set, else the content folder.

A retraction is recorded where the bot may write:
- with a newsroom folder, in its `retractions.json` (post id -> when), which the library applies
  to the posts it reads (`Retractions`): the content folder may then be read-only, and the bot
  never writes into it;
- without one, in the post's own front matter (`retracted: true`), so the archive and the bot
  never disagree about it.

Every write keeps what was there if anything goes wrong: the new text is parsed as a post first,
written to a temporary file beside the old one, flushed to the disk, and then renamed over it
in one step, so a scan (or a crash) sees the old file or the new one, never half of one. A post
file keeps its bytes and encoding (a UTF-8 BOM, Windows-1252, CRLF line ends): the retraction
only adds one line. A folder the bot cannot write is an `EditorError` that says so, shown to
the editor before they confirm. Nothing here knows about Telegram's types.
"""

from __future__ import annotations

import errno
import hashlib
import json
import logging
import os
import re
import secrets
import stat
import tempfile
import threading
from collections.abc import Callable, Mapping
from contextlib import suppress
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

import frontmatter
from bs4 import BeautifulSoup
from markdownify import markdownify

from bot.errors import EditorError, PostError
from bot.importer import slugify
from bot.posts import Post, category_key, parse_post, read_post, safe_url

log = logging.getLogger(__name__)

BREAKING = "BREAKING"
BREAKING_FOLDER = "breaking"
RETRACTIONS_FILE = "retractions.json"
READ_ONLY_ADVICE = "ask whoever runs the bot to set NEWSBOT_NEWSROOM_DIR to a writable folder"

#: A front matter boundary line (as python-frontmatter reads them), and a top-level
#: `retracted:` key, on the file's bytes: every encoding a post may have keeps ASCII as ASCII.
_BOUNDARY = re.compile(rb"-{3,}[ \t]*\r?\n?")
_RETRACTED_KEY = re.compile(rb"""["']?retracted["']?[ \t]*:""")
_BOM = b"\xef\xbb\xbf"
#: One retraction written at a time, so two editors never lose each other's.
_RETRACTIONS_LOCK = threading.Lock()

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
    """The post a file's text will become, or `EditorError` when it would not load or could
    not be written where it would go (so the editor learns it before confirming)."""
    try:
        post = parse_post(path, text.encode())
    except PostError as exc:
        raise EditorError(f"the item would not load: {exc}") from None
    _check_writable(path.parent)
    return post


def write_post_file(path: Path, text: str) -> Post:
    """Write a new post file (never over an existing one) and read it back."""
    preview_post(path, text)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        _create(path, text.encode("utf-8"))
    except FileExistsError:
        raise EditorError(f"{path.name} already exists") from None
    except OSError as exc:
        raise _cannot_write(path.parent, exc) from None
    return read_post(path)


def mark_retracted(
    post: Post,
    *,
    newsroom: Path | None = None,
    read: Callable[[Path, bytes], Post] = parse_post,
) -> Post:
    """Retract a post: in `newsroom`'s `retractions.json` when given, else in its own file.

    `read` reads a file's bytes as the library does (a Jekyll site's post by the site's rules):
    the edited file must read as the same post, retracted, before it replaces the old one.
    Returns the post as readers will now have it. `EditorError` when it cannot be recorded;
    nothing is changed then.
    """
    if newsroom is not None:
        return _record_retraction(post, newsroom)
    return _retract_in_file(post, read)


# --- retractions kept in the newsroom folder ---------------------------------------------------


@dataclass(frozen=True, slots=True)
class Retractions:
    """Posts retracted by editors, recorded in the newsroom folder instead of their own files.

    The library reads them at every scan (`Retractions.read`) and passes each post it loads
    through `apply`; a post named here is retracted whatever its file says.
    """

    retracted: Mapping[str, str] = field(default_factory=dict)
    """Post id -> when it was retracted (ISO 8601)."""

    @classmethod
    def read(cls, newsroom: Path) -> Retractions:
        """The retractions recorded in `newsroom` (none when the file does not exist yet).

        `EditorError` when the file cannot be read or was edited into something else: the
        caller keeps the retractions it had, rather than publishing retracted posts again.
        """
        file = newsroom / RETRACTIONS_FILE
        try:
            raw = file.read_bytes()
        except FileNotFoundError:
            return cls()
        except OSError as exc:
            raise EditorError(f"cannot read {file}: {exc.strerror or exc}") from None
        try:
            data = json.loads(raw.decode("utf-8-sig"))
        except ValueError as exc:
            raise EditorError(f"{file} is not valid JSON: {exc}") from None
        if not isinstance(data, dict) or not all(
            isinstance(key, str) and isinstance(value, str) for key, value in data.items()
        ):
            raise EditorError(f"{file} must map post ids to dates, as newsbot writes it")
        return cls(data)

    def apply(self, post: Post) -> Post:
        """The post as readers must see it: retracted when recorded here."""
        if post.retracted or post.id not in self.retracted:
            return post
        # A new digest: to the library, the retraction is a change of the post like an edit.
        digest = hashlib.sha256(f"{post.digest}:retracted".encode()).hexdigest()
        return replace(post, retracted=True, digest=digest)


class RetractionLedger:
    """The retractions of a newsroom folder as the library applies them, read at every scan.

    A file that cannot be read, or was edited into something else, keeps the retractions read
    last (with a warning), so a typo never publishes a retracted post again.
    """

    def __init__(self, newsroom: Path) -> None:
        self.newsroom = newsroom
        self.current = Retractions()

    def reload(self) -> bool:
        """Read the file again; True when the set of retracted posts changed."""
        try:
            latest = Retractions.read(self.newsroom)
        except EditorError as exc:
            log.warning("retractions kept from before problem=%s", exc)
            return False
        changed = latest.retracted.keys() != self.current.retracted.keys()
        self.current = latest
        return changed

    def apply(self, post: Post) -> Post:
        """The post as readers must see it: retracted when recorded."""
        return self.current.apply(post)


def _record_retraction(post: Post, newsroom: Path) -> Post:
    with _RETRACTIONS_LOCK:
        current = Retractions.read(newsroom)
        recorded = {**current.retracted, post.id: datetime.now(UTC).isoformat(timespec="seconds")}
        if post.id not in current.retracted:
            text = json.dumps(recorded, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
            try:
                newsroom.mkdir(parents=True, exist_ok=True)
                _replace(newsroom / RETRACTIONS_FILE, text.encode("utf-8"))
            except OSError as exc:
                raise _cannot_write(newsroom, exc) from None
        return Retractions(recorded).apply(post)


# --- retractions written into the post -------------------------------------------------------


def _retract_in_file(post: Post, read: Callable[[Path, bytes], Post]) -> Post:
    path = Path(os.path.realpath(post.path))  # a post reached through a link keeps its link
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise EditorError(f"cannot read {post.path.name}: {exc.strerror or exc}") from None
    updated = with_retracted_line(raw)
    before = after = None
    with suppress(PostError):
        before = read(post.path, raw)
        after = read(post.path, updated) if updated is not None else None
    # Nothing but the retraction may change: the same post, now retracted.
    if (
        updated is None
        or before is None
        or after is None
        or after != replace(before, retracted=True, digest=after.digest)
    ):
        raise EditorError(
            f"cannot mark {post.path.name} retracted safely (unusual front matter): "
            "add `retracted: true` to it by hand"
        )
    try:
        _replace(path, updated)
    except OSError as exc:
        raise _cannot_write(path.parent, exc) from None
    return after


def with_retracted_line(raw: bytes) -> bytes | None:
    """A post file's bytes with `retracted: true` in its front matter, everything else kept
    byte for byte (encoding, BOM, line ends, comments); None when it has no front matter.

    An earlier `retracted:` line (and the indented lines that continue it) is replaced.
    """
    lines = raw.splitlines(keepends=True)
    opening = next((i for i, line in enumerate(lines) if line.strip(_BOM + b" \t\r\n")), None)
    if opening is None or not _BOUNDARY.fullmatch(lines[opening].removeprefix(_BOM)):
        return None
    closing = next(
        (i for i in range(opening + 1, len(lines)) if _BOUNDARY.fullmatch(lines[i])), None
    )
    if closing is None:
        return None
    ending = lines[opening][len(lines[opening].rstrip(b"\r\n")) :] or b"\n"
    kept: list[bytes] = []
    dropping = False
    for line in lines[opening + 1 : closing]:
        continues = line[:1] in (b" ", b"\t")
        if _RETRACTED_KEY.match(line):
            dropping = True
            continue
        if dropping and continues:
            continue
        dropping = False
        kept.append(line)
    return b"".join([*lines[: opening + 1], *kept, b"retracted: true" + ending, *lines[closing:]])


# --- writing files ---------------------------------------------------------------------------


def _temporary(folder: Path, name: str, data: bytes) -> str:
    """A temporary file in `folder` (hidden from scans) holding `data`, flushed to the disk."""
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
    except BaseException:
        with suppress(OSError):
            os.unlink(temporary)
        raise
    return temporary


def _replace(path: Path, data: bytes) -> None:
    """Put `data` in place of the file at `path` in one step, keeping its permissions."""
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        mode = 0o644
    temporary = _temporary(path.parent, path.name, data)
    try:
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        with suppress(OSError):
            os.unlink(temporary)
        raise
    _sync_folder(path.parent)


def _create(path: Path, data: bytes) -> None:
    """Put `data` at `path` in one step, unless a file is there (`FileExistsError`)."""
    temporary = _temporary(path.parent, path.name, data)
    try:
        os.chmod(temporary, 0o644)
        try:
            os.link(temporary, path)  # fails if `path` exists: never over another file
        except OSError as exc:
            if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK):
                raise
            if path.exists():  # a file system without hard links: check, then rename
                raise FileExistsError(errno.EEXIST, "exists", str(path)) from None
            os.replace(temporary, path)
    finally:
        with suppress(OSError):
            os.unlink(temporary)
    _sync_folder(path.parent)


def _sync_folder(folder: Path) -> None:
    """Make a rename in `folder` survive a power cut (where the system allows it)."""
    with suppress(OSError):
        handle = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(handle)
        finally:
            os.close(handle)


def _check_writable(folder: Path) -> None:
    """`EditorError` unless the bot may create files in `folder` (or the folder it will make)."""
    existing = folder
    while not existing.exists() and existing.parent != existing:
        existing = existing.parent
    effective = os.access in os.supports_effective_ids
    if not existing.is_dir():
        raise EditorError(f"cannot write to {folder}: {existing} is not a folder")
    if not os.access(existing, os.W_OK | os.X_OK, effective_ids=effective):
        raise EditorError(f"cannot write to {folder}: it is read-only; {READ_ONLY_ADVICE}")


def _cannot_write(folder: Path, exc: OSError) -> EditorError:
    if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        return EditorError(f"cannot write to {folder}: it is read-only; {READ_ONLY_ADVICE}")
    return EditorError(f"cannot write to {folder}: {exc.strerror or exc}")
