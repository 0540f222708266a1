"""Helpers shared by the tests: the seed post, and post files written from fields."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

SEED = Path(__file__).resolve().parents[1].parent / "shared" / "reference" / "seed-post.md"

#: A token shaped like a real one, so a leak in the logs would be easy to spot.
TOKEN = "123456789:AAEXAMPLEsecretPARTthatMUSTnotLEAK_0"

WritePost = Callable[..., Path]


def post_text(body: str = "A first paragraph of the story.", **meta: object) -> str:
    """A post file's text with the given front matter fields (strings are quoted)."""
    lines = ["---"]
    for key, value in meta.items():
        if isinstance(value, str):
            value = '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
        elif isinstance(value, list):
            value = "[" + ", ".join(str(v) for v in value) + "]"
        elif isinstance(value, bool):
            value = "true" if value else "false"
        lines.append(f"{key}: {value}")
    lines.append("---")
    return "\n".join(lines) + "\n\n" + textwrap.dedent(body).strip() + "\n"
