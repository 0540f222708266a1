"""Finding a site's posts: file names, folders, symlinks, and one file at a time."""

from __future__ import annotations

import os
from pathlib import Path

from bot.posts.jekyll import find_posts, language_folders, load_config, parse_post_name, post_file
from bot.posts.jekyll.config import config_from_mapping
from bot.posts.jekyll.files import PostName, folder_categories


def write(root: Path, *names: str) -> None:
    for name in names:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("---\n---\nBody.\n")


def test_post_names_padded_or_not() -> None:
    assert parse_post_name("2017-2-5-title.md") == PostName("2017-2-5", "title", ".md")
    assert parse_post_name("2017-02-05-a.b.markdown") == PostName("2017-02-05", "a.b", ".markdown")
    assert parse_post_name("2017-02-05-dots...md") == PostName("2017-02-05", "dots", ".md")
    assert parse_post_name("14-9-8-short-year.md") == PostName("14-9-8", "short-year", ".md")
    assert parse_post_name("title.md") is None
    assert parse_post_name("2017-02-05.md") is None


def test_folder_categories_are_the_folders_above_posts() -> None:
    assert folder_categories("_posts/2020/x.md") == ()
    assert folder_categories("news/world/_posts/x.md") == ("news", "world")
    assert folder_categories("my_posts_box/_posts/x.md") == ("my",)


def test_posts_of_every_folder_are_found_in_order(tmp_path: Path) -> None:
    write(
        tmp_path,
        "_posts/2020-01-02-b.md",
        "_posts/2020-01-01-a.md",
        "_posts/2020/2020-01-03-c.html",
        "en/_posts/2020-01-04-d.md",
        "_drafts/2020-01-05-draft.md",
        "_posts/notes.md",
        "_posts/2020-01-06-e.txt",
        ".hidden/_posts/2020-01-07-f.md",
        "node_modules/x/_posts/2020-01-08-g.md",
    )
    found = [file.site_path for file in find_posts(tmp_path, load_config(tmp_path))]
    assert found == [
        "_posts/2020-01-01-a.md",
        "_posts/2020-01-02-b.md",
        "_posts/2020/2020-01-03-c.html",
        "en/_posts/2020-01-04-d.md",
    ]


def test_symlinks_out_of_the_site_are_refused(tmp_path: Path) -> None:
    site, elsewhere = tmp_path / "site", tmp_path / "elsewhere"
    write(site, "_posts/2020-01-01-inside.md")
    write(elsewhere, "2020-01-02-secret.md", "_posts/2020-01-03-other.md")
    os.symlink(elsewhere / "2020-01-02-secret.md", site / "_posts" / "2020-01-02-secret.md")
    os.symlink(elsewhere, site / "linked")
    os.symlink(site / "_posts" / "2020-01-01-inside.md", site / "_posts" / "2020-01-04-alias.md")
    found = [file.site_path for file in find_posts(site, load_config(site))]
    assert found == ["_posts/2020-01-01-inside.md", "_posts/2020-01-04-alias.md"]
    assert post_file(site, "_posts/2020-01-02-secret.md", load_config(site)) is None


def test_one_file_is_judged_by_the_same_rules(tmp_path: Path) -> None:
    config = config_from_mapping({"exclude": ["archive"]})
    write(tmp_path, "news/_posts/2020-01-01-a.md")
    found = post_file(tmp_path, "news/_posts/2020-01-01-a.md", config)
    assert found is not None and found.folder_categories == ("news",)
    assert found.id_path == "news/_posts/2020-01-01-a"
    assert found.cleaned_relative_path == "news//2020-01-01-a"
    assert post_file(tmp_path, "_private/_posts/2020-01-01-a.md", config) is None
    assert post_file(tmp_path, "archive/_posts/2020-01-01-a.md", config) is None
    assert post_file(tmp_path, "_drafts/2020-01-01-a.md", config) is None


def test_language_folders_when_the_site_is_laid_out_by_language(tmp_path: Path) -> None:
    write(
        tmp_path, "en/_posts/2020-01-01-a.md", "th/_posts/2020-01-01-a.md", "_posts/2020-01-01-a.md"
    )
    config = load_config(tmp_path)
    files = list(find_posts(tmp_path, config))
    assert language_folders(files, config) == {"en", "th"}
    assert len({file.id_path for file in files}) == 3  # translations are different posts
    write(tmp_path, "news/_posts/2020-01-02-b.md")
    assert language_folders(list(find_posts(tmp_path, config)), config) == frozenset()
    listed = config_from_mapping({"languages": ["en", "th", "news"]})
    assert language_folders(files, listed) == {"en", "th", "news"}
