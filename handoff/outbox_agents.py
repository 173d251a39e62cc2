"""The outbox's way to the agents: what customers wrote while a person has the conversation,
shown in the handoff's thread in order, once each.

Messages that waited together (the agent channel was busy, or Slack away) go together: the
desk merges them into as few posts as it can (:meth:`~handoff.ports.AgentDesk.relay_many`),
so a busy channel takes one post per thread instead of one per message. Each message is
still recorded as delivered on its own.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from typing import Any

from handoff.clock import Clock, utc_now
from handoff.conversations import EDITED, Conversations
from handoff.errors import DeliveryDeferred, DeliveryError
from handoff.model import ConversationKey, CustomerRelay, DeskThread
from handoff.outbox_records import SentMemo, not_before
from handoff.ports import AgentDesk
from handoff.records import Delivery, Handoff, StoredMessage
from handoff.threads import Threads

logger = logging.getLogger(__name__)

MAX_MERGED = 20  # customer messages offered to the desk for one post
OURS_KEPT = 10_000  # outbox ids this process remembers storing or offering to the desk

Delivered = Callable[[StoredMessage, str], Awaitable[None]]
Defer = Callable[[StoredMessage, DeliveryDeferred], Awaitable[None]]
Mark = Callable[[StoredMessage, Delivery, dict[str, Any] | None], Awaitable[None]]


class ToAgents:
    """Delivers a conversation's pending customer messages; the outbox records them with
    ``delivered``, ``defer`` and ``mark``."""

    def __init__(
        self,
        *,
        conversations: Conversations,
        threads: Threads,
        desk: AgentDesk,
        memo: SentMemo,
        delivered: Delivered,
        defer: Defer,
        mark: Mark,
        clock: Clock = utc_now,
    ) -> None:
        self._now = clock
        self._conversations = conversations
        self._threads = threads
        self._desk = desk
        self._memo = memo
        self._delivered = delivered
        self._defer = defer
        self._mark = mark
        # What this process stored or offered the desk (the desk itself remembers which of
        # those may have landed unanswered). Any other pending message may have been posted
        # by a worker that died (or this one, before a restart) just before recording it.
        self._ours: OrderedDict[int, None] = OrderedDict()

    async def deliver(
        self,
        handoff: Handoff | None,
        key: ConversationKey,
        messages: Sequence[StoredMessage],
        fresh: tuple[int, CustomerRelay] | None,
    ) -> dict[int, bool | None]:
        """Per message: True delivered, False refused for good, None still waiting (and
        so are the ones after it)."""
        outcomes: dict[int, bool | None] = dict.fromkeys((m.id for m in messages), None)
        if fresh is not None:
            self._remember(fresh[0])  # its first try is this process's, whenever it comes
        if handoff is None or not (handoff.is_open or handoff.agent_thread_ts):
            # No thread to show them in, and a finished handoff gets no new card.
            for message in messages:
                await self._mark(message, Delivery.FAILED, {"undelivered": "no handoff thread"})
                outcomes[message.id] = False
            return outcomes
        queue = list(messages)
        while queue and not_before(queue[0]) <= self._now():
            if (already := await self._memo.recall(queue[0].id)) is not None:
                await self._delivered(queue[0], already)
                outcomes[queue.pop(0).id] = True
                continue
            thread = await self._threads.thread(handoff, key)
            if thread is None:
                break  # the card could not be posted: Slack is away
            batch = await self._batch(queue)
            relays = [await self._shown(message, fresh) for message in batch]
            try:
                posted = await self._post(thread, relays, message=batch[0])
            except DeliveryDeferred as exc:
                await self._defer(batch[0], exc)
                break
            except DeliveryError as exc:
                logger.error(
                    "could not show a customer message to agents (handoff %s): %s; retried later",
                    handoff.id,
                    exc,
                )
                break
            for message, post in zip(batch, posted, strict=False):
                await self._delivered(message, post)
                outcomes[queue.pop(0).id] = True
            if not posted:
                break
        return outcomes

    async def _batch(self, queue: list[StoredMessage]) -> list[StoredMessage]:
        """The first messages of ``queue`` to offer together: none that was sent already
        (the memo has it; it is recorded on its own at its turn)."""
        batch = [queue[0]]
        for message in queue[1:MAX_MERGED]:
            if await self._memo.recall(message.id) is not None:
                break
            batch.append(message)
        return batch

    async def _shown(
        self, message: StoredMessage, fresh: tuple[int, CustomerRelay] | None
    ) -> CustomerRelay:
        """What the desk shows; a customer's edit names the post it replaces."""
        relay = _relay(message, fresh)
        if message.id not in self._ours:
            relay = replace(relay, in_doubt=True)
        self._remember(message.id)
        if relay.edited and relay.replaces is None:
            relay = replace(relay, replaces=await self._earlier_post(message))
        return relay

    def _remember(self, outbox_id: int) -> None:
        self._ours[outbox_id] = None
        self._ours.move_to_end(outbox_id)
        while len(self._ours) > OURS_KEPT:
            self._ours.popitem(last=False)

    async def _earlier_post(self, edit: StoredMessage) -> str | None:
        """Where agents saw the message the customer edited, if they did (an edit's stored
        id is the message's, then the edit marker)."""
        original_id = (edit.platform_message_id or "").partition(EDITED)[0]
        if not original_id or edit.platform_chat_id is None:
            return None
        original = await self._conversations.repository.find_message(
            platform=edit.platform.value, chat_id=edit.platform_chat_id, message_id=original_id
        )
        posted = (original.decision or {}).get("sent_id") if original else None
        return str(posted) if posted else None

    async def _post(
        self, thread: DeskThread, relays: list[CustomerRelay], *, message: StoredMessage
    ) -> list[str]:
        customer = await self._conversations.customer_of(message.conversation_id)
        if len(relays) == 1:
            return [await self._desk.relay_to_agents(thread, relays[0], customer=customer) or ""]
        return await self._desk.relay_many(thread, relays, customer=customer)


def _relay(message: StoredMessage, fresh: tuple[int, CustomerRelay] | None) -> CustomerRelay:
    """What the desk shows for ``message``: the live event's (with a photo's bytes) when it
    is the one being relayed now, otherwise rebuilt from its record."""
    if fresh is not None and fresh[0] == message.id:
        relay = fresh[1]
    else:
        relay = CustomerRelay(
            kind=message.kind,
            text=message.text,
            edited=EDITED in (message.platform_message_id or ""),
        )
    return replace(relay, outbox_id=message.id)
