"""The hostile-content corpus: every kind of post file that once stopped newsbot, and how it must
be taken now.

Small files are kept in this folder as they are; the large ones and the links are written by
`write`. Each entry names the file it puts in a content folder and a piece of the reason it must
be rejected with, or None for a file that must load (quickly, and make a card that fits).
Every file is dated long ago, so a bot that loads one archives it rather than sending it.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tests.helpers import post_text

HERE = Path(__file__).resolve().parent
WHEN = "2026-11-20T08:00:00Z"

#: Writes one hostile file at the path given; the second folder is outside the content folder.
Make = Callable[[Path, Path], None]


@dataclass(frozen=True)
class Hostile:
    """One entry: its file name, what it is, how it is made and what newsbot must say."""

    name: str
    what: str
    reason: str | None
    make: Make

    def write(self, content: Path, outside: Path) -> Path:
        """Put the file in `content`; `outside` is a folder elsewhere, for links out."""
        outside.mkdir(parents=True, exist_ok=True)
        path = content / self.name
        self.make(path, outside)
        return path


def _stored(path: Path, _: Path) -> None:
    shutil.copyfile(HERE / path.name, path)


def _text(body: str) -> Make:
    def make(path: Path, _: Path) -> None:
        text = post_text(body, title=f"Hostile {path.stem}", date=WHEN)
        path.write_text(text, encoding="utf-8")

    return make


def _front_matter(front: str) -> Make:
    def make(path: Path, _: Path) -> None:
        path.write_text(f"---\n{front}\ndate: {WHEN}\n---\n\nA story.\n", encoding="utf-8")

    return make


def _link_loop(path: Path, _: Path) -> None:
    path.symlink_to(path.name)


def _link_out(path: Path, outside: Path) -> None:
    secret = outside / "secret.md"
    secret.write_text(post_text("Not for readers.", title="Secret", date=WHEN), encoding="utf-8")
    path.symlink_to(secret)


def _binary(path: Path, _: Path) -> None:
    path.write_bytes(bytes(range(256)) * 64)


#: Just under the 1 MB a post may be.
MEGABYTE = 1000 * 1000

CORPUS: tuple[Hostile, ...] = (
    Hostile("alias-bomb-title.md", "a YAML alias bomb as the title", "YAML aliases", _stored),
    Hostile(
        "alias-bomb-categories.md",
        "few YAML aliases that expand to half a megabyte of categories",
        "aliases expand it past",
        _stored,
    ),
    Hostile(
        "alias-bomb-description.md",
        "a YAML alias bomb as the description",
        "YAML aliases",
        _stored,
    ),
    Hostile("alias-loop.md", "a YAML alias inside itself", "refers to itself", _stored),
    Hostile(
        "deep-front-matter.md",
        "front matter nested 20,000 levels deep",
        "nested deeper than",
        _front_matter("title: " + "[" * 20_000 + "]" * 20_000),
    ),
    Hostile(
        "huge-front-matter.md",
        "200 KB of front matter",
        "front matter is larger than",
        _front_matter("title: T\ndescription: " + "word " * 40_000),
    ),
    Hostile(
        "deep-nesting.html",
        "HTML nested 50,000 levels deep",
        "HTML is nested deeper than 100 levels",
        _text("<div>" * 50_000 + "deep" + "</div>" * 50_000),
    ),
    Hostile(
        "unterminated.html",
        "HTML of unterminated comments, tags, declarations and references",
        None,
        _text("<p>Lead.</p>" + "<!--<a<![&#" * (MEGABYTE // 12)),
    ),
    Hostile(
        "inline-markup.md",
        "a megabyte of inline markup in one paragraph",
        None,
        _text("*a* " * (MEGABYTE // 4 - 50)),
    ),
    Hostile(
        "many-images.md",
        "a megabyte of image paragraphs",
        None,
        _text("Lead.\n\n" + "![a](https://x.example/i.png)\n\n" * (MEGABYTE // 34)),
    ),
    Hostile(
        "link-loop.md",
        "a link to itself",
        "Too many levels of symbolic links",
        _link_loop,
    ),
    Hostile(
        "linked-from-outside.md",
        "a link to a post outside the content folder",
        "outside the content folder",
        _link_out,
    ),
    Hostile("year-1.md", "a post dated in year 1", "outside 1970-2099", _stored),
    Hostile("year-9999.md", "a post dated in year 9999", "outside 1970-2099", _stored),
    Hostile(
        "long-host.md",
        "a source link with a 5,000-character host, and long categories",
        None,
        _stored,
    ),
    Hostile("binary.md", "random bytes", "no front matter", _binary),
)


def write_corpus(content: Path, outside: Path) -> dict[str, Hostile]:
    """Every file of the corpus in `content`, by file name."""
    for hostile in CORPUS:
        hostile.write(content, outside)
    return {hostile.name: hostile for hostile in CORPUS}
