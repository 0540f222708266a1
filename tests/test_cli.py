"""The command line: check, preview, import, and clear errors for bad input."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.cli import main
from bot.posts import read_post
from tests.double import TelegramDouble
from tests.helpers import SEED, TOKEN, WritePost, eventually

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


def jekyll_site(root: Path, config: str, posts: int = 1) -> Path:
    """A Jekyll site at `root` with `posts` posts (the first dated by its file name only)."""
    (root / "_posts").mkdir(parents=True)
    (root / "_config.yml").write_text(config, encoding="utf-8")
    for n in range(posts):
        date = "someday" if n == 0 else f"2026-11-{n:02d} 08:00"
        (root / "_posts" / f"2026-10-{n + 1}-story-{n}.md").write_text(
            f"---\ntitle: Story {n}\ndate: {date}\nimage: /img/{n}.jpg\n---\nWords {n}.\n"
        )
    return root


def test_check_reports_warnings_apart_from_rejections_and_they_do_not_fail(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NEWSBOT_SITE_URL", raising=False)
    site = jekyll_site(tmp_path / "site", "title: No address\n", posts=3)
    code, out, err = run(capsys, "check", str(site))
    assert code == 0 and out == ""
    warnings = [line for line in err.splitlines() if line.startswith("warning: ")]
    assert len(warnings) == 2  # the date read from the file name; no link, said once
    assert any("_posts/2026-10-1-story-0.md: unreadable date" in line for line in warnings)
    assert sum("no link" in line for line in warnings) == 1
    assert err.splitlines()[-1] == "3 posts loaded, 0 rejected, 2 warnings"

    (site / "_posts" / "2026-10-9-broken.md").write_text("---\ntitle: [\n---\nBody\n")
    code, out, err = run(capsys, "check", str(site))
    assert code == 1 and out.startswith("_posts/2026-10-9-broken.md: malformed front matter")
    assert "3 posts loaded, 1 rejected, 2 warnings" in err


def test_check_of_a_folder_with_files_but_no_posts_warns_with_a_hint(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    site = jekyll_site(tmp_path / "www" / "site", "url: https://example.org\n")
    (site / "_config.yml").unlink()  # pointed at a folder above a site without its config
    code, out, err = run(capsys, "check", str(tmp_path / "www"))
    assert code == 0 and out == ""
    [warning] = [line for line in err.splitlines() if line.startswith("warning: ")]
    assert "0 posts" in warning and "_config.yml" in warning and str(site) in warning
    assert err.splitlines()[-1] == "0 posts loaded, 0 rejected, 1 warnings"
    (tmp_path / "empty").mkdir()
    code, _, err = run(capsys, "check", str(tmp_path / "empty"))
    assert code == 0 and err.splitlines() == ["0 posts loaded, 0 rejected, 0 warnings"]


def test_preview_json_of_a_site_gives_absolute_links_and_images_and_limit_0_all(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEWSBOT_SITE_URL", "https://news.example.org")
    site = jekyll_site(tmp_path / "site", "baseurl: /blog\npermalink: pretty\n", posts=12)
    code, out, _ = run(capsys, "preview", "--json", "--limit", "0", str(site))
    records = json.loads(out)
    assert code == 0 and len(records) == 12
    newest = records[0]["post"]
    assert newest["id"] == "_posts/2026-10-12-story-11"
    assert newest["url"] == "https://news.example.org/blog/2026/11/11/story-11/"
    assert newest["image"] == "https://news.example.org/blog/img/11.jpg"
    assert records[0]["params"]["photo"] == newest["image"]
    code, out, _ = run(capsys, "preview", "--json", str(site))
    assert len(json.loads(out)) == 10


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
        (["preview", "--limit", "-1"], "--limit must be 0 (every post) or more"),
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


# --- `newsbot run`: settings, the network, and secrets ----------------------------------------


def test_run_with_a_malformed_api_address_is_a_one_line_settings_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # no .env of the developer's
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("TELEGRAM_API_URL", "api.telegram.org/bot")
    code, out, err = run(capsys, "run")
    assert code == 2 and out == ""
    [line] = err.strip().splitlines()
    assert line.startswith("newsbot run: bad setting: TELEGRAM_API_URL: must start with https://")
    assert TOKEN.partition(":")[2] not in err


def free_port() -> int:
    """A loopback port nobody listens on (the system's choice, released for the test to take)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def launch(
    tmp_path: Path, api_url: str, *options: str
) -> tuple[asyncio.subprocess.Process, Path]:
    """`python -m bot run` against `api_url`, its log lines going to a file the test reads."""
    (tmp_path / "content").mkdir(exist_ok=True)
    variables = {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_URL": api_url,
        "NEWSBOT_CONTENT_DIR": str(tmp_path / "content"),
        "NEWSBOT_DATABASE": str(tmp_path / "data" / "newsbot.sqlite3"),
        "NEWSBOT_LISTEN": "127.0.0.1:0",
        "NEWSBOT_METRICS_PORT": "0",
    }
    log_file = tmp_path / "bot.log"
    with log_file.open("ab") as log:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", *options, cwd=tmp_path, env=variables, stderr=log
        )
    return process, log_file


@contextlib.asynccontextmanager
async def forwarding(port: int, target: int) -> AsyncIterator[None]:
    """The network coming back: `port` on loopback now leads to `target`."""

    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        writer.close()

    async def connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", target)
        await asyncio.gather(pipe(reader, upstream_writer), pipe(upstream_reader, writer))

    server = await asyncio.start_server(connect, "127.0.0.1", port)
    async with server:
        yield


def assert_clean(log: str) -> None:
    """No traceback, and no secret, in anything the process wrote."""
    assert "Traceback" not in log
    assert TOKEN not in log and TOKEN.partition(":")[2] not in log


async def test_no_network_at_start_is_a_log_line_and_a_retry_until_telegram_answers(
    tmp_path: Path, double: TelegramDouble
) -> None:
    port = free_port()  # connections refused: nothing listens here yet
    process, log_file = await launch(tmp_path, f"http://127.0.0.1:{port}/bot")
    try:
        await eventually(
            lambda: log_file.read_text().count("Telegram not reachable") >= 2,
            timeout=20,
            description="two tries logged",
        )
        assert process.returncode is None  # still trying, not crashed
        tries = [line for line in log_file.read_text().splitlines() if "not reachable" in line]
        assert "delay=1s" in tries[0] and "delay=2s" in tries[1]  # the pause grows
        async with forwarding(port, double.port):
            await eventually(
                lambda: "newsbot started" in log_file.read_text(),
                timeout=20,
                description="started once Telegram answers",
            )
            process.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(process.wait(), 15) == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    log = log_file.read_text()
    assert_clean(log)
    assert all(line.startswith("time=") for line in log.splitlines())  # one line per event


async def test_a_name_that_does_not_resolve_is_retried_and_a_stop_still_works(
    tmp_path: Path,
) -> None:
    process, log_file = await launch(tmp_path, "http://newsbot-test.invalid/bot")
    try:
        await eventually(
            lambda: "Telegram not reachable" in log_file.read_text(),
            timeout=20,
            description="the failed lookup logged",
        )
        process.send_signal(signal.SIGTERM)  # while start-up is still waiting for Telegram
        assert await asyncio.wait_for(process.wait(), 15) == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert_clean(log_file.read_text())


async def test_a_refused_token_is_one_line_that_does_not_show_it(
    tmp_path: Path, double: TelegramDouble
) -> None:
    double.fail_next("getMe", status=401, description="Unauthorized")
    process, log_file = await launch(tmp_path, double.base_url)
    assert await asyncio.wait_for(process.wait(), 30) == 1
    log = log_file.read_text()
    assert_clean(log)
    [line] = [line for line in log.splitlines() if "level=CRITICAL" in line]
    assert "Telegram refused TELEGRAM_BOT_TOKEN" in line


# --- `newsbot run`: a database that is there but is not newsbot's -------------------------------


@pytest.mark.parametrize(
    "contents", [b"", b"name,email\nann,ann@example.org\n"], ids=["empty", "foreign"]
)
async def test_an_empty_or_foreign_database_is_refused_unless_a_new_one_is_asked_for(
    tmp_path: Path, double: TelegramDouble, contents: bytes
) -> None:
    database = tmp_path / "data" / "newsbot.sqlite3"
    database.parent.mkdir()
    database.write_bytes(contents)  # a truncated database, or someone else's file
    process, log_file = await launch(tmp_path, double.base_url)
    assert await asyncio.wait_for(process.wait(), 30) == 1
    log = log_file.read_text()
    assert_clean(log)
    [line] = [line for line in log.splitlines() if "level=CRITICAL" in line]
    assert "newsbot cannot run" in line and "--new-database" in line
    assert database.read_bytes() == contents  # nothing written to it
    assert not double.calls("getMe")  # refused before anything else

    process, log_file = await launch(tmp_path, double.base_url, "--new-database")
    try:
        await eventually(lambda: "newsbot started" in log_file.read_text(), timeout=20)
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), 15) == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    [kept] = database.parent.glob("newsbot.sqlite3.unusable-*")
    assert kept.read_bytes() == contents  # set aside, not destroyed
    assert database.read_bytes().startswith(b"SQLite format 3")
    assert_clean(log_file.read_text())
