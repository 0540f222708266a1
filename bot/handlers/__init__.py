"""The chat commands: thin python-telegram-bot handlers over the readers' and editors' cores.

| module | owns |
| --- | --- |
| `access` | who may do what: one check for every command and button press |
| `readers` | /start, /stop, /latest, category commands, /categories, /subscribe, /help... |
| `channels` | /subscribe @channel, /unsubscribe @channel, /channels |
| `editors` | /breaking, /push, /retract, /stats, /reload and their confirmations |
| `search` | /search, words in a private chat, inline mode, /share |
| `routing` | the throttle gate, the fallback for what nobody takes, the error handler, `install` |
| `menu` | the command menus Telegram shows |
| `updates` | reading an update: chat, message, words, language |
| `deps` | the running bot's parts every handler works with |

Handlers parse the update, ask `access` when needed, call `bot.readers` or `bot.editors` (which
hold no Telegram types) and say what comes back.
"""

from bot.handlers.deps import Deps
from bot.handlers.menu import CommandMenu
from bot.handlers.routing import install

__all__ = ["CommandMenu", "Deps", "install"]
