"""Run one benchmark function in a fresh interpreter and print its result as one JSON line.

Why: a process's peak RSS only grows, so a figure measured after another one would carry the
first one's memory. Usage: `python -m bench.child module:function '{"keyword": "args"}'`.

A run that seems stuck can be asked where it is: `kill -USR1 <pid>` prints every asyncio task's
stack to stderr.
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import json
import signal
import sys
from collections.abc import Awaitable
from typing import Any

from bench.common import RESULT_MARK, peak_rss_mb


def _dump_tasks() -> None:
    for task in asyncio.all_tasks():
        print(f"--- {task.get_name()}", file=sys.stderr)
        task.print_stack(limit=12, file=sys.stderr)
    sys.stderr.flush()


async def _answering_usr1(work: Awaitable[Any]) -> Any:
    asyncio.get_running_loop().add_signal_handler(signal.SIGUSR1, _dump_tasks)
    return await work


def main() -> None:
    """Import the target, call it with the JSON keyword arguments, print its result."""
    target, raw = sys.argv[1], sys.argv[2]
    module_name, _, function_name = target.partition(":")
    function = getattr(importlib.import_module(module_name), function_name)
    kwargs = json.loads(raw)
    if inspect.iscoroutinefunction(function):
        result = asyncio.run(_answering_usr1(function(**kwargs)))
    else:
        result = function(**kwargs)
    result["peak_rss_mb"] = round(peak_rss_mb(), 1)
    print(RESULT_MARK + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
