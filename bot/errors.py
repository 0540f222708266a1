"""newsbot's own errors, one tree, grouped by whose move it is.

    NewsbotError                  anything newsbot refuses or cannot do, said in one line
    ├── RejectedInput             something a person gave newsbot cannot be used as it is
    │   ├── PostError             a post file that cannot be published
    │   ├── ArticleError          a saved web page that cannot become a post (`newsbot import`)
    │   ├── EditorError           an editor's request that cannot be carried out
    │   └── CommandError          a mistake in a command line's arguments
    └── Unavailable               something newsbot needs is not there or refused it
        ├── BackupError           the database could not be copied
        └── ImageError            an image could not be downloaded

Every message is written for the person who reads it: the newsroom in `newsbot check`, an editor
in Telegram, an operator at a shell. Nothing here carries Telegram's own errors:
`bot.telegram_errors` says what those mean. The input errors are also `ValueError`s, which is what
they are to code that parses.
"""

from __future__ import annotations


class NewsbotError(Exception):
    """Something newsbot refuses or cannot do; `str()` is the one-line reason."""


class RejectedInput(NewsbotError, ValueError):
    """Something a person gave newsbot cannot be used as it is; they can fix it."""


class PostError(RejectedInput):
    """A post file that cannot be published; the message is the reason shown by `newsbot check`."""


class ArticleError(RejectedInput):
    """A saved article that cannot be imported as a post."""


class EditorError(RejectedInput):
    """An editor's request that cannot be carried out; the message is for the editor."""


class CommandError(RejectedInput):
    """A mistake in the command line's input, reported as one line with exit code 2."""


class Unavailable(NewsbotError):
    """Something newsbot needs is missing or refused it; trying again later may work."""


class BackupError(Unavailable):
    """The backup could not be made."""


class ImageError(Unavailable):
    """An image could not be downloaded, or is not an image newsbot may send."""
