"""The library of posts: which files are posts, rejections, the index, and rescans."""

from __future__ import annotations

import dataclasses
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.posts import MAX_FILE_BYTES, Post, PostLibrary, parse_post
from tests.helpers import WritePost, post_text

NOW = datetime(2026, 11, 25, tzinfo=UTC)
CONTENT = Path(__file__).resolve().parents[2] / "content"


# --- the sample content ------------------------------------------------------------------------


def test_sample_content_loads_without_rejections() -> None:
    library = PostLibrary(CONTENT)
    library.scan()
    assert library.rejected == () and library.warnings == ()
    flat = [post for post in library.posts if "/_posts/" not in post.id]
    site = [post for post in library.posts if post.id.startswith("blog/_posts/")]
    assert len(flat) >= 12 and len(site) >= 3 and len(library.posts) == len(flat) + len(site)
    assert len(library.categories) >= 4
    # The site's posts link to their permalinks, with their images made absolute.
    assert all(
        post.url and post.url.startswith("https://www.example-news.com/blog/") for post in site
    )
    assert any(post.image and post.image.startswith("https://www.example-news.com/blog/assets/")
               for post in site)  # fmt: skip
    assert any(not post.has_time for post in site)


# --- which files load --------------------------------------------------------------------------


def test_broken_files_are_rejected_with_a_reason_and_the_rest_load(
    content: Path, write_post: WritePost
) -> None:
    write_post("good.md")
    (content / "yaml.md").write_text("---\ntitle: [unclosed\n---\nBody\n", encoding="utf-8")
    (content / "empty.md").write_text("---\ntitle: T\ndate: 2026-01-01\n---\n\n", encoding="utf-8")
    (content / "huge.md").write_bytes(b"---\ntitle: T\n---\n" + b"x" * (MAX_FILE_BYTES + 1))
    (content / "notes.md").write_text("just notes\n", encoding="utf-8")
    library = PostLibrary(content)
    library.scan()
    reasons = {str(r.path): r.reason for r in library.rejected}
    assert [p.id for p in library.posts] == ["good"]
    assert reasons["yaml.md"].startswith("malformed front matter")
    assert reasons["empty.md"] == "the post has no body"
    assert reasons["huge.md"].startswith("file is larger than")
    assert reasons["notes.md"].startswith("no front matter")
    assert all("\n" not in reason for reason in reasons.values())


def test_drafts_and_hidden_files_are_ignored(content: Path, write_post: WritePost) -> None:
    write_post("_drafts/draft.md")
    write_post(".hidden/secret.md")
    write_post("_private.md")
    write_post("notes.txt")
    write_post("2026/nested.md")
    library = PostLibrary(content)
    library.scan()
    assert [p.id for p in library.posts] == ["nested"]


def test_duplicate_id_is_reported_for_the_second_file(write_post: WritePost) -> None:
    write_post("a.md", code="SAME")
    write_post("b.md", code="SAME")
    library = PostLibrary(write_post("c.md").parent)
    library.scan()
    assert library.get("SAME") is not None and library.get("SAME").path.name == "a.md"  # type: ignore[union-attr]
    [rejection] = library.rejected
    assert str(rejection.path) == "b.md" and "duplicate id 'SAME'" in rejection.reason


# --- the index ---------------------------------------------------------------------------------


def test_index_is_newest_first_and_by_category(write_post: WritePost) -> None:
    write_post("old.md", date="2026-11-01T00:00:00Z", category="World")
    write_post("new.md", date="2026-11-03T00:00:00Z", category="Business")
    write_post("mid.md", date="2026-11-02T00:00:00Z", category="World")
    write_post("hidden.md", date="2026-11-04T00:00:00Z", category="World", published=False)
    write_post("future.md", date="2030-01-01T00:00:00Z", category="World")
    library = PostLibrary(write_post("x.md", date="2026-10-01T00:00:00Z").parent)
    library.scan()
    assert [p.id for p in library.latest(NOW, limit=3)] == ["new", "mid", "old"]
    assert [p.id for p in library.latest(NOW, category="world")] == ["mid", "old"]
    assert list(library.categories) == ["business", "world"]


def test_rescan_parses_only_changed_files(
    write_post: WritePost, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = write_post("a.md")
    write_post("b.md")
    library = PostLibrary(first.parent)
    report = library.scan()
    assert {p.id for p in report.added} == {"a", "b"}

    parsed: list[Path] = []
    real = parse_post
    monkeypatch.setattr(
        "bot.posts.library.parse_post", lambda p, raw: parsed.append(p) or real(p, raw)
    )
    assert not library.scan().anything_changed
    assert parsed == []

    write_post("a.md", "A changed paragraph, longer than before.")
    (first.parent / "b.md").unlink()
    write_post("c.md")
    report = library.scan()
    assert [p.id for p in report.changed] == ["a"]
    assert report.removed == ("b",)
    assert [p.id for p in report.added] == ["c"]
    assert {p.name for p in parsed} == {"a.md", "c.md"}


def test_candidates_find_the_same_newest_posts_as_a_walk_of_everything(
    write_post: WritePost,
) -> None:
    from bot.subscriptions import newest

    shapes = [("en", "World"), ("th", "World"), (None, "Business"), ("en-US", "Business")]
    for number in range(40):
        language, category = shapes[number % len(shapes)]
        meta: dict[str, object] = {"category": category, "date": f"2026-11-{1 + number % 20:02d}"}
        if language:
            meta["language"] = language
        write_post(f"p{number}.md", **meta)
    library = PostLibrary(write_post("p0.md", category="World").parent)
    library.scan()

    assert library.languages == ["en", "th"]
    for category in (None, "world", "business", "none_such"):
        for languages in (None, frozenset({"en"}), frozenset({"th"}), frozenset({"fr"})):
            pool = library.candidates(category=category, languages=languages)
            found = newest(pool, NOW, count=7, category=category, languages=languages)
            walked = newest(library.posts, NOW, count=7, category=category, languages=languages)
            assert found == walked, (category, languages)


# --- whatever goes wrong with one file or folder -----------------------------------------------


def test_a_bug_in_reading_one_file_is_that_files_rejection(
    content: Path, write_post: WritePost, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_post("good.md")
    write_post("trips-a-bug.md")
    real = parse_post

    def parse(path: Path, raw: bytes) -> Post:
        if path.name == "trips-a-bug.md":
            raise ZeroDivisionError("division by zero")
        return real(path, raw)

    monkeypatch.setattr("bot.posts.library.parse_post", parse)
    library = PostLibrary(content)
    library.scan()
    assert [p.id for p in library.posts] == ["good"]
    [rejection] = library.rejected
    assert str(rejection.path) == "trips-a-bug.md"
    assert rejection.reason == "cannot be read (ZeroDivisionError: division by zero)"


def test_a_folder_that_cannot_be_listed_is_rejected_and_its_posts_stay(
    content: Path, write_post: WritePost, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_post("top.md")
    write_post("world/inside.md")
    library = PostLibrary(content)
    library.scan()
    real = os.scandir

    def scandir(path: str) -> Any:
        if Path(path).name == "world":
            raise PermissionError(13, "Permission denied", path)
        return real(path)

    monkeypatch.setattr("bot.posts.library.os.scandir", scandir)
    write_post("new.md")
    report = library.scan()
    assert {p.id for p in library.posts} == {"top", "inside", "new"}
    assert [p.id for p in report.added] == ["new"] and report.removed == ()
    assert [(str(r.path), r.reason) for r in library.rejected] == [
        ("world", "cannot read the folder: Permission denied")
    ]
    monkeypatch.setattr("bot.posts.library.os.scandir", real)
    library.scan()
    assert library.rejected == () and library.get("inside") is not None


def test_a_content_folder_that_cannot_be_listed_fails_the_scan_and_keeps_the_index(
    content: Path, write_post: WritePost
) -> None:
    write_post("kept.md")
    library = PostLibrary(content)
    library.scan()
    content.rename(content.with_name("elsewhere"))
    with pytest.raises(FileNotFoundError):
        library.scan()
    assert [p.id for p in library.posts] == ["kept"]


def test_links_are_read_only_when_they_stay_inside_the_content_folder(
    content: Path, tmp_path: Path, write_post: WritePost
) -> None:
    inner = write_post("2026/inner.md", code="INNER")
    outside = tmp_path / "outside.md"
    outside.write_text(post_text(title="Private", date="2026-11-20"), encoding="utf-8")
    (content / "alias.md").symlink_to(inner)
    (content / "out.md").symlink_to(outside)
    (content / "loop.md").symlink_to("loop.md")
    (content / "dangling.md").symlink_to(tmp_path / "nothing.md")
    (content / "linked-folder").symlink_to(tmp_path, target_is_directory=True)
    library = PostLibrary(content)
    library.scan()
    assert sorted(p.id for p in library.posts) == ["INNER"]  # alias.md: the same code
    reasons = {str(r.path): r.reason for r in library.rejected}
    assert reasons["out.md"] == "the file is a link to outside the content folder"
    assert reasons["loop.md"] == "cannot read the file: Too many levels of symbolic links"
    assert reasons["alias.md"].startswith("duplicate id 'INNER'")
    assert set(reasons) == {"out.md", "loop.md", "alias.md"}


def test_a_deeply_nested_folder_is_walked_without_recursion(content: Path) -> None:
    folder = os.open(content, os.O_RDONLY)
    for _ in range(1500):  # deeper than Python's recursion limit (and than pathlib's mkdir)
        os.mkdir("d", dir_fd=folder)
        inner = os.open("d", os.O_RDONLY, dir_fd=folder)
        os.close(folder)
        folder = inner
    post = os.open("deep.md", os.O_WRONLY | os.O_CREAT, dir_fd=folder)
    os.write(post, post_text(title="Deep", date="2026-11-20").encode())
    os.close(post)
    os.close(folder)
    try:
        library = PostLibrary(content)
        library.scan()
        assert [p.id for p in library.posts] == ["deep"]
    finally:
        _remove_chain(content)


def _remove_chain(top: Path) -> None:
    """Remove the nested "d" folders one level at a time (`shutil.rmtree` would recurse)."""
    while (top / "d").exists():
        if (top / "d" / "d").exists():
            (top / "d" / "d").rename(top / "next")
        for leftover in (top / "d").iterdir():
            leftover.unlink()
        (top / "d").rmdir()
        if (top / "next").exists():
            (top / "next").rename(top / "d")


# --- folders besides the content, and amendments -----------------------------------------------


class RetractOnce:
    """Amendments that retract the posts named in `ids`, reporting a change when they do."""

    def __init__(self) -> None:
        self.ids: set[str] = set()
        self._applied: set[str] = set()

    def reload(self) -> bool:
        changed = self.ids != self._applied
        self._applied = set(self.ids)
        return changed

    def apply(self, post: Post) -> Post:
        if post.id not in self._applied:
            return post
        return dataclasses.replace(post, retracted=True, digest=post.digest + "!")


def test_posts_of_another_folder_load_once_it_exists_and_amendments_apply(
    tmp_path: Path, write_post: WritePost
) -> None:
    write_post("a.md", title="In the content", code="A1")
    other = tmp_path / "newsroom" / "breaking"
    amendments = RetractOnce()
    library = PostLibrary(
        write_post("b.md", code="B1").parent, also=(other,), amendments=amendments
    )
    assert {p.id for p in library.scan().added} == {"A1", "B1"}  # the other folder is missing
    other.mkdir(parents=True)
    (other / "x.md").write_text(
        post_text(title="From the newsroom", code="X1", date="2026-11-20"), encoding="utf-8"
    )
    assert [p.id for p in library.scan().added] == ["X1"]
    amendments.ids.add("A1")
    report = library.scan()  # no file changed, but the amendments did
    assert [p.id for p in report.changed] == ["A1"]
    assert library.get("A1").retracted and not library.get("B1").retracted  # type: ignore[union-attr]
    assert not library.scan().anything_changed
