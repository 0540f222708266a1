"""The listening socket of newsbot's own HTTP servers (the webhook, and metrics with health).

Made with `socket.create_server` rather than tornado's `bind_sockets`, which leaves the socket
open when the port is taken; the error then names the server and the address, so a start that
cannot listen says which port to free.
"""

from __future__ import annotations

import socket


def listen(host: str, port: int, server: str) -> socket.socket:
    """A non-blocking socket listening on `host:port` (IPv6 when `host` has a colon).

    `OSError` saying `cannot serve <server> on host:port` when the port is taken.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        listener = socket.create_server((host, port), family=family, backlog=128)
    except OSError as exc:
        raise OSError(
            exc.errno, f"cannot serve {server} on {host}:{port}: {exc.strerror}"
        ) from None
    listener.setblocking(False)
    return listener
