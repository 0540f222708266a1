"""Helpers shared by the tests: the seed-shaped post, post files written from fields, a store."""

from __future__ import annotations

import asyncio
import inspect
import textwrap
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TypeVar

from bot.store import Location, Store

#: A post in the shape of the newsroom's scraped articles: a blank `title`, a `description` cut
#: mid-word, an empty `# ` heading, the headline as the first paragraph, and a photo whose caption
#: is repeated as a paragraph.
SEED = Path(__file__).resolve().parent / "fixtures" / "seed-shaped-post.md"

#: A token shaped like a real one, so a leak in the logs would be easy to spot.
TOKEN = "123456789:AAEXAMPLEsecretPARTthatMUSTnotLEAK_0"

WritePost = Callable[..., Path]
T = TypeVar("T")


async def eventually(
    check: Callable[[], T | Awaitable[T]],
    timeout: float = 5.0,
    *,
    description: str | None = None,
) -> T:
    """Poll `check` (plain or async) until it returns something truthy, and return that.

    The one way tests wait: bounded, so a broken behaviour fails with the condition's name rather
    than stalling the suite, and driven by a positive signal rather than a fixed sleep.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = check()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return value  # type: ignore[return-value]
        if loop.time() >= deadline:
            what = description or getattr(check, "__qualname__", repr(check))
            raise AssertionError(f"{what} not met within {timeout}s (last: {value!r})")
        await asyncio.sleep(0.01)


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


@asynccontextmanager
async def open_store(path: Location) -> AsyncIterator[Store]:
    """The database at `path`, opened (and migrated) for a block and closed however it ends.

    For a test that needs the file itself, or opens it more than once; the `store` fixture
    serves the others.
    """
    store = await Store.open(path)
    try:
        yield store
    finally:
        await store.close()
