"""The agents' side of a handoff in Slack: the card, the thread, notes and private hints.

Implements :class:`handoff.ports.AgentDesk`. Every call retries what is passing (see
:mod:`.delivery`) and raises :class:`~handoff.errors.DeliveryError` when Slack refuses, or
:class:`~handoff.errors.DeliveryDeferred` when it asks to wait longer than Tandem does.

Posts in one thread are made one at a time, in the order they were asked for: a message
whose post is being retried holds back the next one, so that agents read a conversation
in the order the customer wrote it. A customer's message with an outbox id is posted with
that id as a tag, and posted once however slow Slack is (see :mod:`.tagged`).
"""

from __future__ import annotations

import logging

from slack_sdk.web.async_client import AsyncWebClient

from handoff.errors import DeliveryDeferred, DeliveryError
from handoff.model import (
    Agent,
    CardState,
    CardStatus,
    Customer,
    CustomerRelay,
    DeskThread,
    HandoffTicket,
    Receipt,
)

from .blocks import SlackMessage
from .cards import render_card
from .delivery import call
from .escape import escape_mrkdwn
from .keyed import KeyedLocks
from .posts import note_post, relay_posts, relay_upload
from .sizing import TEXT_LIMIT, clip
from .tagged import PostTag, TaggedPoster

logger = logging.getLogger(__name__)

# Escaping at most quintuples a character ("&" becomes "&amp;"): this much always fits.
EPHEMERAL_TEXT_LIMIT = TEXT_LIMIT // 5
# Slack's standard emoji, as reactions on an agent's reply (every workspace has them).
RECEIPT_EMOJI = {Receipt.DELIVERED: "white_check_mark", Receipt.FAILED: "x"}


class SlackDesk:
    """Posts in ``channel`` with ``client`` (whose retries are set up by the adapter), and
    customers' tagged messages with ``tagged``."""

    def __init__(self, *, client: AsyncWebClient, tagged: TaggedPoster, channel: str) -> None:
        self._client = client
        self._tagged = tagged
        self._channel = channel
        self._threads: KeyedLocks[DeskThread] = KeyedLocks()

    async def open_handoff(self, ticket: HandoffTicket) -> DeskThread:
        """Post the card, waiting for an agent; its message starts the handoff's thread."""
        card = render_card(CardState(ticket=ticket, status=CardStatus.WAITING))
        answer = await call(
            f"the card of handoff #{ticket.handoff_id}",
            lambda: self._client.chat_postMessage(
                channel=self._channel,
                text=card.text,
                blocks=card.blocks,
                unfurl_links=False,
                unfurl_media=False,
            ),
        )
        thread = DeskThread(channel=self._channel, thread_ts=str(answer["ts"]))
        logger.info("handoff %s: card posted as %s", ticket.handoff_id, thread.thread_ts)
        return thread

    async def show_card(self, thread: DeskThread, state: CardState) -> None:
        card = render_card(state)
        await call(
            f"the card of handoff #{state.ticket.handoff_id}",
            lambda: self._client.chat_update(
                channel=thread.channel, ts=thread.thread_ts, text=card.text, blocks=card.blocks
            ),
        )

    async def relay_to_agents(
        self, thread: DeskThread, message: CustomerRelay, *, customer: Customer
    ) -> str:
        """Post the customer's message in the thread; the ts of its (first) post, or the
        id of the file uploaded for it.

        Very long text takes several posts; if a later one fails, the earlier ones stay and
        :class:`~handoff.errors.DeliveryError` is raised (with an outbox id, sending the
        message again posts only what is missing). A file with its bytes is uploaded
        instead, its words as the comment (see :meth:`_upload`).
        """
        async with self._threads.hold(thread):
            if message.replaces is not None and message.content is None:
                try:
                    return await self._show_edit(thread, message, message.replaces, customer)
                except DeliveryError as exc:  # too old to update, or gone: a new post
                    logger.warning("posting a customer's edit anew: %s", exc)
            if message.content is not None:
                try:
                    return await self._upload(thread, message, message.content, customer=customer)
                except DeliveryError as exc:
                    # Slack may refuse files (no files:write scope, a blocked file type) and
                    # still take a post: the agents get the caption and a note of the file.
                    logger.warning("posting a note instead of the customer's file: %s", exc)
            return await self._relay_posts(thread, message, customer=customer)

    async def _show_edit(
        self, thread: DeskThread, message: CustomerRelay, ts: str, customer: Customer
    ) -> str:
        """The customer's edit in place of the post that showed the message before."""
        post = relay_posts(message, customer=customer)[0]  # a very long edit: its start
        await call(
            f"a customer's edit of {ts} in {thread.thread_ts}",
            lambda: self._client.chat_update(
                channel=thread.channel, ts=ts, text=post.text, blocks=post.blocks
            ),
        )
        return ts

    async def _relay_posts(
        self, thread: DeskThread, message: CustomerRelay, *, customer: Customer
    ) -> str:
        posts = relay_posts(message, customer=customer)
        what = f"a customer message in {thread.thread_ts}"
        if message.outbox_id is None:
            posted = [await self._post(thread, post, what=what) for post in posts]
            return posted[0]  # relay_posts always gives at least one post
        tags = [PostTag(outbox_id=message.outbox_id, part=n) for n in range(1, len(posts) + 1)]
        first: str | None = None
        for post, tag in zip(posts, tags, strict=True):
            try:
                ts = await self._tagged.post(thread, post, tag, what=what)
            except (DeliveryError, DeliveryDeferred) as exc:
                # The parts posted stay; next time they are looked for, not posted again.
                for earlier in tags[: tag.part - 1]:
                    self._tagged.doubt(thread, earlier)
                if first is None or isinstance(exc, DeliveryError):
                    raise  # a deferral with nothing posted: Slack only asked to wait
                raise DeliveryError(f"{exc}; part {tag.part} of {len(posts)} is missing") from exc
            first = first or ts
        assert first is not None
        return first

    async def _upload(
        self, thread: DeskThread, message: CustomerRelay, content: bytes, *, customer: Customer
    ) -> str:
        """Upload a customer's file into the thread; the file's id (Slack shares an upload
        in the thread after answering, so the post's ts is not known yet)."""
        upload = relay_upload(message, customer=customer)
        answer = await call(
            f"a customer's file in {thread.thread_ts}",
            lambda: self._client.files_upload_v2(
                channel=thread.channel,
                thread_ts=thread.thread_ts,
                file=content,
                filename=upload.filename,
                title=upload.title,
                initial_comment=upload.comment,
            ),
        )
        return str(answer["file"]["id"])

    async def post_note(self, thread: DeskThread, text: str) -> None:
        if not text.strip():
            logger.warning("not posting an empty note in %s", thread.thread_ts)
            return
        async with self._threads.hold(thread):
            await self._post(thread, note_post(text), what=f"a note in {thread.thread_ts}")

    async def tell_agent(self, thread: DeskThread, agent: Agent, text: str) -> None:
        """An ephemeral message in the thread that only ``agent`` sees."""
        await call(
            f"a message for {agent.user_id} in {thread.thread_ts}",
            lambda: self._client.chat_postEphemeral(
                channel=thread.channel,
                user=agent.user_id,
                thread_ts=thread.thread_ts,
                text=escape_mrkdwn(clip(text, EPHEMERAL_TEXT_LIMIT)),
            ),
        )

    async def react(self, thread: DeskThread, message_ts: str, receipt: Receipt) -> None:
        """A reaction on the agent's message; one already there is no failure."""
        try:
            await call(
                f"the {receipt} receipt on {message_ts}",
                lambda: self._client.reactions_add(
                    channel=thread.channel, timestamp=message_ts, name=RECEIPT_EMOJI[receipt]
                ),
            )
        except DeliveryError as exc:
            if "already_reacted" not in str(exc):
                raise

    async def _post(self, thread: DeskThread, post: SlackMessage, *, what: str) -> str:
        # Unfurling would make Slack fetch a customer's link and show whatever preview
        # the linked page chooses.
        answer = await call(
            what,
            lambda: self._client.chat_postMessage(
                channel=thread.channel,
                thread_ts=thread.thread_ts,
                text=post.text,
                blocks=post.blocks,
                unfurl_links=False,
                unfurl_media=False,
            ),
        )
        return str(answer["ts"])
