"""Jekyll's slugs: how a title or file name becomes a piece of a post's address.

`Utils.slugify` (jekyll/utils.rb, 4.3) replaces every run of characters a mode does not keep
with one "-", trims one "-" from each end and lower-cases (unless `cased`). The modes:

- "default": keeps letters, marks and decimal digits of any script ("Ünïcode", "日本語");
- "pretty": also keeps `._~!$&'()+,;=@` (the `:title` placeholder uses it, cased);
- "raw": replaces only runs of whitespace;
- "ascii": keeps only A-Z, a-z and 0-9;
- "latin": drops accents from Latin letters first, then works as "default";
- anything else ("none"): the text itself.

Unicode categories come from Python's `unicodedata`; Ruby's regular expressions use the same
classes (`\\p{L}`, `\\p{M}`, `\\p{Nd}`), checked against Jekyll itself by the tests.
"""

from __future__ import annotations

import re
import unicodedata

MODES = ("raw", "default", "pretty", "ascii", "latin")
_PRETTY_EXTRA = frozenset("._~!$&'()+,;=@")
_ASCII_RUN = re.compile(r"[^A-Za-z0-9]+")
# For ASCII text the Unicode classes reduce to letters and digits: one regex does the work.
_PRETTY_ASCII_RUN = re.compile(r"[^A-Za-z0-9._~!$&'()+,;=@]+")
_SPACE_RUN = re.compile(r"\s+")


def slugify(text: str, mode: str = "default", *, cased: bool = False) -> str:
    """`text` as Jekyll's `Utils.slugify(text, mode:, cased:)` gives it."""
    if mode not in MODES:
        return text if cased else text.lower()
    if mode == "latin":
        text = _transliterate(text)
    if mode == "raw":
        slug = _SPACE_RUN.sub("-", text)
    elif mode == "ascii":
        slug = _ASCII_RUN.sub("-", text)
    elif text.isascii():
        slug = (_PRETTY_ASCII_RUN if mode == "pretty" else _ASCII_RUN).sub("-", text)
    else:
        extra = _PRETTY_EXTRA if mode == "pretty" else frozenset()
        slug = _replace_runs(text, extra)
    slug = slug.removeprefix("-").removesuffix("-")
    return slug if cased else slug.lower()


def titleize_slug(slug: str) -> str:
    """The title Jekyll gives a post without one: "my-first-post" -> "My First Post".

    Ruby's `split("-")` drops empty parts at the end, and `capitalize` lower-cases the rest of
    each word, so "GPS-data" becomes "Gps Data", as on the Jekyll site.
    """
    parts = slug.split("-")
    while parts and not parts[-1]:
        parts.pop()
    return " ".join(part.capitalize() for part in parts)


def _kept(char: str, extra: frozenset[str]) -> bool:
    category = unicodedata.category(char)
    return category[0] in "LM" or category == "Nd" or char in extra


def _replace_runs(text: str, extra: frozenset[str]) -> str:
    out: list[str] = []
    in_run = False
    for char in text:
        if _kept(char, extra):
            out.append(char)
            in_run = False
        elif not in_run:
            out.append("-")
            in_run = True
    return "".join(out)


def _transliterate(text: str) -> str:
    """Latin letters without their accents; anything else outside ASCII becomes "?" (as I18n)."""
    out: list[str] = []
    for char in text:
        if char.isascii():
            out.append(char)
            continue
        base = "".join(
            c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c)
        )
        out.append(base if base and base.isascii() else "?")
    return "".join(out)
