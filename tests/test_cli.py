"""The command line: check, preview, import, and clear errors for bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main
from bot.posts import read_post
from tests.helpers import SEED, WritePost

ARTICLE = """<!doctype html>
<html lang="en"><head>
<title>Site name | Ferry services resume</title>
<meta property="og:image" content="https://img.example/ferry.jpg">
<meta property="og:url" content="https://news.example/ferry">
<meta property="article:published_time" content="2026-11-20T07:30:00+07:00">
<script>tracking()</script>
</head><body>
<nav>Home | World | Sport</nav>
<article>
<h1>Ferry services resume after storm</h1>
<p>Ferries to the islands <strong>resumed</strong> on Friday after a <a href="https://news.example/storm">storm</a>.</p>
<p>Operators expect delays.</p>
<script>alert(1)</script>
</article>
<footer>Copyright</footer>
</body></html>
"""


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_check_passes_on_the_sample_content(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "check", str(Path(__file__).resolve().parents[1] / "content"))
    assert code == 0 and out == "" and "0 rejected" in err


def test_check_lists_each_rejected_file_and_fails(
    capsys: pytest.CaptureFixture[str], content: Path, write_post: WritePost
) -> None:
    write_post("good.md")
    (content / "bad.md").write_text("---\ntitle: [\n---\nBody\n", encoding="utf-8")
    code, out, err = run(capsys, "check", "--content", str(content))
    assert code == 1
    assert out.splitlines() == [out.strip()] and out.startswith("bad.md: malformed front matter")
    assert "1 posts loaded, 1 rejected" in err


def test_preview_json_of_the_seed_post(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "preview", "--json", str(SEED))
    assert code == 0
    [record] = json.loads(out)
    post, params = record["post"], record["params"]
    assert post["title"] == "Delta ferry service resumes after storm shut crossings for four days"
    assert post["summary"].startswith("CAN THO — Ferry crossings on the lower delta resumed")
    assert post["summary"].endswith("citing two harbour officials.")
    assert (post["category"], post["category_key"]) == ("WORLD", "world")
    assert post["date"] == "2026-11-15T08:12:45.250000+00:00"
    assert record["method"] == "sendPhoto"
    assert params["photo"] == post["image"] and params["parse_mode"] == "HTML"
    assert params["reply_markup"]["inline_keyboard"][0][0]["url"] == post["url"]


def test_preview_filters_hide_unpublished_and_future_posts(
    capsys: pytest.CaptureFixture[str], content: Path, write_post: WritePost
) -> None:
    write_post("a.md", title="World one", category="World", date="2026-11-01T00:00:00Z")
    write_post("b.md", title="Sport one", category="Sport", date="2026-11-02T00:00:00Z")
    write_post("c.md", title="Draft", category="World", published=False)
    write_post("d.md", title="Tomorrow", category="World", date="2999-01-01T00:00:00Z")
    code, out, _ = run(capsys, "preview", str(content), "--json", "--category", "world")
    assert code == 0 and [r["post"]["title"] for r in json.loads(out)] == ["World one"]
    code, out, _ = run(capsys, "preview", str(content), "--limit", "1")
    assert code == 0 and "Sport one" in out and "World one" not in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["preview", "/no/such/folder"], "does not exist"),
        (["preview", "--category", "nope"], "unknown category"),
        (["preview", "--limit", "0"], "--limit must be at least 1"),
        (["import", "/no/such/page.html"], "cannot read"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    code, _, err = run(capsys, *args)
    assert code == 2
    assert message in err and len(err.strip().splitlines()) == 1


def test_import_turns_a_saved_page_into_a_post(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, content: Path
) -> None:
    page = tmp_path / "page.html"
    page.write_text(ARTICLE, encoding="utf-8")
    code, out, _ = run(
        capsys, "import", str(page), "--category", "WORLD", "--content", str(content)
    )
    assert code == 0 and out.startswith("imported ")
    [path] = content.glob("*.md")
    assert path.name == "2026-11-20-ferry-services-resume-after-storm.md"
    post = read_post(path)
    assert post.title == "Ferry services resume after storm"
    assert post.summary_text == "Ferries to the islands resumed on Friday after a storm."
    assert (post.image, post.url) == ("https://img.example/ferry.jpg", "https://news.example/ferry")
    assert [c.key for c in post.categories] == ["world"]
    assert "tracking" not in path.read_text() and "alert" not in path.read_text()
    assert "Copyright" not in path.read_text()
    code, out, _ = run(capsys, "preview", str(content), "--json")
    assert json.loads(out)[0]["post"]["id"] == post.id
    code, _, err = run(capsys, "import", str(page), "--content", str(content))
    assert code == 2 and "already exists" in err


def test_import_refuses_unsafe_addresses(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, content: Path
) -> None:
    page = tmp_path / "page.html"
    page.write_text(ARTICLE, encoding="utf-8")
    code, _, err = run(
        capsys, "import", str(page), "--url", "javascript:alert(1)", "--content", str(content)
    )
    assert code == 2 and "--url must be an http(s) address" in err
    assert not list(content.glob("*.md"))


def test_python_dash_m_bot_is_the_same_program() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot", "check", str(SEED)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0 and "1 posts loaded, 0 rejected" in result.stderr
