"""The escalation policy: when the bot answers, asks again, or hands off to a person.

Pure logic: :func:`decide` reads a :class:`Turn` and returns a :class:`Decision`; the
:class:`FrustrationDetector` (built once, injected) scores the customer's message. The
evaluation replays labelled conversations (``eval/conversations.yml``) through it.
"""

from handoff.policy.config import FrustrationConfig, PolicyConfig
from handoff.policy.decision import decide, service_error_decision
from handoff.policy.frustration import Frustration, FrustrationDetector
from handoff.policy.memory import RECENT_TEXTS, PolicyMemory
from handoff.policy.model import (
    HANDOFF_PRIORITY,
    Action,
    Decision,
    IntentGuess,
    Reason,
    ReasonCode,
    Turn,
)

__all__ = [
    "HANDOFF_PRIORITY",
    "RECENT_TEXTS",
    "Action",
    "Decision",
    "Frustration",
    "FrustrationConfig",
    "FrustrationDetector",
    "IntentGuess",
    "PolicyConfig",
    "PolicyMemory",
    "Reason",
    "ReasonCode",
    "Turn",
    "decide",
    "service_error_decision",
]
