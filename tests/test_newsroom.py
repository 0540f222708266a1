"""Editors' actions as files: breaking items and retractions."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.errors import EditorError
from bot.newsroom import (
    BREAKING,
    breaking_post,
    draft_breaking,
    mark_retracted,
    preview_post,
    write_post_file,
)
from bot.posts import Run, read_post
from tests.helpers import WritePost

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
