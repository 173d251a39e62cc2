"""The Telegram channel: the only package that imports python-telegram-bot.

- :mod:`.adapter`: :class:`TelegramAdapter`, lifecycle and the ``CustomerChannel`` port
- :mod:`.inbound` / :mod:`.outbound`: translation to and from the neutral model
- :mod:`.intake`: decoded updates to the handler; what cannot be taken in is kept
- :mod:`.delivery` / :mod:`.limiter`: retries, deferrals, error translation, flood limits
- :mod:`.files`: fetching the files customers send
- :mod:`.ordering`: chats handled concurrently, each chat's updates in order
- :mod:`.screening` / :mod:`.quarantine`: updates that cannot be decoded, skipped and kept
- :mod:`.handover`: polled updates confirmed once the handler has them (optional)
- :mod:`.health`: how receiving goes, for ``/healthz``
- :mod:`.webhook`: the aiohttp endpoint for webhook mode
"""

import os

# PTB 22 warns on every 429 that RetryAfter.retry_after becomes a timedelta in its next
# major version; the adapter reads either shape, so take the new one now. Set before PTB
# is imported, and only if the operator has not chosen otherwise.
os.environ.setdefault("PTB_TIMEDELTA", "1")

# The imports below must follow the switch above.
from .adapter import ALLOWED_UPDATES, RouteRegistry, TelegramAdapter
from .delivery import RetryPolicy
from .errors import TelegramAdapterError
from .health import ComponentHealth
from .limiter import SendLimits
from .quarantine import QUARANTINE_FILE

__all__ = [
    "ALLOWED_UPDATES",
    "QUARANTINE_FILE",
    "ComponentHealth",
    "RetryPolicy",
    "RouteRegistry",
    "SendLimits",
    "TelegramAdapter",
    "TelegramAdapterError",
]
