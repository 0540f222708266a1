"""One post as Jekyll sees it: the values a card is made from, and what `check` warns about."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from bot.errors import PostError
from bot.posts.jekyll import find_posts, language_folders, load_config, read_site_post


def site(root: Path, config: str, files: dict[str, str]) -> Path:
    (root / "_config.yml").write_text(config)
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def test_a_post_gets_its_address_date_categories_and_excerpt(tmp_path: Path) -> None:
    root = site(
        tmp_path,
        "url: https://example.org\nbaseurl: /blog\ntimezone: Asia/Bangkok\npermalink: pretty\n",
        {"world/_posts/2017-2-5-big-news.md": "---\ncategory: 2013\n---\nLead.\n\nMore.\n"},
    )
    config = load_config(root)
    (file,) = find_posts(root, config)
    post = read_site_post(config, file, file.path.read_text())
    assert post.url == "/world/2013/2017/02/05/big-news/"
    assert post.link == "https://example.org/blog/world/2013/2017/02/05/big-news/"
    assert post.date is not None and post.date.moment.date() == date(2017, 2, 5)
    assert not post.date.has_time
    assert (post.title, post.title_from_file) == ("Big News", True)
    assert post.categories == ("world", "2013")
    assert (post.excerpt, post.excerpt_from_front_matter) == ("Lead.", False)
    assert (post.published, post.warnings, post.language) == (True, (), None)
    assert post.page_variables()["url"] == post.url


def test_problems_a_newsroom_can_fix_are_warnings(tmp_path: Path) -> None:
    root = site(
        tmp_path,
        "permalink: /:author/:title/\n",
        {"_posts/2020-01-01-a.md": "---\ndate: someday\ntitle: A\n---\nBody.\n"},
    )
    config = load_config(root)
    (file,) = find_posts(root, config)
    post = read_site_post(config, file, file.path.read_text())
    assert post.date is not None and post.date.moment.date() == date(2020, 1, 1)
    assert post.url is None and post.link is None
    assert len(post.warnings) == 2
    assert "someday" in post.warnings[0] and ":author" in post.warnings[1]


def test_malformed_front_matter_is_an_error(tmp_path: Path) -> None:
    root = site(tmp_path, "", {"_posts/2020-01-01-a.md": "---\ntitle: [x\n---\nBody.\n"})
    config = load_config(root)
    (file,) = find_posts(root, config)
    with pytest.raises(PostError):
        read_site_post(config, file, file.path.read_text())


def test_the_language_of_a_post(tmp_path: Path) -> None:
    root = site(
        tmp_path,
        "lang: en\n",
        {
            "th/_posts/2020-01-01-a.md": "---\n---\nThai.\n",
            "fr/_posts/2020-01-01-a.md": "---\nlang: fr-CA\n---\nFrench.\n",
            "_posts/2020-01-01-a.md": "---\n---\nDefault.\n",
        },
    )
    config = load_config(root)
    files = list(find_posts(root, config))
    folders = language_folders(files, config)
    languages = {
        file.site_path: read_site_post(
            config, file, file.path.read_text(), language_folders=folders
        ).language
        for file in files
    }
    assert languages == {
        "_posts/2020-01-01-a.md": "en",
        "fr/_posts/2020-01-01-a.md": "fr-CA",
        "th/_posts/2020-01-01-a.md": "th",
    }
