"""The Slack agents' desk: the only package that imports slack_bolt and slack_sdk.

- :mod:`.adapter`: :class:`SlackAdapter`, lifecycle and the ``AgentDesk`` port
- :mod:`.app`: the Bolt app (Socket Mode, or HTTP at ``/slack/events``)
- :mod:`.endpoint`, :mod:`.signature`: HTTP requests read only once proved to be Slack's
- :mod:`.listeners`: what each request does, handed to the core before Slack's answer
- :mod:`.translate`: Slack's payloads read as agents' replies and actions
- :mod:`.desk`, :mod:`.cards`, :mod:`.posts`, :mod:`.blocks`: what Tandem posts
- :mod:`.escape`, :mod:`.markup`, :mod:`.sizing`: text in and out of Slack, safely
- :mod:`.delivery`: retries, and slack_sdk's errors translated once
- :mod:`.tagged`: customers' messages posted once, however slow Slack is
- :mod:`.directory`, :mod:`.dedupe`, :mod:`.inflight`, :mod:`.keyed`: names, redeliveries
  and replays, stopping, one lock per key
"""

from .adapter import SlackAdapter
from .app import EVENTS_PATH
from .cards import CLAIM_ACTION, CLOSE_ACTION, RETURN_ACTION
from .delivery import RetryPolicy
from .errors import SlackAdapterError
from .listeners import HandoffResolver
from .translate import SLASH_COMMAND

__all__ = [
    "CLAIM_ACTION",
    "CLOSE_ACTION",
    "EVENTS_PATH",
    "RETURN_ACTION",
    "SLASH_COMMAND",
    "HandoffResolver",
    "RetryPolicy",
    "SlackAdapter",
    "SlackAdapterError",
]
