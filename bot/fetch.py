"""Downloads from addresses newsbot does not control: public hosts only, and bounded.

A post's lead image is an address anyone who writes posts chose, and newsbot fetches it itself
when Telegram cannot. Without care that would let a post make the bot request its own
neighbourhood: the loopback interface, the private network, a cloud's metadata service
(169.254.169.254). A `Fetcher` therefore guarantees:

- Only public addresses. The host name is resolved, every address it resolves to is checked,
  and the connection goes to an address that passed, never to a second resolution of the name
  (so a DNS answer that changes between the check and the connection changes nothing). An
  address written in the URL itself is checked the same way. Loopback, private, link-local,
  shared, multicast and reserved ranges are refused, and so are IPv6 forms that embed one
  (IPv4-mapped, 6to4, Teredo), unless the operator lists a private network as allowed.
- At most `MAX_REDIRECTS` redirects, each to an http(s) address checked like the first.
- One deadline for the whole download, redirects included: a host sending a byte a second is
  cut off at `DEADLINE_SECONDS`, whatever it does.
- At most `limit` bytes, refused from the declared length or as soon as the body passes it.
  The response is not decompressed, so a small body cannot unpack into a large one.

Every refusal is an `ImageError` whose message says why, in one line.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver

from bot.errors import ImageError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Allow = Callable[[IPAddress], bool]
"""Whether newsbot may connect to an address."""

MAX_REDIRECTS = 3
DEADLINE_SECONDS = 10.0
CONNECT_SECONDS = 5.0
REDIRECTS = frozenset({301, 302, 303, 307, 308})
#: What identifies newsbot to image hosts (some refuse a request without a user agent).
USER_AGENT = "newsbot (+https://core.telegram.org/bots)"


def is_public(address: IPAddress) -> bool:
    """Whether an address is on the public internet (and not a disguised private one)."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address.teredo is not None:
            embedded = address.teredo[1]
        if embedded is not None:
            return is_public(embedded)
    return address.is_global and not address.is_multicast


def public_or(networks: Iterable[IPNetwork] = ()) -> Allow:
    """Public addresses, and those in `networks` (private networks the operator trusts)."""
    trusted = tuple(networks)

    def allow(address: IPAddress) -> bool:
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        return is_public(address) or any(address in network for network in trusted)

    return allow


class _CheckedResolver(AbstractResolver):
    """Resolves a name and hands aiohttp only the addresses that pass, to connect to them."""

    def __init__(self, allow: Allow, resolver: AbstractResolver | None = None) -> None:
        self._allow = allow
        self._resolver = resolver or DefaultResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        found = await self._resolver.resolve(host, port, family)
        allowed = [entry for entry in found if self._allow(_address(entry["host"]))]
        if not allowed:
            # An OSError, so that aiohttp reports it as a connection that could not be made.
            raise _Refused(f"{host} is not a public address")
        return allowed

    async def close(self) -> None:
        await self._resolver.close()


class _Refused(OSError):
    """An address newsbot will not connect to."""


def _address(text: str) -> IPAddress:
    return ipaddress.ip_address(text.partition("%")[0])


@dataclass(frozen=True, slots=True)
class Download:
    """An image's bytes and the type its host declared."""

    data: bytes
    content_type: str


class Fetcher:
    """Downloads over one connection pool that only ever connects to allowed addresses."""

    def __init__(
        self,
        *,
        allow: Allow = is_public,
        deadline: float = DEADLINE_SECONDS,
        max_redirects: int = MAX_REDIRECTS,
        resolver: Callable[[], AbstractResolver] | None = None,
    ) -> None:
        """`allow` decides which addresses may be connected to; the default, public ones only.
        Tests admit their loopback server through it, and may answer name lookups themselves
        (`resolver` makes the resolver, in the running event loop)."""
        self._allow = allow
        self._resolver = resolver
        self._deadline = deadline
        self._max_redirects = max_redirects
        self._session: aiohttp.ClientSession | None = None

    def _open(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            inner = self._resolver() if self._resolver is not None else None
            connector = aiohttp.TCPConnector(
                resolver=_CheckedResolver(self._allow, inner), limit=16, ttl_dns_cache=60
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                headers={"User-Agent": USER_AGENT, "Accept-Encoding": "identity"},
                cookie_jar=aiohttp.DummyCookieJar(),
                auto_decompress=False,
                # No proxy from the environment: a proxy would connect to what it likes.
                trust_env=False,
            )
        return self._session

    async def close(self) -> None:
        """Close the connection pool."""
        if self._session is not None and not self._session.closed:
            await self._session.close()

    async def get(self, url: str, *, limit: int, types: Iterable[str] = ()) -> Download:
        """The body at `url`: at most `limit` bytes, of one of `types` (any when empty),
        within the deadline, or `ImageError` saying why not."""
        try:
            async with asyncio.timeout(self._deadline):
                return await self._follow(url, limit, frozenset(types))
        except TimeoutError:
            raise ImageError(f"no complete answer within {self._deadline:g} s") from None
        except ImageError:
            raise
        except aiohttp.ClientConnectorError as exc:
            if isinstance(exc.os_error, _Refused):
                raise ImageError(f"refused: {exc.os_error}") from None
            raise ImageError(f"cannot connect: {exc.os_error.strerror or exc}") from None
        except (aiohttp.ClientError, ValueError, UnicodeError) as exc:
            raise ImageError(f"{type(exc).__name__}: {exc}") from None

    async def _follow(self, url: str, limit: int, types: frozenset[str]) -> Download:
        session = self._open()
        for _ in range(self._max_redirects + 1):
            self._check(url)
            async with session.get(
                url,
                allow_redirects=False,
                timeout=aiohttp.ClientTimeout(sock_connect=CONNECT_SECONDS),
            ) as response:
                if response.status in REDIRECTS:
                    location = response.headers.get("Location")
                    if not location:
                        raise ImageError(f"HTTP {response.status} without a Location")
                    url = urljoin(url, location)
                    continue
                return await _read(response, limit, types)
        raise ImageError(f"more than {self._max_redirects} redirects")

    def _check(self, url: str) -> None:
        """Refuse what the resolver would not see: another scheme, or an address in the URL."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ImageError(f"not an http(s) address: {url[:200]}")
        host = parts.hostname
        try:
            address = _address(host)
        except ValueError:
            # A name, for the resolver to check; but a host aiohttp takes for a number of its
            # own (`2130706433`, `127.1`) would skip the resolver, so none is let through.
            if host.replace(".", "").isdigit():
                raise ImageError(f"refused: {host} is not a canonical address") from None
            return
        if not self._allow(address):
            raise ImageError(f"refused: {host} is not a public address")


async def _read(response: aiohttp.ClientResponse, limit: int, types: frozenset[str]) -> Download:
    if response.status != 200:
        raise ImageError(f"HTTP {response.status}")
    kind = response.headers.get("Content-Type", "").partition(";")[0].strip().lower()
    if types and kind not in types:
        raise ImageError(f"not an image ({kind or 'no content type'})")
    encoding = response.headers.get("Content-Encoding", "identity").strip().lower()
    if encoding not in ("", "identity"):
        raise ImageError(f"compressed answer ({encoding})")
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and (len(declared) > 15 or int(declared) > limit):
        raise ImageError(f"too large ({declared} bytes)")
    data = bytearray()
    async for chunk in response.content.iter_chunked(64 * 1024):
        data += chunk
        if len(data) > limit:
            raise ImageError(f"too large (over {limit} bytes)")
    if not data:
        raise ImageError("empty response")
    return Download(bytes(data), kind)
