"""The library against Jekyll itself: a site built with the real `jekyll`, and the posts newsbot
loads from it, compared card field by card field: link, date, title, categories, summary."""

from __future__ import annotations

import html
import re
from datetime import datetime
from pathlib import Path

import pytest

from bot.posts import PostLibrary
from tests.posts.jekyll.oracle import build_site, jekyll_command

CONFIG = {
    "url": "https://example.org",
    "baseurl": "/news",
    "permalink": "/:categories/:year/:month/:day/:title/",
    "timezone": "America/New_York",
    "exclude": ["archive"],
}
FILES = {
    "_posts/2014-09-08-hello-world.md": (
        "---\ntitle: Hello World\ndate: September 8, 2014\ncategory: 2013\n---\n"
        'The **first** post, with [a link]({{ site.baseurl }}/about/){:target="_blank"}.\n\n'
        "Second paragraph.\n"
    ),
    "_posts/2023-01-29-offset.md": (
        "---\ntitle: With an offset\ndate: 2023-01-29 18:30:22 -0800\ncategories: [World, Asia]\n"
        "---\n{% assign v = '1.2' %}Release {{ v }} is out, see [the notes][1].\n\n"
        "More.\n\n[1]: https://example.org/notes\n"
    ),
    "_posts/2017-2-5-unpadded.md": "---\ntitle: Unpadded\n---\nA file name without zeros.\n",
    "news/_posts/2020-03-01-in-a-folder.md": (
        "---\ntitle: In a folder\ndate: 2020-03-01 10:00\n---\nFolders give categories.\n"
    ),
    "_posts/2020-04-01-dots.md": "---\ntitle: Dots\n...\n\nClosed by dots.\n\nNot this.\n",
    "_posts/2020-05-01-separator.md": (
        "---\ntitle: Separator\nexcerpt_separator: <!--more-->\n---\n"
        "One line\nand another.\n<!--more-->\nThe rest.\n"
    ),
    "_posts/2020-06-01-html.html": "---\ntitle: HTML\n---\n<p>Written in <em>HTML</em>.</p>\n",
    "_posts/2020-07-01-unpublished.md": "---\ntitle: Hidden\npublished: false\n---\nNo.\n",
    "_drafts/2020-08-01-draft.md": "---\ntitle: Draft\n---\nNo.\n",
    "archive/_posts/2020-09-01-excluded.md": "---\ntitle: Excluded\n---\nNo.\n",
}


@pytest.fixture(scope="module")
def jekyll() -> str:
    """The real `jekyll`; a machine without it fails this test (after trying to install it)."""
    try:
        return jekyll_command()
    except RuntimeError as exc:
        pytest.fail(str(exc))


def words(rendered: str) -> str:
    """What a reader reads of Jekyll's rendered excerpt: the text, without tags."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", rendered)).split()).replace(" .", ".")


def test_the_library_gives_every_post_jekylls_link_date_title_categories_and_excerpt(
    jekyll: str, tmp_path: Path
) -> None:
    root = tmp_path / "site"
    rows = build_site(root, CONFIG, FILES)
    library = PostLibrary(root)
    library.scan()
    assert library.rejected == ()
    loaded = {
        post.path.relative_to(root).as_posix(): post for post in library.posts if post.published
    }
    assert set(loaded) == set(rows)
    assert len(rows) == 7
    for path, row in rows.items():
        post = loaded[path]
        assert post.url == row["absolute_url"], path
        assert post.date == datetime.fromisoformat(row["date"]), path
        assert post.title == row["title"], path
        assert [c.name for c in post.categories] == list(dict.fromkeys(row["categories"])), path
        assert " ".join(post.summary_text.split()) == words(row["excerpt_html"]), path
