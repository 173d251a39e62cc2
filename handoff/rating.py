"""The customer's rating of a closed conversation: the buttons, and what pressing one does."""

from __future__ import annotations

from handoff.audit import record_event
from handoff.clock import utc_now
from handoff.conversations import Conversations
from handoff.model import Button, ButtonAnswer, Inbound
from handoff.records import HandoffEventKind
from handoff.responses import Responses
from handoff.threads import Threads

RATING_PREFIX = "rate:"


def rating_buttons(conversation_id: int) -> tuple[tuple[Button, ...], ...]:
    """1-5 stars; the data names the conversation, which is closed by the time they are pressed."""
    return (
        tuple(
            Button(label="★" * n, data=f"{RATING_PREFIX}{conversation_id}:{n}") for n in range(1, 6)
        ),
    )


def parse_rating(data: str | None) -> tuple[int, int] | None:
    """(conversation id, stars) from a rating button's data, or None."""
    if not data or not data.startswith(RATING_PREFIX):
        return None
    try:
        conversation, stars = (int(part) for part in data.removeprefix(RATING_PREFIX).split(":"))
    except ValueError:
        return None
    return (conversation, stars) if 1 <= stars <= 5 else None


class Ratings:
    def __init__(
        self, *, conversations: Conversations, threads: Threads, responses: Responses
    ) -> None:
        self._conversations = conversations
        self._store = conversations.repository
        self._threads = threads
        self._responses = responses

    async def rate(self, inbound: Inbound, conversation_id: int, stars: int) -> None:
        """The customer pressed a rating button of a closed conversation."""
        conversation = await self._store.get_conversation(conversation_id)
        if conversation is None or conversation.key != inbound.key:
            await self._answer_press(inbound, self._responses.system("stale_button").text)
            return
        await self._conversations.store_customer_event(conversation_id, inbound)
        if conversation.rating is not None:
            await self._answer_press(inbound, self._responses.system("rating_already").text)
            return
        await self._store.rate_conversation(conversation_id, rating=stars, at=utc_now())
        await self._answer_press(inbound, None)
        await self._conversations.say(
            conversation_id, inbound.key, self._responses.system("rating_thanks")
        )
        handoff = await self._store.latest_handoff_for(conversation_id)
        if handoff is not None:
            await record_event(
                self._store, handoff, HandoffEventKind.RATED, None, detail={"rating": stars}
            )
            await self._threads.redraw(handoff, inbound.key)  # the rating stored above

    async def _answer_press(self, inbound: Inbound, text: str | None) -> None:
        await self._conversations.channel.answer_button(
            ButtonAnswer(press_id=inbound.message_id, text=text)
        )
