"""Lead images: downloading one when Telegram cannot fetch it, and remembering its `file_id`.

Telegram fetches a photo URL itself, but some hosts refuse it, and Telegram then caches the
failure for days. newsbot downloads such an image once, uploads the bytes, and sends the
`file_id` Telegram returns to every other chat. One upload per image, however many chats.
"""

from __future__ import annotations

import asyncio
import logging

import httpx
from telegram import InputFile

from bot.errors import ImageError
from bot.store import Store

log = logging.getLogger(__name__)

#: Telegram accepts uploaded photos up to 10 MB.
MAX_IMAGE_BYTES = 10 * 1024 * 1024
IMAGE_TYPES = ("image/jpeg", "image/png", "image/webp", "image/gif")


async def download(client: httpx.AsyncClient, url: str, *, limit: int = MAX_IMAGE_BYTES) -> bytes:
    """The bytes of the image at `url`, checked for type and size, or `ImageError`."""
    try:
        async with client.stream("GET", url) as response:
            if response.status_code != httpx.codes.OK:
                raise ImageError(f"HTTP {response.status_code}")
            kind = response.headers.get("content-type", "").split(";")[0].strip().lower()
            if kind not in IMAGE_TYPES:
                raise ImageError(f"not an image ({kind or 'no content type'})")
            declared = int(response.headers.get("content-length") or 0)
            if declared > limit:
                raise ImageError(f"too large ({declared} bytes)")
            data = bytearray()
            async for chunk in response.aiter_bytes():
                data += chunk
                if len(data) > limit:
                    raise ImageError(f"too large (over {limit} bytes)")
    except ImageError:
        raise
    except Exception as exc:  # httpx errors, and what a strange address makes its parsers raise
        raise ImageError(f"{type(exc).__name__}: {exc}") from exc
    if not data:
        raise ImageError("empty response")
    return bytes(data)


class ImageCache:
    """Which images Telegram already holds (`file_id`) and which cannot be had at all."""

    def __init__(self, store: Store, client: httpx.AsyncClient) -> None:
        self._store = store
        self._client = client
        self._file_ids: dict[str, str] = {}
        self._unavailable: set[str] = set()
        self._locks: dict[str, asyncio.Lock] = {}

    def lock(self, url: str) -> asyncio.Lock:
        """The lock that lets exactly one sender upload a given image."""
        return self._locks.setdefault(url, asyncio.Lock())

    def unavailable(self, url: str) -> bool:
        """Whether the image failed both ways already in this run."""
        return url in self._unavailable

    def mark_unavailable(self, url: str, reason: str) -> None:
        """Send the text version from now on for this image."""
        log.warning("image unavailable url=%s reason=%s", url, reason)
        self._unavailable.add(url)

    async def file_id(self, url: str) -> str | None:
        """The `file_id` of an image sent before, from memory or the database."""
        if url not in self._file_ids:
            found = await self._store.image_file_id(url)
            if found is None:
                return None
            self._file_ids[url] = found
        return self._file_ids[url]

    async def remember(self, url: str, file_id: str) -> None:
        """Keep the `file_id` Telegram gave this image."""
        if self._file_ids.get(url) != file_id:
            self._file_ids[url] = file_id
            await self._store.remember_image(url, file_id)

    async def forget(self, url: str) -> None:
        """Drop a `file_id` Telegram refused."""
        self._file_ids.pop(url, None)
        await self._store.forget_image(url)

    async def download(self, url: str) -> bytes:
        """Download the image for uploading."""
        return await download(self._client, url)

    async def upload(self, url: str, *, attach: bool = False) -> InputFile | None:
        """The image as a file to upload, or None (and marked unavailable) when it cannot be
        downloaded. `attach` is for a file inside an InputMedia, which travels as a part of
        its own."""
        try:
            data = await self.download(url)
        except ImageError as exc:
            self.mark_unavailable(url, str(exc))
            return None
        return InputFile(data, filename="image.jpg", attach=attach)
