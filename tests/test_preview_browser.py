"""The preview page in a real browser: headless Chromium (Debian's `chromium`, installed by
`scripts/ensure-chromium` for `make test`) opens it and reads what a reader sees.

`--dump-dom` gives the page as the browser holds it once loaded and its script has run; the
filters are set through the page's address (`#c=world&q=...`), so the script is what does the
filtering. Each test keeps a screenshot under pytest's temporary folder and prints its path.
"""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
import sys
import threading
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from bot.cli import main
from tests.helpers import WritePost

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
RECENT = (datetime.now(UTC) - timedelta(hours=2)).isoformat()


def png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """A real PNG of one colour, for the browser to decode."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    rows = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


@pytest.fixture
def images() -> Iterator[str]:
    """An image server on loopback: `/lead.png` is a picture; anything else is missing."""
    picture = png(240, 120, (46, 125, 50))

    class Images(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            found = self.path == "/lead.png"
            self.send_response(200 if found else 404)
            self.send_header("Content-Type", "image/png")
            self.send_header("Content-Length", str(len(picture) if found else 0))
            self.end_headers()
            if found:
                self.wfile.write(picture)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Images)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def chromium(tmp_path: Path, *args: str, timeout: float = 60) -> str:
    """Run headless Chromium once; its stdout."""
    assert CHROMIUM is not None, "Chromium is missing: scripts/ensure-chromium installs it"
    command = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",  # the tests may run as root, in a container
        "--disable-gpu",
        "--no-first-run",
        "--hide-scrollbars",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
        "--virtual-time-budget=5000",
        *args,
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def dom(tmp_path: Path, address: str) -> str:
    return chromium(tmp_path, "--window-size=420,3000", "--dump-dom", address)


def screenshot(tmp_path: Path, address: str, name: str) -> Path:
    shot = tmp_path / name
    chromium(tmp_path, "--window-size=420,1600", f"--screenshot={shot}", address)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    print(f"screenshot: {shot}")
    return shot


def articles(page: str) -> list[str]:
    return re.findall(r"<article.*?</article>", page, re.S)


def visible(page: str) -> list[str]:
    return [a for a in articles(page) if not re.match(r'<article class="[^"]*\bhidden\b', a)]


@pytest.fixture
def newsroom(write_post: WritePost, content: Path, images: str) -> Path:
    """A folder with a card of each kind, and one file that cannot be read."""
    write_post(
        "quake.md",
        "A **strong** quake shook the *coast* at dawn. [Live updates](https://news.example/live).",
        title="Quake hits the coast",
        category="World",
        date=RECENT,
        image=f"{images}/lead.png",
        origin_url="https://news.example/quake",
    )
    write_post(
        "bridge.md",
        "Traffic flows again after repairs.",
        title="Bridge <script>alert(1)</script> reopens",
        category="Business",
        date=(datetime.now(UTC) - timedelta(hours=3)).isoformat(),
        origin_url="https://news.example/bridge",
    )
    write_post(
        "match.md",
        "The home side won 2-1.",
        title="Derby ends in late winner",
        category="Sport",
        date=(datetime.now(UTC) - timedelta(hours=4)).isoformat(),
    )
    write_post(
        "long.md",
        " ".join(["The council met for a long session on the flood barrier plan."] * 40),
        title="Council approves flood barrier",
        category="World",
        date=(datetime.now(UTC) - timedelta(hours=5)).isoformat(),
        image=f"{images}/missing.png",
        origin_url="https://news.example/barrier",
    )
    (content / "broken.md").write_text("---\ntitle: [unclosed\n---\nText\n", encoding="utf-8")
    return content


def test_a_reader_sees_each_card_as_telegram_shows_it(newsroom: Path, tmp_path: Path) -> None:
    out = tmp_path / "cards.html"
    assert main(["preview", "--html", str(out), str(newsroom)]) == 0
    page = dom(tmp_path, out.as_uri())
    cards = articles(page)
    assert len(cards) == 5 and len(visible(page)) == 5
    quake, bridge, match, barrier, broken = cards

    # The photo card: the picture loaded, the caption with its formatting, links and hashtag.
    assert re.search(r'<img src="http://127\.0\.0\.1:\d+/lead\.png"', quake)
    assert 'class="photo failed"' not in quake
    assert "<b>Quake hits the coast</b>" in quake
    assert "<b>strong</b>" in quake and "<i>coast</i>" in quake
    assert 'href="https://news.example/live"' in quake
    assert '<span class="hashtag">#world</span>' in quake
    assert re.search(r'class="button" href="https://news.example/quake"[^>]*>Read more</a>', quake)
    assert '<span class="category">World</span>' in quake
    assert "badge" not in quake

    # The text card: a link preview, and a hostile headline shown as text, never run.
    assert 'class="preview" href="https://news.example/bridge"' in bridge
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in bridge and "<script>alert" not in page
    assert "<b>no image</b>" in bridge

    # Problems are badges: no link and no image; a summary cut; an image that did not load.
    assert "<b>no link</b>" in match and "<b>no image</b>" in match
    assert 'class="button"' not in match and 'class="preview"' not in match
    assert "<b>summary cut</b>" in barrier
    assert 'class="photo failed"' in barrier and "image not loaded" in barrier
    assert "broken.md" in broken and "<b>rejected</b>" in broken

    screenshot(tmp_path, out.as_uri(), "preview.png")


def test_the_page_filters_by_category_and_searches_headlines(
    newsroom: Path, tmp_path: Path
) -> None:
    out = tmp_path / "cards.html"
    assert main(["preview", "--html", str(out), str(newsroom)]) == 0
    shown = visible(dom(tmp_path, out.as_uri() + "#c=world"))
    assert [re.search(r"<b>(.*?)</b>", a).group(1) for a in shown] == [  # type: ignore[union-attr]
        "Quake hits the coast",
        "Council approves flood barrier",
    ]
    shown = visible(dom(tmp_path, out.as_uri() + "#q=DERBY"))
    assert len(shown) == 1 and "Derby ends in late winner" in shown[0]
    shown = visible(dom(tmp_path, out.as_uri() + "#c=!rejected"))
    assert len(shown) == 1 and "broken.md" in shown[0]
    page = dom(tmp_path, out.as_uri() + "#q=nothing+like+this")
    assert visible(page) == [] and 'id="empty" class="empty shown"' in page


def test_five_thousand_cards_stay_responsive(
    write_post: WritePost, content: Path, tmp_path: Path
) -> None:
    for n in range(5000):
        write_post(
            f"p{n}.md",
            f"Paragraph {n} of the archive.",
            title=f"Archive story {n}",
            category=f"Desk {n % 9}",
            date=(datetime.now(UTC) - timedelta(minutes=n + 1)).isoformat(),
            origin_url=f"https://news.example/{n}",
        )
    out = tmp_path / "archive.html"
    assert main(["preview", "--html", str(out), str(content)]) == 0
    page = dom(tmp_path, out.as_uri() + "#c=desk_3&q=story+12")
    shown = visible(page)
    expected = {n for n in range(5000) if n % 9 == 3 and str(n).startswith("12")}
    assert {int(re.search(r"Archive story (\d+)", a).group(1)) for a in shown} == expected  # type: ignore[union-attr]
    milliseconds = float(re.search(r'id="shown" data-ms="([\d.]+)"', page).group(1))  # type: ignore[union-attr]
    assert milliseconds < 250, milliseconds  # one filtering pass over every card
    screenshot(tmp_path, out.as_uri(), "archive.png")


def test_the_served_page_is_the_same_page(newsroom: Path, tmp_path: Path) -> None:
    command = [
        sys.executable,
        "-m",
        "bot",
        "preview",
        "--serve",
        "--port",
        "0",
        str(newsroom),
    ]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as server:
        try:
            assert server.stdout is not None
            address = re.search(r"http://127\.0\.0\.1:\d+/", server.stdout.readline())
            assert address is not None
            page = dom(tmp_path, address.group(0) + "#c=sport")
            shown = visible(page)
            assert len(articles(page)) == 5 and len(shown) == 1
            assert "Derby ends in late winner" in shown[0]
        finally:
            server.terminate()
            server.wait(10)
