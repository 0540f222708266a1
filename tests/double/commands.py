"""The bot's command menus: setMyCommands, deleteMyCommands and getMyCommands.

Menus are kept per scope and language, as Telegram keeps them, and every change is recorded in
`command_history`, so a test can check both what a chat's menu shows and how it got there.
"""

from __future__ import annotations

import copy
import json
import re
from typing import NamedTuple

from tests.double.state import DoubleState
from tests.double.wire import Call, JSONDict, bad_request

_COMMAND_NAME = re.compile(r"[a-z0-9_]{1,32}")


class CommandsRecord(NamedTuple):
    """One setMyCommands/deleteMyCommands call: menus are state tests want to inspect."""

    action: str
    scope: JSONDict
    language_code: str
    commands: list[JSONDict]
    at: float


class CommandMenusMixin(DoubleState):
    """The menus as stored, and every call that changed them."""

    def __init__(self) -> None:
        """No menus set."""
        super().__init__()
        self.command_history: list[CommandsRecord] = []
        self._commands: dict[tuple[str, str], list[JSONDict]] = {}

    def commands_for(
        self, scope: JSONDict | None = None, language_code: str = ""
    ) -> list[JSONDict]:
        """Stored bot commands for a scope (default scope if None) and language."""
        key = (_scope_key(scope or {"type": "default"}), language_code)
        return copy.deepcopy(self._commands.get(key, []))

    async def _set_my_commands(self, call: Call) -> bool:
        commands = call.params.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise bad_request("commands must be an array of at most 100 BotCommand")
        for command in commands:
            if not isinstance(command, dict) or not _COMMAND_NAME.fullmatch(
                str(command.get("command", ""))
            ):
                raise bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise bad_request("command description must be 1-256 characters")
        scope, language = self._commands_key(call.params)
        stored = [{"command": c["command"], "description": c["description"]} for c in commands]
        self._commands[(_scope_key(scope), language)] = stored
        self.command_history.append(
            CommandsRecord("set", scope, language, copy.deepcopy(stored), self._clock())
        )
        return True

    async def _delete_my_commands(self, call: Call) -> bool:
        scope, language = self._commands_key(call.params)
        self._commands.pop((_scope_key(scope), language), None)
        self.command_history.append(CommandsRecord("delete", scope, language, [], self._clock()))
        return True

    async def _get_my_commands(self, call: Call) -> list[JSONDict]:
        scope, language = self._commands_key(call.params)
        return copy.deepcopy(self._commands.get((_scope_key(scope), language), []))

    def _commands_key(self, params: JSONDict) -> tuple[JSONDict, str]:
        scope = params.get("scope") or {"type": "default"}
        if not isinstance(scope, dict) or "type" not in scope:
            raise bad_request("can't parse BotCommandScope JSON object")
        return scope, str(params.get("language_code") or "")


def _scope_key(scope: JSONDict) -> str:
    return json.dumps(scope, sort_keys=True, separators=(",", ":"))
