"""Editors' actions as files: breaking items and retractions, and the places they are written."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.errors import EditorError
from bot.newsroom import (
    BREAKING,
    RETRACTIONS_FILE,
    RetractionLedger,
    Retractions,
    breaking_post,
    draft_breaking,
    mark_retracted,
    preview_post,
    write_post_file,
)
from bot.posts import Run, read_post
from tests.helpers import WritePost, post_text

NOBODY = 65534

CATEGORIES = {"world": "WORLD", "asia_pacific": "Asia Pacific"}
NOW = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)


def test_first_line_is_the_headline_and_formatting_is_kept() -> None:
    draft = draft_breaking(
        '/breaking <b>Quake</b> hits the coast\nAt least <a href="https://ex.com/q">ten</a>'
        " towns &amp; villages.\n\nMore to follow.",
        categories=CATEGORIES,
    )
    assert draft.headline == "Quake hits the coast"
    assert draft.category == BREAKING
    post = preview_post(*breaking_post(draft, Path("content"), NOW))
    assert post.title == "Quake hits the coast"
    assert Run("ten", href="https://ex.com/q") in post.summary
    assert post.summary_text == "At least ten towns & villages."
    assert post.breaking and post.date == NOW


def test_a_known_category_before_a_colon_files_the_item_there() -> None:
    assert draft_breaking("/breaking world: Quake", categories=CATEGORIES).category == "WORLD"
    asia = draft_breaking("/breaking@newsbot Asia Pacific: Storm", categories=CATEGORIES)
    assert (asia.category, asia.headline) == ("Asia Pacific", "Storm")
    update = draft_breaking("/breaking Update: talks resume", categories=CATEGORIES)
    assert (update.category, update.headline) == (BREAKING, "Update: talks resume")


def test_an_empty_item_is_refused() -> None:
    with pytest.raises(EditorError, match="headline"):
        draft_breaking("/breaking   ", categories=CATEGORIES)


def test_confirmed_item_is_written_once_as_a_post_file(content: Path) -> None:
    draft = draft_breaking("/breaking Storm warning", categories=CATEGORIES, photo_id="PHOTO1")
    path, text = breaking_post(draft, content, NOW)
    post = write_post_file(path, text)
    assert path.parent.name == "breaking"
    assert post.photo_id == "PHOTO1" and post.title == "Storm warning"
    assert post.summary_text == ""  # the headline is not repeated as a summary
    with pytest.raises(EditorError, match="already exists"):
        write_post_file(path, text)


def test_retraction_is_written_into_the_post(write_post: WritePost) -> None:
    path = write_post("a.md", "The story.", title="Story", code="A1")
    post = mark_retracted(read_post(path))
    assert post.retracted and post.title == "Story" and post.summary_text == "The story."
    assert "retracted: true" in path.read_text()
    assert not list(path.parent.glob(".*.tmp"))


# --- a post keeps its bytes ----------------------------------------------------------------------

POST = "---\ntitle: Café talks\ncode: A1\ndate: 2026-11-20T08:00:00Z\n---\n\nThe story, café.\n"


@pytest.mark.parametrize(
    ("name", "raw"),
    [
        ("bom.md", b"\xef\xbb\xbf" + POST.encode("utf-8")),
        ("windows.md", POST.encode("cp1252")),
        ("crlf.md", POST.replace("\n", "\r\n").encode("utf-8")),
    ],
)
def test_a_retraction_keeps_the_files_encoding_and_every_other_byte(
    content: Path, name: str, raw: bytes
) -> None:
    path = content / name
    path.write_bytes(raw)
    before = read_post(path)
    after = mark_retracted(before)
    assert after.retracted and read_post(path).retracted
    assert (after.title, after.summary_text) == ("Café talks", "The story, café.")
    ending = b"\r\n" if b"\r\n" in raw else b"\n"
    assert path.read_bytes() == raw.replace(
        ending + b"---" + ending, ending + b"retracted: true" + ending + b"---" + ending, 1
    )
    assert not [f for f in content.iterdir() if f.name.startswith(".")]


def test_an_earlier_retracted_line_is_replaced(write_post: WritePost) -> None:
    path = write_post("a.md", "The story.", title="Story", code="A1", retracted=False)
    text = path.read_text().replace("retracted: false", "retracted: >-\n  false")
    path.write_text(text)
    post = mark_retracted(read_post(path))
    assert post.retracted and path.read_text().count("retracted") == 1


@pytest.mark.parametrize(
    "raw",
    [
        b"---\n{title: Story, date: 2026-11-20}\n---\nBody\n",  # a flow mapping
        b'---\ntitle: "Story\nretracted: with a twist"\ndate: 2026-11-20\n---\nBody\n',
    ],
)
def test_front_matter_that_cannot_be_edited_safely_is_left_alone(content: Path, raw: bytes) -> None:
    path = content / "odd.md"
    path.write_bytes(raw)
    with pytest.raises(EditorError, match="add `retracted: true` to it by hand"):
        mark_retracted(read_post(path))
    assert path.read_bytes() == raw


# --- a read-only content folder, and the newsroom folder ---------------------------------------


@pytest.fixture
def read_only() -> Iterator[tuple[Path, Path]]:
    """A content folder holding one post that this process cannot write (as the compose file's
    read-only mount), and a writable newsroom folder beside it.

    Root may write anywhere, so under root the test runs as the user `nobody`, in a folder of the
    system's temporary area that user can reach.
    """
    with tempfile.TemporaryDirectory() as top:
        os.chmod(top, 0o755)
        content, newsroom = Path(top, "content"), Path(top, "newsroom")
        content.mkdir()
        newsroom.mkdir(mode=0o777)
        newsroom.chmod(0o777)
        (content / "a.md").write_text(
            post_text("The story.", title="Story", code="A1", date=NOW.isoformat())
        )
        content.chmod(0o555)
        root = os.geteuid() == 0
        if root:
            os.seteuid(NOBODY)
        try:
            yield content, newsroom
        finally:
            if root:
                os.seteuid(0)
            content.chmod(0o755)


def test_a_read_only_folder_is_a_clear_message_for_the_editor(
    read_only: tuple[Path, Path],
) -> None:
    content, _ = read_only
    post_file = content / "a.md"
    raw = post_file.read_bytes()
    with pytest.raises(
        EditorError, match="read-only; ask whoever runs the bot to set NEWSBOT_NEWSROOM_DIR"
    ):
        mark_retracted(read_post(post_file))
    draft = draft_breaking("/breaking Storm warning", categories=CATEGORIES)
    with pytest.raises(EditorError, match="read-only"):
        preview_post(*breaking_post(draft, content, NOW))  # before the editor confirms
    with pytest.raises(EditorError, match="read-only"):
        write_post_file(*breaking_post(draft, content, NOW))
    assert post_file.read_bytes() == raw and os.listdir(content) == ["a.md"]


def test_with_a_newsroom_folder_editors_never_write_into_the_content(
    read_only: tuple[Path, Path],
) -> None:
    content, newsroom = read_only
    post_file = content / "a.md"
    raw = post_file.read_bytes()
    post = read_post(post_file)
    retracted = mark_retracted(post, newsroom=newsroom)
    assert retracted.retracted and retracted.digest != post.digest
    assert retracted.card_digest != post.card_digest  # readers' copies are corrected
    assert post_file.read_bytes() == raw
    recorded = Retractions.read(newsroom)
    assert list(recorded.retracted) == ["A1"]
    assert recorded.apply(read_post(post_file)) == retracted  # what the library will read
    assert mark_retracted(post, newsroom=newsroom) == retracted  # twice is once

    draft = draft_breaking("/breaking Storm warning", categories=CATEGORIES)
    path, text = breaking_post(draft, newsroom, NOW)
    written = write_post_file(path, text)
    assert path.parent == newsroom / "breaking" and written.title == "Storm warning"
    assert not written.retracted and Retractions.read(newsroom).apply(written) == written


def test_retractions_edited_by_hand_into_something_else_are_not_overwritten(
    tmp_path: Path, write_post: WritePost
) -> None:
    newsroom = tmp_path / "newsroom"
    assert Retractions.read(newsroom) == Retractions()  # none yet
    newsroom.mkdir()
    file = newsroom / RETRACTIONS_FILE
    file.write_text('{"A1": "2026-11-25T09:30:00+00:00",}')
    with pytest.raises(EditorError, match="not valid JSON"):
        Retractions.read(newsroom)
    post = read_post(write_post("b.md", title="Story", code="B1"))
    with pytest.raises(EditorError, match="not valid JSON"):
        mark_retracted(post, newsroom=newsroom)
    assert file.read_text().endswith(",}")  # the operator's file, as they left it
    file.write_text(json.dumps(["A1"]))
    with pytest.raises(EditorError, match="must map post ids"):
        Retractions.read(newsroom)


def test_the_ledger_tells_the_library_when_retractions_change(
    tmp_path: Path, write_post: WritePost, caplog: pytest.LogCaptureFixture
) -> None:
    newsroom = tmp_path / "newsroom"
    ledger = RetractionLedger(newsroom)
    post = read_post(write_post("a.md", title="Story", code="A1"))
    assert not ledger.reload() and ledger.apply(post) == post  # no file yet: nothing retracted
    mark_retracted(post, newsroom=newsroom)
    assert ledger.reload() and ledger.apply(post).retracted
    assert not ledger.reload()  # read again, nothing new
    (newsroom / RETRACTIONS_FILE).write_text("{oops")
    assert not ledger.reload() and ledger.apply(post).retracted  # a typo publishes nothing again
    assert "retractions kept from before" in caplog.text
    (newsroom / RETRACTIONS_FILE).write_text("{}")
    assert ledger.reload() and ledger.apply(post) == post  # deleted by hand: published again
