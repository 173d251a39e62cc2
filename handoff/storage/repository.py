"""The conversation engine's port to SQL: customers, conversations, messages and handoffs.

Every method runs in its own transaction and returns frozen records. State transitions are
single conditional statements (``UPDATE ... WHERE <state allows it> RETURNING``) or
``INSERT ... ON CONFLICT``, so concurrent workers cannot both win a race: the loser gets a
:class:`~handoff.errors.Conflict` (or ``None`` where documented).

The methods live in one module per kind of record; this class puts them together.
"""

from __future__ import annotations

from handoff.storage.agent_queries import AgentQueries
from handoff.storage.conversation_queries import ConversationQueries
from handoff.storage.customer_queries import CustomerQueries
from handoff.storage.handoff_queries import HandoffQueries
from handoff.storage.message_queries import MessageQueries
from handoff.storage.request_queries import RequestQueries
from handoff.storage.sla_queries import SlaQueries
from handoff.storage.turn_queries import TurnQueries


class Repository(
    CustomerQueries,
    ConversationQueries,
    MessageQueries,
    HandoffQueries,
    TurnQueries,
    AgentQueries,
    RequestQueries,
    SlaQueries,
):
    """Reads and writes the conversation engine's records in a :class:`Database`.

    ``Repository(database=..., clock=...)``: ``at`` arguments default to ``clock()``
    (:func:`~handoff.clock.utc_now` unless given); every timestamp must be
    timezone-aware and is returned in UTC.
    """
