"""Jekyll itself as the oracle: build small sites with the real `jekyll` and read what it made.

`build_site` writes a site into a folder (a `_config.yml` without theme or plugins, the posts,
and one small plugin of ours) and runs `jekyll build`. The plugin writes, for every post Jekyll
published, the values a reader's card depends on, straight from Jekyll's own objects: `url`,
`absolute_url` (Jekyll's filter), `date`, `categories`, `title`, `slug`, and the excerpt both as
source (before Liquid and Markdown) and as rendered HTML.

`ruby_calls` runs some of Jekyll's own functions (`Utils.parse_date`, `Utils.slugify`,
`URL.escape_path`, `Utils.titleize_slug`) over many inputs in one Ruby process, for rules
with too many cases to build a site for each.

`newsbot_view` reads the same folder with `bot.posts.jekyll`, for the tests to compare field
by field.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from bot.posts.jekyll import absolute_url, find_posts, language_folders, load_config, read_site_post

REPOSITORY = Path(__file__).resolve().parents[2]
ENSURE_JEKYLL = REPOSITORY / "scripts" / "ensure-jekyll"

_PLUGIN = r"""
require "json"

module NewsbotOracle
  SOURCES = {}
end

Jekyll::Hooks.register :site, :post_read do |site|
  site.posts.docs.each do |doc|
    excerpt = doc.data["excerpt"]
    NewsbotOracle::SOURCES[doc.relative_path] =
      excerpt.respond_to?(:content) ? excerpt.content.to_s.dup : excerpt.to_s
  end
end

Jekyll::Hooks.register :site, :post_render do |site|
  absolute = Liquid::Template.parse("{{ url | absolute_url }}")
  rows = site.posts.docs.map do |doc|
    excerpt = doc.data["excerpt"]
    {
      "path" => doc.relative_path,
      "url" => doc.url,
      "absolute_url" => absolute.render!({ "url" => doc.url }, :registers => { :site => site }),
      "date" => doc.date.xmlschema,
      "categories" => doc.data["categories"].map(&:to_s),
      "title" => doc.data["title"].to_s,
      "slug" => doc.data["slug"].to_s,
      "excerpt_source" => NewsbotOracle::SOURCES[doc.relative_path],
      "excerpt_html" => excerpt.respond_to?(:output) ? excerpt.output.to_s : excerpt.to_s,
    }
  end
  File.write(ENV.fetch("NEWSBOT_ORACLE_OUT"), JSON.generate(rows))
end
"""

_RUBY_CALLS = r"""
require "jekyll"
require "json"
calls = JSON.parse(STDIN.read)
results = calls.map do |call|
  kind, value, options = call
  begin
    case kind
    when "parse_date"
      ENV["TZ"] = options["timezone"] || "UTC"
      Jekyll::Utils.instance_variable_set(:@parse_date_cache, {})
      Jekyll::Utils.parse_date(value).xmlschema
    when "slugify"
      Jekyll::Utils.slugify(value, :mode => options["mode"], :cased => options["cased"])
    when "escape_path"
      Jekyll::URL.escape_path(value)
    when "titleize_slug"
      Jekyll::Utils.titleize_slug(value)
    end
  rescue StandardError => e
    "error: #{e.class}"
  end
end
puts JSON.generate(results)
"""


@dataclass(frozen=True)
class Published:
    """One post as Jekyll published it, or as newsbot reads it; the fields the tests compare."""

    url: str
    absolute_url: str
    date: datetime
    categories: tuple[str, ...]
    title: str
    excerpt: str


def jekyll_command() -> str:
    """The `jekyll` program, installed by `scripts/ensure-jekyll` when missing."""
    found = shutil.which("jekyll")
    if found is None and ENSURE_JEKYLL.exists():
        subprocess.run([str(ENSURE_JEKYLL)], check=False, timeout=600)
        found = shutil.which("jekyll")
    if found is None:
        raise RuntimeError(
            "jekyll is not installed and scripts/ensure-jekyll could not install it: "
            "run `apt-get install jekyll` (Debian) or `gem install jekyll`"
        )
    return found


def write_site(root: Path, config: Mapping[str, Any], files: Mapping[str, str]) -> None:
    """A site in `root`: `_config.yml` from `config`, and each of `files` at its path."""
    root.mkdir(parents=True, exist_ok=True)
    settings = {"disable_disk_cache": True, "plugins": [], **config}
    (root / "_config.yml").write_text(yaml.safe_dump(settings, allow_unicode=True))
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def build_site(
    root: Path, config: Mapping[str, Any], files: Mapping[str, str]
) -> dict[str, dict[str, Any]]:
    """Write the site, build it with Jekyll, and return Jekyll's view of each post by path.

    The plugin lives outside the site folder (`--plugins`), so newsbot never sees it.
    """
    write_site(root, config, files)
    plugins = root.parent / f"{root.name}-oracle-plugins"
    plugins.mkdir(exist_ok=True)
    (plugins / "newsbot_oracle.rb").write_text(_PLUGIN)
    out = root.parent / f"{root.name}-oracle.json"
    env = {
        **os.environ,
        "NEWSBOT_ORACLE_OUT": str(out),
        "TZ": "UTC",
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "JEKYLL_ENV": "production",
    }
    command = [
        jekyll_command(),
        "build",
        "--quiet",
        "--source",
        str(root),
        "--destination",
        str(root.parent / f"{root.name}-built"),
        "--plugins",
        str(plugins),
    ]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        raise AssertionError(f"jekyll build failed:\n{result.stdout}\n{result.stderr}")
    return {row["path"]: row for row in json.loads(out.read_text())}


def jekyll_view(
    rows: Mapping[str, Mapping[str, Any]], extensions: frozenset[str] | None = None
) -> dict[str, Published]:
    """Jekyll's rows as `Published` values, by post path; only files with `extensions` when
    given (Jekyll publishes a `.txt` in `_posts` too; newsbot reads only articles)."""
    return {
        path: Published(
            url=row["url"],
            absolute_url=row["absolute_url"],
            date=datetime.fromisoformat(row["date"]),
            # Jekyll lists a category that YAML read as a number or boolean twice (2013 and
            # "2013", both "2013" as text); its addresses and newsbot list it once.
            categories=tuple(dict.fromkeys(row["categories"])),
            title=row["title"],
            excerpt=row["excerpt_source"],
        )
        for path, row in rows.items()
        if extensions is None or Path(path).suffix.lower() in extensions
    }


def newsbot_view(root: Path) -> dict[str, Published]:
    """The same site read by `bot.posts.jekyll`, by post path (published posts only, as Jekyll)."""
    config = load_config(root)
    files = list(find_posts(root, config))
    folders = language_folders(files, config)
    view: dict[str, Published] = {}
    for file in files:
        post = read_site_post(
            config, file, file.path.read_text(encoding="utf-8"), language_folders=folders
        )
        if not post.published:
            continue
        assert post.date is not None and post.url is not None, (file.site_path, post.warnings)
        full = absolute_url(config, post.url)
        assert post.link == (full if config.url else None), (file.site_path, post.link)
        view[file.relative_path] = Published(
            url=post.url,
            absolute_url=full,
            date=post.date.moment.replace(microsecond=0),
            categories=post.categories,
            title=post.title,
            excerpt=post.excerpt,
        )
    return view


def ruby_calls(calls: list[tuple[str, str, Mapping[str, Any]]]) -> list[str]:
    """Jekyll's own functions applied to each (function, input, options), in one Ruby process.

    A call that raises in Ruby gives "error: <class>".
    """
    ruby = shutil.which("ruby")
    jekyll_command()  # Ruby and Jekyll's library come with it
    assert ruby is not None
    result = subprocess.run(
        [ruby, "-e", _RUBY_CALLS],
        input=json.dumps([[kind, value, dict(options)] for kind, value, options in calls]),
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"},
    )
    if result.returncode != 0:
        raise AssertionError(f"ruby failed:\n{result.stderr}")
    answers: list[str] = json.loads(result.stdout)
    return answers


def assert_same(jekyll: Mapping[str, Published], newsbot: Mapping[str, Published]) -> None:
    """Every post Jekyll published is one newsbot found, with the same values, and no other."""
    missing, extra = sorted(set(jekyll) - set(newsbot)), sorted(set(newsbot) - set(jekyll))
    assert not missing and not extra, f"only Jekyll found {missing}; only newsbot found {extra}"
    for path, expected in jekyll.items():
        found = newsbot[path]
        for field in ("url", "absolute_url", "categories", "title", "excerpt"):
            assert getattr(found, field) == getattr(expected, field), (path, field)
        assert found.date == expected.date, (path, "date", found.date, expected.date)
        assert found.date.utcoffset() == expected.date.utcoffset(), (path, "date zone")
