"""Images newsbot downloads itself: public addresses only, few redirects, a deadline, a size cap,
and a download that runs on its own so that nobody has to wait holding anything.

The image host is a real aiohttp server on 127.0.0.1. Loopback is exactly what newsbot refuses,
so tests of successful downloads admit that one address through the `allow` seam; the tests of
what is refused use the default, which admits public addresses only.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from ipaddress import IPv4Address, ip_address, ip_network

import pytest
from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult

from bot.errors import ImageError
from bot.fetch import Fetcher, IPAddress, is_public, public_or
from bot.images import MAX_IMAGE_BYTES, ImageCache
from bot.store import Store

JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 256
LOOPBACK = IPv4Address("127.0.0.1")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def loopback_only(address: IPAddress) -> bool:
    """The test's own image host, and nothing else (not even the rest of 127.0.0.0/8)."""
    return address == LOOPBACK


@dataclass
class ImageHost:
    """An image host on loopback: good images, redirects, and hosts that misbehave."""

    port: int = 0
    hits: dict[str, int] = field(default_factory=dict)

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"


@pytest.fixture
async def host() -> AsyncIterator[ImageHost]:
    state = ImageHost()

    @web.middleware
    async def count(request: web.Request, handler: Handler) -> web.StreamResponse:
        state.hits[request.path] = state.hits.get(request.path, 0) + 1
        return await handler(request)

    async def image(request: web.Request) -> web.StreamResponse:
        return web.Response(body=JPEG, content_type="image/jpeg")

    async def hops(request: web.Request) -> web.StreamResponse:
        left = int(request.match_info["left"])
        target = "/image.jpg" if left == 0 else f"/hops/{left - 1}"
        raise web.HTTPFound(target)

    async def elsewhere(request: web.Request) -> web.StreamResponse:
        raise web.HTTPFound(request.query["to"])

    async def drip(request: web.Request) -> web.StreamResponse:
        # A byte every 0.2 s: each read succeeds, only an overall deadline ends it.
        response = web.StreamResponse(headers={"Content-Type": "image/jpeg"})
        await response.prepare(request)
        with contextlib.suppress(ConnectionError):  # the client gave up: as it should
            for byte in JPEG:
                await response.write(bytes([byte]))
                await asyncio.sleep(0.2)
        return response

    async def huge(request: web.Request) -> web.StreamResponse:
        headers = {"Content-Type": "image/jpeg", "Content-Length": str(MAX_IMAGE_BYTES + 1)}
        return web.Response(body=b"", headers=headers)

    async def endless(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "image/png"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        chunk = b"\x89PNG" * 16384
        with contextlib.suppress(ConnectionError):
            for _ in range(MAX_IMAGE_BYTES // len(chunk) + 8):
                await response.write(chunk)
        return response

    async def page(request: web.Request) -> web.StreamResponse:
        return web.Response(text="<html></html>", content_type="text/html")

    app = web.Application(middlewares=[count])
    app.router.add_get("/image.jpg", image)
    app.router.add_get("/other.jpg", image)
    app.router.add_get("/hops/{left}", hops)
    app.router.add_get("/elsewhere", elsewhere)
    app.router.add_get("/drip.jpg", drip)
    app.router.add_get("/huge.jpg", huge)
    app.router.add_get("/endless.png", endless)
    app.router.add_get("/page", page)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    state.port = int(runner.addresses[0][1])
    yield state
    await runner.cleanup()


@pytest.fixture
async def fetcher() -> AsyncIterator[Fetcher]:
    """A fetcher that admits the test's loopback host, with a short deadline."""
    opened = Fetcher(allow=loopback_only, deadline=1.5)
    yield opened
    await opened.close()


async def fetch(fetcher: Fetcher, url: str) -> bytes:
    return (await fetcher.get(url, limit=MAX_IMAGE_BYTES, types=["image/jpeg", "image/png"])).data


# --- what is refused -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "localhost",  # a name: refused after resolving it
        "10.1.2.3",
        "192.168.1.1",
        "172.16.0.1",
        "100.64.0.1",
        "169.254.169.254",  # cloud metadata
        "0.0.0.0",
        "[::1]",
        "[::ffff:127.0.0.1]",
        "[::ffff:169.254.169.254]",
        "[fe80::1]",
        "[fd00::1]",
        "[2002:7f00:1::]",  # 6to4 around 127.0.0.1
        "2130706433",  # 127.0.0.1 as one number
        "127.1",
        "0x7f.1",
    ],
)
async def test_the_default_refuses_every_address_that_is_not_public(
    host: ImageHost, address: str
) -> None:
    default = Fetcher()  # public addresses only
    started = time.monotonic()
    try:
        with pytest.raises(ImageError, match=r"^refused: "):
            await fetch(default, host.url("/image.jpg", address))
    finally:
        await default.close()
    assert time.monotonic() - started < 1.0  # refused before any connection was tried
    assert host.hits == {}


def test_public_means_public() -> None:
    for address in ("1.1.1.1", "2606:4700:4700::1111", "8.8.8.8"):
        assert is_public(ip_address(address))
    for address in ("192.0.2.1", "224.0.0.1", "ff02::1", "2001:db8::1", "::", "240.0.0.1"):
        assert not is_public(ip_address(address))
    intranet = public_or([ip_network("10.20.0.0/16")])
    assert intranet(ip_address("10.20.3.4")) and intranet(ip_address("1.1.1.1"))
    assert not intranet(ip_address("10.21.0.1")) and not intranet(ip_address("127.0.0.1"))


async def test_a_redirect_to_a_private_address_is_refused(
    host: ImageHost, fetcher: Fetcher
) -> None:
    for target in (
        "http://10.0.0.1/image.jpg",
        "http://169.254.169.254/latest/meta-data/",
        f"http://127.0.0.2:{host.port}/image.jpg",  # loopback, but not the admitted address
        f"http://[::1]:{host.port}/image.jpg",
        "file:///etc/passwd",
    ):
        with pytest.raises(ImageError, match=r"refused|not an http"):
            await fetch(fetcher, host.url(f"/elsewhere?to={target}"))
    assert set(host.hits) == {"/elsewhere"}  # only the first address was ever asked


async def test_at_most_three_redirects(host: ImageHost, fetcher: Fetcher) -> None:
    assert await fetch(fetcher, host.url("/hops/2")) == JPEG  # three redirects
    with pytest.raises(ImageError, match="more than 3 redirects"):
        await fetch(fetcher, host.url("/hops/3"))


async def test_a_slow_host_meets_one_deadline(host: ImageHost, fetcher: Fetcher) -> None:
    started = time.monotonic()
    with pytest.raises(ImageError, match=r"within 1\.5 s"):
        await fetch(fetcher, host.url("/drip.jpg"))
    assert time.monotonic() - started < 2.5


async def test_too_large_or_not_an_image_is_refused(host: ImageHost, fetcher: Fetcher) -> None:
    with pytest.raises(ImageError, match="too large"):
        await fetch(fetcher, host.url("/huge.jpg"))  # declared
    with pytest.raises(ImageError, match="too large"):
        await fetch(fetcher, host.url("/endless.png"))  # not declared, streamed past the cap
    with pytest.raises(ImageError, match=r"not an image \(text/html\)"):
        await fetch(fetcher, host.url("/page"))
    with pytest.raises(ImageError, match="HTTP 404"):
        await fetch(fetcher, host.url("/missing.jpg"))


class _Rebinding(AbstractResolver):
    """A name server that answers the admitted address once, then another one."""

    def __init__(self) -> None:
        self.answers = ["127.0.0.1", "127.0.0.2"]
        self.asked = 0

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        answer = self.answers[min(self.asked, 1)]
        self.asked += 1
        return [
            ResolveResult(
                hostname=host, host=answer, port=port, family=socket.AF_INET, proto=0, flags=0
            )
        ]

    async def close(self) -> None:
        return None


async def test_the_connection_goes_to_the_address_that_was_checked(host: ImageHost) -> None:
    names = _Rebinding()
    rebinding = Fetcher(allow=loopback_only, resolver=lambda: names)
    try:
        assert await fetch(rebinding, host.url("/image.jpg", "news.example")) == JPEG
    finally:
        await rebinding.close()
    # One lookup, checked and connected to: a second answer never had a say.
    assert names.asked == 1 and host.hits == {"/image.jpg": 1}


# --- the cache: downloads of their own ---------------------------------------------------------


async def test_a_download_runs_on_its_own_and_a_slow_one_delays_only_itself(
    host: ImageHost, fetcher: Fetcher, store: Store
) -> None:
    ready: list[str] = []
    cache = ImageCache(store, fetcher, on_ready=ready.append)
    slow, good = host.url("/drip.jpg"), host.url("/image.jpg")
    started = time.monotonic()
    slow_download = cache.fetch(slow)
    good_download = cache.fetch(good)
    assert time.monotonic() - started < 0.1  # nobody waits for the download to start
    assert cache.fetch(good) is good_download and cache.downloading(good)
    assert await good_download == JPEG
    assert cache.downloaded(good) == JPEG and ready == [good]
    assert not slow_download.done()  # still dripping, and it held up nothing
    assert await slow_download is None  # the deadline ended it
    assert cache.unavailable(slow) and ready == [good, slow]
    assert await cache.upload(slow) is None
    uploaded = await cache.upload(good)
    assert uploaded is not None and uploaded.input_file_content == JPEG
    await cache.remember(good, "FILE1")
    assert cache.downloaded(good) is None  # Telegram holds it now: the bytes are let go
    assert await cache.file_id(good) == "FILE1"
    assert host.hits == {"/image.jpg": 1, "/drip.jpg": 1}
    await cache.close()


async def test_many_chats_waiting_for_one_image_make_one_download(
    host: ImageHost, fetcher: Fetcher, store: Store
) -> None:
    cache = ImageCache(store, fetcher)
    url = host.url("/other.jpg")
    results = await asyncio.gather(*(cache.upload(url) for _ in range(20)))
    assert all(r is not None for r in results) and host.hits == {"/other.jpg": 1}
