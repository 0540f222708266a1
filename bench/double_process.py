"""The Bot API test double in a process of its own, driven over stdin/stdout.

Why a process: the double parses every message's HTML the way Telegram does, which costs about
as much CPU as sending it. In the bot's own process it would eat the CPU the benchmark is
measuring; in its own process it runs on the other core.

Protocol: the first stdout line is `{"port": N}`. Then each stdin line is one JSON request and
gets one JSON line back:
- `{"op": "stats"}`: counters since the start (see `Counters.snapshot`);
- `{"op": "command", "chat": 5, "text": "/start"}`: a reader's message, as a long poll update;
- `{"op": "watch", "chats": [5, 6]}`: keep the arrival times of messages to these chats.
End of stdin stops the server.

The double keeps every request and message in memory for the tests' assertions; over 100,000
messages that is hundreds of MB and slows its garbage collector. Here the records are folded
into counters and dropped as they come, so the double stays fast for the whole run.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import os
import sys
import time
from collections import Counter
from typing import Any

from tests.double import TelegramDouble

FOLD_EVERY = 0.2  # seconds between folds of the double's records into counters


class Counters:
    """What the benchmarks need to know about the traffic, without keeping the traffic."""

    def __init__(self, double: TelegramDouble) -> None:
        self._double = double
        self.statuses: Counter[int] = Counter()
        self.methods: Counter[str] = Counter()
        self.sent_at: list[float] = []
        self.watched: dict[int, list[float]] = {}
        self.first_fault: dict[int, float] = {}
        self.recovery: list[float] = []

    def fold(self) -> None:
        """Count the records the double kept since the last fold, then let them go."""
        double = self._double
        sent, double.sent = double.sent, []
        requests, double.requests = double.requests, []
        for request in requests:
            self.statuses[request.status] += 1
            self.methods[request.method] += 1
            chat = request.params.get("chat_id")
            if request.method.startswith("send") and isinstance(chat, int):
                if request.status == 429 or request.status >= 500:
                    self.first_fault.setdefault(chat, request.at)
                elif request.status == 200 and chat in self.first_fault:
                    self.recovery.append(request.at - self.first_fault.pop(chat))
        for record in sent:
            self.sent_at.append(record.at)
            times = self.watched.get(record.chat_id)
            if times is not None:
                times.append(record.at)
        # The double also keeps the live state of each message the bot sent, for edits; nobody
        # edits here. Readers' own messages stay: a reply in a group quotes them.
        for key in double._sent_keys:
            double._live.pop(key, None)
        double._sent_keys.clear()

    def snapshot(self) -> dict[str, Any]:
        """Counters as JSON: sends, first and last send time (monotonic), statuses, 429s."""
        self.fold()
        return {
            "sent": len(self.sent_at),
            "first_sent_at": self.sent_at[0] if self.sent_at else None,
            "last_sent_at": self.sent_at[-1] if self.sent_at else None,
            "statuses": {str(k): v for k, v in self.statuses.items()},
            "methods": dict(self.methods),
            "flood_errors": self._double.flood_errors,
            "early_sends": self._double.early_sends,
            "recovery": self.recovery,
            "watched": {str(k): v for k, v in self.watched.items()},
            "pid": os.getpid(),
        }

    def sent_times(self) -> list[float]:
        """Every successful send's monotonic time, for rates over windows."""
        self.fold()
        return list(self.sent_at)


async def _serve(args: argparse.Namespace) -> None:
    double = TelegramDouble()
    if args.flood:
        double.enforce_flood_limits(*(int(x) for x in args.flood.split(",")))
    if args.faults:
        refused, server_errors = (float(x) for x in args.faults.split(","))
        double.scatter_faults(refused=refused, server_errors=server_errors)
    if args.latency:
        for method in ("sendMessage", "sendPhoto"):
            double.delay_next(method, args.latency, times=1 << 62)
    counters = Counters(double)
    await double.start()
    # The double stamps each message when it handles it. A collection of its growing records
    # (100,000 chats' flood windows) pauses it for tens of milliseconds, and the messages
    # that arrive meanwhile get stamps closer together than they were sent: more than the
    # rate in one "second" that was never sent that way. A benchmark run is minutes long, so
    # the double leaves its garbage for the end.
    gc.freeze()
    gc.disable()
    print(json.dumps({"port": double.port}), flush=True)

    async def fold_forever() -> None:
        while True:
            await asyncio.sleep(FOLD_EVERY)
            counters.fold()

    folding = asyncio.create_task(fold_forever())
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    try:
        while line := await reader.readline():
            request = json.loads(line)
            op = request["op"]
            answer: dict[str, Any]
            if op == "stats":
                answer = counters.snapshot()
            elif op == "times":
                answer = {"sent_at": counters.sent_times()}
            elif op == "command":
                update = double.send_command(int(request["chat"]), str(request["text"]))
                answer = {"update_id": update["update_id"], "at": time.monotonic()}
            elif op == "watch":
                for chat in request["chats"]:
                    counters.watched.setdefault(int(chat), [])
                answer = {"watching": len(counters.watched)}
            else:
                answer = {"error": f"unknown op {op!r}"}
            sys.stdout.write(json.dumps(answer) + "\n")
            sys.stdout.flush()
    finally:
        folding.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await folding
        await double.stop()


def main() -> None:
    """Run the double until stdin closes."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--flood",
        help="enforce Telegram's flood limits: "
        "per_second,private_per_second,group_per_minute[,paid_per_second]",
    )
    parser.add_argument(
        "--faults", help="scattered faults on sends: share_refused_429,share_5xx (0.02,0.01)"
    )
    parser.add_argument(
        "--latency", type=float, default=0.0, help="seconds before each send is answered"
    )
    asyncio.run(_serve(parser.parse_args()))


if __name__ == "__main__":
    main()
