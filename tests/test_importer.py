"""Importing a saved web page: it becomes a post file that loads, or nothing is written at all."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import frontmatter
import pytest

from bot.errors import ArticleError
from bot.importer import ImportOptions, import_article, slugify
from bot.posts import Category, PostLibrary, Run, read_post

SAVED_PAGE = """<!doctype html>
<html lang="en-GB"><head>
<title>The River Courier | Ferries resume after storm</title>
<meta property="og:image" content="https://img.example/ferry.jpg">
<meta property="og:url" content="https://news.example/ferries">
<meta property="og:description" content="Crossings reopened on Friday morning.">
<meta property="article:published_time" content="2026-11-20T07:30:00+07:00">
<script>trackReader()</script>
<style>.nav { color: red }</style>
</head><body>
<nav>Home | World | Sport</nav>
<main>
<p>Most read this week</p>
<article>
<h1>Ferries resume after storm</h1>
<p>Ferries to the islands <strong>resumed</strong> on Friday after a
<a href="https://news.example/storm">storm</a> shut the crossings.</p>
<p>Operators expect <a href="javascript:steal()">delays</a> until Monday.</p>
<script>alert("pop-up")</script>
</article>
</main>
<footer>Copyright The River Courier</footer>
</body></html>
"""


def page(body: str, head: str = "", lang: str = "en") -> str:
    """A saved page with `head` in its <head> and `body` as its <body>."""
    return f'<html lang="{lang}"><head>{head}</head><body>{body}</body></html>'


def written(content: Path) -> list[Path]:
    return sorted(content.rglob("*.md")) if content.exists() else []


# --- a page becomes a post ---------------------------------------------------------------------


def test_a_saved_page_becomes_a_post_file_that_loads(content: Path) -> None:
    post = import_article(SAVED_PAGE, content, ImportOptions())

    assert written(content) == [content / "2026-11-20-ferries-resume-after-storm.md"]
    assert read_post(post.path) == post
    library = PostLibrary(content)
    library.scan()
    assert library.rejected == ()
    assert library.get(post.id) == post

    assert post.id.startswith("IMP2611200730")
    assert post.title == "Ferries resume after storm"
    assert post.date == datetime(2026, 11, 20, 0, 30, tzinfo=UTC)
    assert post.image == "https://img.example/ferry.jpg"
    assert post.url == "https://news.example/ferries"
    assert post.language == "en-gb"
    assert post.summary == (Run("Crossings reopened on Friday morning."),)


def test_only_the_article_is_kept_and_its_formatting_survives(content: Path) -> None:
    post = import_article(SAVED_PAGE, content, ImportOptions())
    document = frontmatter.load(post.path)

    assert document.content.startswith("Ferries to the islands **resumed** on Friday")
    assert "[storm](https://news.example/storm)" in document.content
    assert "Operators expect" in document.content
    text = post.path.read_text(encoding="utf-8")
    for left_out in ("Home | World", "Most read", "Copyright", "trackReader", "pop-up", "color"):
        assert left_out not in text, left_out
    # The headline lives in the front matter, not again as the body's first line.
    assert "# Ferries" not in document.content
    assert document["description"] == "Crossings reopened on Friday morning."


def test_what_the_editor_says_wins_over_the_page(content: Path) -> None:
    options = ImportOptions(
        category="Asia Pacific",
        url="https://news.example/ferries?from=editor",
        image="https://img.example/editor.jpg",
        language="vi",
    )
    post = import_article(SAVED_PAGE, content, options)
    assert post.categories == (Category("Asia Pacific", "asia_pacific"),)
    assert post.url == "https://news.example/ferries?from=editor"
    assert post.image == "https://img.example/editor.jpg"
    assert post.language == "vi"


@pytest.mark.parametrize(
    ("head", "body", "title"),
    [
        (
            '<meta property="og:title" content="From og">',
            "<article><h1>H1</h1><p>B.</p>",
            "From og",
        ),
        ("<title>From title</title>", "<article><h1>From h1</h1><p>Body.</p></article>", "From h1"),
        ("<title>From title</title>", "<article><p>Body text.</p></article>", "From title"),
    ],
)
def test_the_headline_is_og_title_else_the_h1_else_the_page_title(
    content: Path, head: str, body: str, title: str
) -> None:
    assert import_article(page(body, head), content, ImportOptions()).title == title


def test_the_article_is_found_in_article_else_main_else_body(content: Path) -> None:
    both = page("<nav>Menu</nav><main><h1>In main</h1><p>Main text.</p></main>")
    post = import_article(both, content / "a", ImportOptions())
    assert post.title == "In main" and post.summary_text == "Main text."
    assert "Menu" not in post.path.read_text(encoding="utf-8")

    bare = page("<h1>Only a body</h1><p>Body text.</p>")
    assert import_article(bare, content / "b", ImportOptions()).summary_text == "Body text."


def test_a_page_without_a_usable_date_is_dated_now(content: Path) -> None:
    before = datetime.now(UTC)
    undated = import_article(page("<h1>No date</h1><p>Text.</p>"), content, ImportOptions())
    odd = import_article(
        page("<h1>Odd date</h1><p>Text.</p>", '<meta name="date" content="last Friday">'),
        content,
        ImportOptions(),
    )
    after = datetime.now(UTC)
    assert before <= undated.date <= after
    assert before <= odd.date <= after


def test_a_date_without_a_zone_is_read_as_utc(content: Path) -> None:
    head = '<meta property="article:published_time" content="2026-11-20T07:30:00">'
    post = import_article(page("<h1>Naive</h1><p>Text.</p>", head), content, ImportOptions())
    assert post.date == datetime(2026, 11, 20, 7, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("title", "slug"),
    [
        ("Ferries resume after storm!", "ferries-resume-after-storm"),
        ("Café owners’ strike", "cafe-owners-strike"),
        ("ข่าวเช้า", "article"),
        ("word " * 30, ("word-" * 12).rstrip("-")),
    ],
)
def test_file_names_are_plain_slugs(title: str, slug: str) -> None:
    assert slugify(title) == slug


# --- bad input -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("html", "reason"),
    [
        (page("<article><p>Text but no headline.</p></article>"), "no headline found"),
        (page("<article>  </article>", "<title>A title</title>"), "no article text found"),
        (
            page("<article><h1>Huge</h1><p>" + "word " * 250_000 + "</p></article>"),
            "the imported article would not load: file is larger than 1024 KB",
        ),
    ],
)
def test_a_page_that_cannot_become_a_post_is_refused_and_nothing_is_written(
    content: Path, html: str, reason: str
) -> None:
    with pytest.raises(ArticleError) as refused:
        import_article(html, content, ImportOptions())
    assert reason in str(refused.value)
    assert len(str(refused.value).splitlines()) == 1
    assert written(content) == []


def test_an_existing_post_is_never_overwritten(content: Path) -> None:
    first = import_article(SAVED_PAGE, content, ImportOptions())
    before = first.path.read_bytes()
    with pytest.raises(ArticleError) as refused:
        import_article(SAVED_PAGE, content, ImportOptions(category="World"))
    assert str(refused.value) == f"{first.path.name} already exists in the content folder"
    assert first.path.read_bytes() == before
    assert written(content) == [first.path]


# --- unsafe addresses ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "reason"),
    [
        (ImportOptions(url="javascript:alert(1)"), "--url must be an http(s) address"),
        (ImportOptions(url="file:///etc/passwd"), "--url must be an http(s) address"),
        (ImportOptions(image="data:image/png;base64,AAAA"), "--image must be an http(s) address"),
        (ImportOptions(image="/assets/local.jpg"), "--image must be an http(s) address"),
    ],
)
def test_unsafe_addresses_from_the_editor_are_refused(
    content: Path, options: ImportOptions, reason: str
) -> None:
    with pytest.raises(ArticleError) as refused:
        import_article(SAVED_PAGE, content, options)
    assert str(refused.value).startswith(reason)
    assert written(content) == []


def test_unsafe_addresses_in_the_page_are_dropped(content: Path) -> None:
    head = (
        '<meta property="og:url" content="javascript:alert(1)">'
        '<meta property="og:image" content="data:image/svg+xml,&lt;svg onload=alert(1)&gt;">'
    )
    body = '<article><h1>Hostile</h1><p>Text with <a href="javascript:x()">a link</a>.</p>'
    post = import_article(page(body + "</article>", head), content, ImportOptions())
    assert post.url is None
    assert post.image is None
    assert all(run.href is None for run in post.summary)
    assert "javascript" not in post.path.read_text(encoding="utf-8").split("---")[1]


# --- hostile pages ------------------------------------------------------------------------------


def test_a_page_nested_deeper_than_100_levels_is_imported_flat(content: Path) -> None:
    deep = "<div>" * 20_000 + "<p>Buried under twenty thousand folders of markup.</p>"
    body = f"<article><h1>Deep page</h1><p>The lead.</p>{deep}{'</div>' * 20_000}</article>"
    post = import_article(page(body), content, ImportOptions())
    assert post.title == "Deep page" and post.summary_text == "The lead."
    assert "Buried under twenty thousand" in post.path.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "junk",
    [
        "<!--x>" * 20_000,  # comments that never end: html.parser looks for each end again
        "<![x>" * 20_000,  # a marked section html.parser stops at with an AssertionError
        "<!--<a<![&#" * 20_000,
    ],
    ids=["comments", "marked-sections", "mixed"],
)
def test_a_page_of_unterminated_markup_imports_in_linear_time(content: Path, junk: str) -> None:
    body = f"<article><h1>Junk page</h1><p>The lead.</p>{junk}</article>"
    started = time.process_time()
    post = import_article(page(body), content, ImportOptions())
    assert time.process_time() - started < 2.0
    assert post.title == "Junk page" and post.summary_text == "The lead."
