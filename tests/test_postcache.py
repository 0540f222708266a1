"""The cache of posts already read: exact round trips, and never a stale or fatal entry."""

from __future__ import annotations

import logging
import sqlite3
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot import posts
from bot.postcache import PostCache, dump_post, load_post
from bot.posts import Category, Post, PostLibrary, Run, read_post
from tests.helpers import SEED, WritePost

CONTENT = Path(__file__).resolve().parents[1] / "content"

runs = st.builds(
    Run,
    text=st.text(min_size=1),
    bold=st.booleans(),
    italic=st.booleans(),
    strike=st.booleans(),
    code=st.booleans(),
    href=st.none() | st.just("https://example.org/a?b=1&c=ü"),
)
optional_text = st.none() | st.text()


@settings(max_examples=100)
@given(
    title=st.text(),
    summary=st.lists(runs, max_size=4).map(tuple),
    moment=st.datetimes(timezones=st.just(UTC) | st.just(timezone(timedelta(hours=7)))),
    categories=st.lists(st.builds(Category, st.text(), st.text()), max_size=3).map(tuple),
    url=optional_text,
    language=optional_text,
    flags=st.tuples(st.booleans(), st.booleans(), st.booleans()),
)
def test_any_post_comes_back_exactly(
    title: str,
    summary: tuple[Run, ...],
    moment: datetime,
    categories: tuple[Category, ...],
    url: str | None,
    language: str | None,
    flags: tuple[bool, bool, bool],
) -> None:
    published, retracted, breaking = flags
    post = Post(
        id="a-story",
        path=Path("content/a-story.md"),
        title=title,
        summary=summary,
        date=moment,
        categories=categories,
        url=url,
        image=url,
        language=language,
        published=published,
        retracted=retracted,
        breaking=breaking,
        photo_id=language,
        digest="d" * 64,
    )
    again = load_post(post.path, dump_post(post))
    assert again == post
    assert again.date.utcoffset() == moment.utcoffset()


def test_the_seed_post_and_the_sample_content_come_back_exactly() -> None:
    for path in [SEED, *sorted(CONTENT.rglob("*.md"))]:
        if path.parts[-2] == "_drafts":
            continue
        post = read_post(path)
        assert load_post(path, dump_post(post)) == post, path


def test_a_restart_reads_from_the_cache_and_an_edit_is_read_again(
    tmp_path: Path, content: Path, write_post: WritePost, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_post("one.md", title="First headline")
    write_post("two.md", title="Second headline")
    cache_file = tmp_path / "posts-cache.sqlite3"
    first = PostLibrary(content, cache=PostCache(cache_file))
    first.scan()

    parsed: list[Path] = []
    real_parse = posts.parse_post

    def counting_parse(path: Path, raw: bytes) -> Post:
        parsed.append(path)
        return real_parse(path, raw)

    monkeypatch.setattr(posts, "parse_post", counting_parse)
    restarted = PostLibrary(content, cache=PostCache(cache_file))
    restarted.scan()
    assert parsed == []
    assert restarted.posts == first.posts

    write_post("two.md", title="Second headline, corrected")
    again = PostLibrary(content, cache=PostCache(cache_file))
    again.scan()
    assert [p.name for p in parsed] == ["two.md"]
    assert {p.title for p in again.posts} == {"First headline", "Second headline, corrected"}


def test_entries_of_files_gone_are_forgotten_at_the_next_start(
    tmp_path: Path, content: Path, write_post: WritePost
) -> None:
    cache_file = tmp_path / "posts-cache.sqlite3"
    write_post("one.md")
    doomed = write_post("two.md")
    cache = PostCache(cache_file)
    PostLibrary(content, cache=cache).scan()
    cache.close()
    doomed.unlink()
    cache = PostCache(cache_file)
    PostLibrary(content, cache=cache).scan()
    cache.close()

    with sqlite3.connect(cache_file) as connection:
        (count,) = connection.execute("SELECT count(*) FROM posts").fetchone()
    assert count == 1


def test_a_corrupt_cache_is_reported_and_every_post_still_loads(
    tmp_path: Path, content: Path, write_post: WritePost, caplog: pytest.LogCaptureFixture
) -> None:
    write_post("one.md", title="Still here")
    cache_file = tmp_path / "posts-cache.sqlite3"
    cache_file.write_bytes(b"this is not an SQLite database" * 100)
    caplog.set_level(logging.WARNING)
    library = PostLibrary(content, cache=PostCache(cache_file))
    library.scan()
    assert [p.title for p in library.posts] == ["Still here"]
    assert "post cache unusable" in caplog.text
