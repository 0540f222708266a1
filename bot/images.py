"""Lead images: downloading one when Telegram cannot fetch it, and remembering its `file_id`.

Telegram fetches a photo URL itself, but some hosts refuse it, and Telegram then caches the
failure for days. newsbot downloads such an image once, uploads the bytes, and sends the
`file_id` Telegram returns to every other chat. One upload per image, however many chats.

The download goes through `bot.fetch`: public addresses only, three redirects, one deadline and
a size cap. It runs as a task of its own (`fetch`), one per image however many chats wait for
it, so a caller need not hold anything while it runs: the sender can start it, let the delivery
wait without its turn or its connection, and send when `downloaded` has the bytes (`on_ready`
says when). A slow image host then delays only the post whose image it serves.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Callable

from telegram import InputFile

from bot.errors import ImageError
from bot.fetch import Fetcher
from bot.store import Store

log = logging.getLogger(__name__)

#: Telegram accepts uploaded photos up to 10 MB.
MAX_IMAGE_BYTES = 10 * 1024 * 1024
IMAGE_TYPES = ("image/jpeg", "image/png", "image/webp", "image/gif")
#: Downloaded images kept until Telegram holds them (a `file_id` is remembered), in bytes.
KEPT_BYTES = 64 * 1024 * 1024
#: Images downloaded at the same time; more wait for a free place.
PARALLEL_DOWNLOADS = 4


async def download(fetcher: Fetcher, url: str, *, limit: int = MAX_IMAGE_BYTES) -> bytes:
    """The bytes of the image at `url`, checked for type and size, or `ImageError`."""
    return (await fetcher.get(url, limit=limit, types=IMAGE_TYPES)).data


class ImageCache:
    """Which images Telegram already holds (`file_id`), which are downloaded or downloading,
    and which cannot be had at all."""

    def __init__(
        self, store: Store, fetcher: Fetcher, *, on_ready: Callable[[str], None] | None = None
    ) -> None:
        """`on_ready(url)` is called when a download started by `fetch` has finished, either
        way; the sender uses it to look at its queue again."""
        self._store = store
        self._fetcher = fetcher
        self.on_ready = on_ready
        self._file_ids: dict[str, str] = {}
        self._unavailable: set[str] = set()
        self._locks: dict[str, asyncio.Lock] = {}
        self._downloads: dict[str, asyncio.Task[bytes | None]] = {}
        self._kept: OrderedDict[str, bytes] = OrderedDict()
        self._parallel = asyncio.Semaphore(PARALLEL_DOWNLOADS)

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
        self._kept.pop(url, None)

    def known(self, url: str) -> str | None:
        """The `file_id` of an image sent before in this run, without asking the database."""
        return self._file_ids.get(url)

    async def file_id(self, url: str) -> str | None:
        """The `file_id` of an image sent before, from memory or the database."""
        if url not in self._file_ids:
            found = await self._store.image_file_id(url)
            if found is None:
                return None
            self._file_ids[url] = found
        return self._file_ids[url]

    async def remember(self, url: str, file_id: str | None) -> None:
        """Keep the `file_id` Telegram gave this image (its bytes are no longer needed).

        Called once the message with the photo is out: a failure to store the id only costs a
        later upload, so it is logged here rather than making a sent card look unsent.
        """
        if file_id is None:
            return
        self._kept.pop(url, None)
        if self._file_ids.get(url) == file_id:
            return
        self._file_ids[url] = file_id
        try:
            await self._store.remember_image(url, file_id)
        except Exception:
            log.exception("could not remember the file_id of %s", url)

    async def forget(self, url: str) -> None:
        """Drop a `file_id` Telegram refused."""
        self._file_ids.pop(url, None)
        await self._store.forget_image(url)

    # --- downloading --------------------------------------------------------------------------

    def fetch(self, url: str) -> asyncio.Future[bytes | None]:
        """Start downloading the image, or join the download already under way; returns at once.

        The result is the bytes, or None when the image cannot be downloaded (it is then marked
        unavailable). It never raises, and the download runs to its end (or its deadline)
        whether or not anyone awaits it. An image downloaded or refused before is not fetched
        again: the result is ready at once.
        """
        running = self._downloads.get(url)
        if running is not None:
            return running
        if url in self._kept or url in self._unavailable:
            done: asyncio.Future[bytes | None] = asyncio.get_running_loop().create_future()
            done.set_result(self.downloaded(url))
            return done
        task = asyncio.create_task(self._download(url), name="newsbot-image")
        self._downloads[url] = task
        return task

    def downloaded(self, url: str) -> bytes | None:
        """The bytes of a finished download, without waiting (None: not downloaded, or gone)."""
        data = self._kept.get(url)
        if data is not None:
            self._kept.move_to_end(url)
        return data

    def downloading(self, url: str) -> bool:
        """Whether a download of the image is under way."""
        return url in self._downloads

    async def _download(self, url: str) -> bytes | None:
        try:
            async with self._parallel:
                data = await download(self._fetcher, url)
        except ImageError as exc:
            self.mark_unavailable(url, str(exc))
            return None
        except Exception as exc:  # a bug or a local fault: nobody may be awaiting to see it
            log.exception("image download failed url=%s", url)
            self.mark_unavailable(url, f"{type(exc).__name__}: {exc}")
            return None
        else:
            self._keep(url, data)
            return data
        finally:
            self._downloads.pop(url, None)
            if self.on_ready is not None:
                self.on_ready(url)

    def _keep(self, url: str, data: bytes) -> None:
        self._kept[url] = data
        total = sum(map(len, self._kept.values()))
        while total > KEPT_BYTES and len(self._kept) > 1:
            _, dropped = self._kept.popitem(last=False)
            total -= len(dropped)

    async def close(self) -> None:
        """Stop the downloads under way."""
        tasks = list(self._downloads.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    # --- uploading ----------------------------------------------------------------------------

    async def download(self, url: str) -> bytes:
        """The image's bytes for uploading: kept ones at once, else after the download."""
        data = self.downloaded(url)
        if data is None:
            data = await self.fetch(url)
        if data is None:
            raise ImageError("cannot be downloaded")
        return data

    async def upload(self, url: str, *, attach: bool = False) -> InputFile | None:
        """The image as a file to upload, or None (and marked unavailable) when it cannot be
        downloaded. `attach` is for a file inside an InputMedia, which travels as a part of
        its own. Waits for the download: a sender should `fetch` first and call this once
        `downloaded(url)` has the bytes."""
        data = self.downloaded(url)
        if data is None and not self.unavailable(url):
            data = await self.fetch(url)
        if data is None:
            return None
        return InputFile(data, filename="image.jpg", attach=attach)
