"""A Jekyll site read by the library: which files are posts, their ids, links, images, words and
dates as a reader's card shows them, and the posts cache following `_config.yml`."""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from bot.posts import Notice, Post, PostCache, PostLibrary
from bot.render import render

SITE = {"_config.yml": "url: https://example.org\nbaseurl: /blog\n"}


def write(root: Path, files: Mapping[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def scan(root: Path, **options: object) -> PostLibrary:
    library = PostLibrary(root, **options)  # type: ignore[arg-type]
    library.scan()
    return library


def only(root: Path, text: str, config: str = SITE["_config.yml"]) -> Post:
    """The one post of a site with this `_config.yml` and this post file."""
    write(root, {"_config.yml": config, "_posts/2014-09-08-hello.md": text})
    library = scan(root)
    assert library.rejected == ()
    [post] = library.posts
    return post


# --- which files are posts, and their ids ------------------------------------------------------


def test_every_posts_folder_at_any_depth_is_read_and_nothing_else(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            **SITE,
            "_posts/2020-01-01-top.md": "---\ntitle: Top\n---\nTop.\n",
            "_posts/2020/2020-01-02-inner.markdown": "---\n---\nInner.\n",
            "news/_posts/2020-01-03-news.md": "---\n---\nNews.\n",
            "news/sport/_posts/2020-01-04-sport.html": "---\n---\n<p>Sport.</p>\n",
            "_posts/2020-01-05-other.mdown": "---\n---\nNot in markdown_ext.\n",
            "_drafts/2020-01-06-draft.md": "---\n---\nA draft.\n",
            "about.md": "---\ntitle: About\n---\nA page, not a post.\n",
            "2020-01-07-loose.md": "---\ntitle: Loose\n---\nOutside _posts.\n",
        },
    )
    library = scan(tmp_path)
    assert sorted(post.id for post in library.posts) == [
        "_posts/2020-01-01-top",
        "_posts/2020/2020-01-02-inner",
        "news/_posts/2020-01-03-news",
        "news/sport/_posts/2020-01-04-sport",
    ]
    assert library.rejected == () and library.warnings == ()
    sport = library.get("news/sport/_posts/2020-01-04-sport")
    assert sport is not None and [c.name for c in sport.categories] == ["news", "sport"]


def test_markdown_ext_of_the_site_decides_which_files_are_posts(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "_config.yml": "markdown_ext: mdown\n",
            "_posts/2020-01-01-one.mdown": "---\n---\nOne.\n",
            "_posts/2020-01-02-two.md": "---\n---\nTwo.\n",
        },
    )
    assert [post.id for post in scan(tmp_path).posts] == ["_posts/2020-01-01-one"]


def test_code_is_the_id_and_translations_in_language_folders_are_different_posts(
    tmp_path: Path,
) -> None:
    write(
        tmp_path,
        {
            **SITE,
            "en/_posts/2020-01-01-ferry.md": "---\ntitle: Ferry\n---\nEnglish.\n",
            "fr/_posts/2020-01-01-ferry.md": "---\ntitle: Bac\n---\nFrançais.\n",
            "th/_posts/2020-01-01-ferry.md": "---\ntitle: เรือ\nlang: TH\ncode: F1\n---\nไทย\n",
        },
    )
    library = scan(tmp_path)
    assert library.rejected == ()
    languages = {post.id: post.language for post in library.posts}
    assert languages == {"en/_posts/2020-01-01-ferry": "en", "fr/_posts/2020-01-01-ferry": "fr",
                         "F1": "th"}  # fmt: skip
    assert library.languages == ["en", "fr", "th"]


def test_the_sites_lang_is_the_language_of_posts_that_say_none(tmp_path: Path) -> None:
    post = only(tmp_path, "---\ntitle: T\n---\nBody.\n", config="lang: pt-BR\n")
    assert post.language == "pt-br"


def test_a_site_inside_a_plain_content_folder_is_read_as_a_site_beside_the_flat_posts(
    tmp_path: Path,
) -> None:
    flat = "---\ntitle: Flat\ndate: 2026-11-01T08:00:00Z\n---\nA flat post.\n"
    write(
        tmp_path,
        {
            "2026-11-01-flat.md": flat,
            "blog/_config.yml": "url: https://blog.example.org\n",
            "blog/_posts/2026-11-02-site.md": "---\ntitle: Site\n---\nA site post.\n",
            "blog/notes.md": flat,  # a page of the site: not a post
        },
    )
    library = scan(tmp_path)
    assert sorted(post.id for post in library.posts) == [
        "2026-11-01-flat",
        "blog/_posts/2026-11-02-site",
    ]
    site_post = library.get("blog/_posts/2026-11-02-site")
    assert (
        site_post is not None and site_post.url == "https://blog.example.org/2026/11/02/site.html"
    )


def test_a_broken_config_is_a_rejection_and_the_posts_read_before_stay(tmp_path: Path) -> None:
    write(tmp_path, {**SITE, "_posts/2020-01-01-a.md": "---\ntitle: A\n---\nBody.\n"})
    library = scan(tmp_path)
    assert len(library.posts) == 1
    (tmp_path / "_config.yml").write_text("url: [unclosed\n")
    library.scan()
    assert len(library.posts) == 1
    [rejection] = library.rejected
    assert str(rejection.path) == "_config.yml" and "malformed configuration" in rejection.reason


# --- the link ----------------------------------------------------------------------------------


def test_the_link_is_the_permalink_unless_the_front_matter_gives_an_absolute_one(
    tmp_path: Path,
) -> None:
    config = "url: https://example.org\nbaseurl: /blog\npermalink: /:categories/:title/\n"
    write(
        tmp_path,
        {
            "_config.yml": config,
            "_posts/2020-01-01-own.md": "---\ncategory: World\n---\nA.\n",
            "_posts/2020-01-02-origin.md": "---\norigin_url: https://news.example/a\n---\nB.\n",
            "_posts/2020-01-03-canonical.md": "---\ncanonical_url: https://news.example/c\n---\nC.\n",
            "_posts/2020-01-04-relative.md": "---\nlink: /elsewhere\npermalink: /x/\n---\nD.\n",
        },
    )
    urls = {post.id.split("-", 3)[3]: post.url for post in scan(tmp_path).posts}
    assert urls == {
        "own": "https://example.org/blog/world/own/",
        "origin": "https://news.example/a",
        "canonical": "https://news.example/c",
        "relative": "https://example.org/blog/x/",
    }


def test_the_site_url_setting_stands_in_for_a_config_without_url(tmp_path: Path) -> None:
    write(tmp_path, {"_config.yml": "baseurl: /b\n", "_posts/2020-01-01-a.md": "---\n---\nA.\n"})
    [post] = scan(tmp_path, site_url="https://news.example.org/").posts
    assert post.url == "https://news.example.org/b/2020/01/01/a.html"


def test_a_site_without_any_address_loads_without_links_and_says_so_once(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "_config.yml": "title: No address\n",
            "_posts/2020-01-01-a.md": "---\nimage: /a.jpg\n---\nA [link](/x).\n",
            "_posts/2020-01-02-b.md": "---\n---\nB.\n",
        },
    )
    library = scan(tmp_path)
    assert [(post.url, post.image) for post in library.posts] == [(None, None), (None, None)]
    assert library.posts[1].summary_text == "A link." and library.posts[1].summary[0].href is None
    [notice] = library.warnings
    assert isinstance(notice, Notice) and str(notice.path) == "_config.yml"
    assert "no link" in notice.reason


# --- the image ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("image", "expected"),
    [
        ("/assets/2024/lead.jpg", "https://example.org/blog/assets/2024/lead.jpg"),
        ("assets/lead.jpg", "https://example.org/blog/assets/lead.jpg"),
        ("//cdn.example.net/lead.jpg", "https://cdn.example.net/lead.jpg"),
        ("https://img.example.net/lead.jpg", "https://img.example.net/lead.jpg"),
        ("'{{ site.baseurl }}/assets/lead.jpg'", "https://example.org/blog/assets/lead.jpg"),
        ("'{{ \"/assets/lead.jpg\" | absolute_url }}'", "https://example.org/blog/assets/lead.jpg"),
        ("{path: /assets/seo.jpg, alt: Lead}", "https://example.org/blog/assets/seo.jpg"),
        ("javascript:alert(1)", None),
    ],
)
def test_the_front_matter_image_resolves_against_the_site_and_is_never_replaced(
    tmp_path: Path, image: str, expected: str | None
) -> None:
    text = f"---\nimage: {image}\n---\nWords first.\n\n![Body picture](/assets/body.jpg)\n"
    assert only(tmp_path, text).image == expected


def test_without_a_front_matter_image_the_first_body_image_is_resolved(tmp_path: Path) -> None:
    text = "---\ntitle: T\n---\nWords first.\n\n![Body picture](pics/body.jpg)\n"
    post = only(tmp_path, text)
    assert post.image == "https://example.org/blog/2014/09/08/pics/body.jpg"


# --- the words ---------------------------------------------------------------------------------


def test_the_summary_is_the_description_then_the_excerpt_field_then_jekylls_excerpt(
    tmp_path: Path,
) -> None:
    both = "---\ndescription: It&#39;s <b>the</b> description\nexcerpt: Own\n---\nBody.\n"
    assert only(tmp_path / "a", both).summary_text == "It's the description"
    own = "---\nexcerpt: \"The author&#39;s <a href='/x'>own</a>\"\n---\nBody.\n"
    assert only(tmp_path / "b", own).summary_text == "The author's own"
    body = "---\n---\nFirst paragraph.\n\nSecond paragraph.\n"
    assert only(tmp_path / "c", body).summary_text == "First paragraph."
    separator = "---\nexcerpt_separator: <!--more-->\n---\nOne.\n\nTwo.\n<!--more-->\nThree.\n"
    assert only(tmp_path / "d", separator).summary_text == "One.\n\nTwo."


def test_liquid_attribute_lists_and_shortcodes_never_reach_the_summary(tmp_path: Path) -> None:
    text = (
        "---\ntitle: Release\nrelease: {version: '2.1'}\n---\n"
        "{% assign v = page.release.version %}\n\n"
        '[caption id="a1"]<img src="/x.jpg"> A caption[/caption]\n\n'
        'Version {{ v }} is [out][1]{:target="_blank"} for {{ site.title }}everyone '
        "{% youtube abc %}today.\n{: .lead}\n\n"
        "[1]: {{ site.baseurl }}/releases/\n"
    )
    post = only(tmp_path, text)
    assert post.summary_text == "Version 2.1 is out for everyone today."
    assert [run.href for run in post.summary if run.text == "out"] == [
        "https://example.org/blog/releases/"
    ]


def test_a_lead_in_is_never_the_whole_summary(tmp_path: Path) -> None:
    text = "---\ntitle: T\n---\nWhat changes:\n\n- stalls by lottery;\n- rents fixed.\n\nLater.\n"
    assert only(tmp_path / "a", text).summary_text == (
        "What changes: stalls by lottery; rents fixed."
    )
    text = "---\ndescription: 'Here is why:'\n---\nBecause it rained:\n\nThe river rose.\n"
    assert only(tmp_path / "b", text).summary_text == "Because it rained: The river rose."


def test_front_matter_closed_by_dots_and_crlf_line_ends_read_as_jekyll_reads_them(
    tmp_path: Path,
) -> None:
    text = "---\r\ntitle: Dots\r\n...\r\n\r\nFirst.\r\n\r\nSecond.\r\n"
    post = only(tmp_path, text)
    assert (post.title, post.summary_text) == ("Dots", "First.")


def test_a_title_comes_from_the_file_name_when_the_front_matter_has_none(tmp_path: Path) -> None:
    assert only(tmp_path, "---\n---\nBody.\n").title == "Hello"


# --- dates and categories ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "expected", "has_time"),
    [
        ("September 8, 2014", datetime(2014, 9, 8, tzinfo=timezone(timedelta(hours=7))), False),
        ("2023-01-29 18:30:22 -0800", datetime(2023, 1, 30, 9, 30, 22, tzinfo=timezone(
            timedelta(hours=7))), True),
        ("2014-09-08 10:00", datetime(2014, 9, 8, 10, tzinfo=timezone(timedelta(hours=7))), True),
        ("2014-09-08", datetime(2014, 9, 8, tzinfo=timezone(timedelta(hours=7))), False),
    ],
)  # fmt: skip
def test_every_jekyll_date_form_reads_in_the_sites_zone(
    tmp_path: Path, written: str, expected: datetime, has_time: bool
) -> None:
    config = "url: https://example.org\ntimezone: Asia/Bangkok\n"
    post = only(tmp_path, f"---\ndate: '{written}'\n---\nBody.\n", config=config)
    assert post.date == expected and post.date.utcoffset() == expected.utcoffset()
    assert post.has_time is has_time


def test_an_unreadable_date_falls_back_to_the_file_names_with_a_warning(tmp_path: Path) -> None:
    write(
        tmp_path,
        {**SITE, "_posts/2017-2-5-unpadded.md": "---\ndate: next tuesday\n---\nBody.\n"},
    )
    library = scan(tmp_path)
    [post] = library.posts
    assert post.date == datetime(2017, 2, 5, tzinfo=UTC) and not post.has_time
    assert post.url == "https://example.org/blog/2017/02/05/unpadded.html"
    [notice] = library.warnings
    assert str(notice.path) == "_posts/2017-2-5-unpadded.md"
    assert "using the date in the file name" in notice.reason


def test_a_date_only_post_shows_its_day_without_an_invented_time(tmp_path: Path) -> None:
    config = "url: https://example.org\ntimezone: Asia/Bangkok\n"
    post = only(tmp_path, "---\ntitle: Day\ndate: 2014-09-08\n---\nBody.\n", config=config)
    card = render(post, zone=timezone(timedelta(hours=-5)))
    assert "8 Sep 2014" in card.text and ":" not in card.text.split("\n")[0]


def test_categories_are_jekylls_number_ones_included(tmp_path: Path) -> None:
    post = only(tmp_path, "---\ncategory: 2013\ncategories: [World, world]\n---\nBody.\n")
    # In Jekyll's order; "world" is the same category as "World" to a reader.
    assert [c.name for c in post.categories] == ["World", "2013"]


# --- the posts cache ---------------------------------------------------------------------------


def test_a_changed_config_is_never_served_stale_posts_from_the_cache(tmp_path: Path) -> None:
    root = write(tmp_path / "site", {**SITE, "_posts/2020-01-01-a.md": "---\n---\nA.\n"})
    cache_file = tmp_path / "posts-cache.sqlite3"
    cache = PostCache(cache_file)
    first = scan(root, cache=cache)
    cache.close()
    assert first.posts[0].url == "https://example.org/blog/2020/01/01/a.html"

    cache = PostCache(cache_file)
    again = scan(root, cache=cache)
    cache.close()
    assert again.posts == first.posts

    (root / "_config.yml").write_text("url: https://moved.example.org\n")
    cache = PostCache(cache_file)
    moved = scan(root, cache=cache)
    cache.close()
    assert moved.posts[0].url == "https://moved.example.org/2020/01/01/a.html"
    assert moved.posts[0].digest != first.posts[0].digest


def test_editing_the_config_while_running_reads_the_sites_posts_again(tmp_path: Path) -> None:
    root = write(tmp_path, {**SITE, "_posts/2020-01-01-a.md": "---\n---\nA.\n"})
    library = scan(root)
    (root / "_config.yml").write_text("url: https://moved.example.org\npermalink: pretty\n")
    report = library.scan()
    assert [post.url for post in report.changed] == ["https://moved.example.org/2020/01/01/a/"]


def test_a_rescan_lists_only_posts_folders_that_changed_and_finds_every_change(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(
        tmp_path,
        {
            **SITE,
            "_posts/2020/2020-01-01-a.md": "---\n---\nA.\n",
            "news/_posts/2020-01-02-b.md": "---\n---\nB.\n",
        },
    )
    an_hour_ago = time.time() - 3600
    for folder, _, _ in os.walk(tmp_path):
        os.utime(folder, (an_hour_ago, an_hour_ago))
    library = scan(tmp_path)
    listed: list[str] = []
    real_scandir = os.scandir

    def scandir(path: str | Path) -> object:
        listed.append(str(path))
        return real_scandir(path)

    monkeypatch.setattr("bot.posts.jekyll.files.os.scandir", scandir)
    assert not library.scan().anything_changed
    assert not any("/_posts" in folder for folder in listed), listed  # nothing changed

    write(tmp_path, {"_posts/2020/2020-01-03-c.md": "---\n---\nC.\n"})
    (tmp_path / "news" / "_posts" / "2020-01-02-b.md").unlink()
    report = library.scan()
    assert [post.id for post in report.added] == ["_posts/2020/2020-01-03-c"]
    assert report.removed == ("news/_posts/2020-01-02-b",)


def test_editors_breaking_items_in_a_sites_folder_are_read_and_never_twice(
    tmp_path: Path,
) -> None:
    breaking = "---\ntitle: Breaking\ndate: 2026-11-20T08:00:00Z\n---\nNews.\n"
    site = write(tmp_path / "site", {**SITE, "breaking/b1.md": breaking})
    library = scan(site, also=(site / "breaking",))
    assert [post.id for post in library.posts] == ["b1"] and library.rejected == ()
    flat = write(tmp_path / "flat", {"breaking/b1.md": breaking})
    library = scan(flat, also=(flat / "breaking",))
    assert [post.id for post in library.posts] == ["b1"] and library.rejected == ()


def test_no_link_is_said_only_when_some_card_has_none(tmp_path: Path) -> None:
    own = "---\norigin_url: https://news.example/a\n---\nA.\n"
    write(tmp_path, {"_config.yml": "title: T\n", "_posts/2020-01-01-a.md": own})
    library = scan(tmp_path)
    assert library.posts[0].url == "https://news.example/a" and library.warnings == ()
