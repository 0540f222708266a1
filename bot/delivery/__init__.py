"""Delivery: getting every queued post to its chats, at Telegram's pace, through its faults.

    sender.py     the loop: which delivery or revision goes next, and when
    turns.py      every call in its turn of the pace, every wait cut short by a stop
    attempts.py   one delivery or revision, and what Telegram's answer makes of it
    cards.py      what a post becomes for one chat: its card, the image fallbacks, file_id reuse
    outcomes.py   writing what became of each delivery down, in batches

The sender schedules corrections and retractions too; `bot.corrections` makes their calls.
"""

from bot.delivery.attempts import RetryPolicy
from bot.delivery.cards import CardStyle
from bot.delivery.sender import Sender

__all__ = ["CardStyle", "RetryPolicy", "Sender"]
