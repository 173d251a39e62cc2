"""A Slack simulator for tests and manual runs.

:class:`SlackSimulator` serves the Web API that the real ``AsyncWebClient`` and Bolt
``AsyncApp`` talk to (``base_url=sim.api_url``), records every call, and injects faults.
:class:`SlackEventSender` plays Slack's side of the Events API: it POSTs signed events,
block actions and slash commands into an app's endpoint. :mod:`.events` builds the payloads.
"""

from bot.simulators.slack import defaults, events
from bot.simulators.slack.errors import MethodError, SimulatorError, WaitTimeout
from bot.simulators.slack.records import (
    Call,
    EphemeralMessage,
    ResponseUrlPost,
    TimestampClock,
    UploadedFile,
)
from bot.simulators.slack.sender import (
    EndpointResponse,
    SentRequest,
    Signature,
    SlackEventSender,
    sign,
)
from bot.simulators.slack.server import SlackSimulator
from bot.simulators.slack.workspace import Message, Reaction, SimulatedChannel, SimulatedUser

__all__ = [
    "Call",
    "EndpointResponse",
    "EphemeralMessage",
    "Message",
    "MethodError",
    "Reaction",
    "ResponseUrlPost",
    "SentRequest",
    "Signature",
    "SimulatedChannel",
    "SimulatedUser",
    "SimulatorError",
    "SlackEventSender",
    "SlackSimulator",
    "TimestampClock",
    "UploadedFile",
    "WaitTimeout",
    "defaults",
    "events",
    "sign",
]
