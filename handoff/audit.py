"""A handoff's audit trail: every step stored with who took it and when."""

from __future__ import annotations

from handoff.clock import utc_now
from handoff.model import Agent
from handoff.records import Handoff, HandoffEventKind
from handoff.store import ConversationStore


async def record_event(
    store: ConversationStore,
    handoff: Handoff,
    kind: HandoffEventKind,
    agent: Agent | None,
    *,
    detail: dict[str, object] | None = None,
) -> None:
    await store.add_handoff_event(
        handoff.id,
        kind=kind,
        actor_id=agent.user_id if agent else None,
        actor_name=agent.display_name if agent else None,
        detail=detail,
        at=utc_now(),
    )
