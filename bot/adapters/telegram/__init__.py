"""The Telegram channel: the only package that imports python-telegram-bot.

- :mod:`.adapter`: :class:`TelegramAdapter`, lifecycle and the ``CustomerChannel`` port
- :mod:`.inbound` / :mod:`.outbound`: translation to and from the neutral model
- :mod:`.delivery` / :mod:`.limiter`: retries, error translation and flood limits
- :mod:`.ordering`: chats handled concurrently, each chat's updates in order
- :mod:`.webhook`: the aiohttp endpoint for webhook mode
"""

from .adapter import ALLOWED_UPDATES, RouteRegistry, TelegramAdapter
from .delivery import RetryPolicy
from .errors import TelegramAdapterError
from .limiter import SendLimits

__all__ = [
    "ALLOWED_UPDATES",
    "RetryPolicy",
    "RouteRegistry",
    "SendLimits",
    "TelegramAdapter",
    "TelegramAdapterError",
]
