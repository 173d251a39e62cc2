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

import asyncio
import logging
import math
from collections.abc import Sequence
from dataclasses import replace

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
from handoff.relay import SHOWN_FILES

from .blocks import SlackMessage
from .cards import render_card
from .delivery import call
from .escape import escape_mrkdwn
from .keyed import KeyedLocks
from .own_posts import OwnPosts
from .pacing import ChannelPacer, PacingPolicy, Unpaced
from .posts import merged_post, note_post, relay_posts, relay_upload, retry_post
from .sizing import TEXT_LIMIT, clip
from .tagged import PostTag, TaggedPoster, tagged_file_name

logger = logging.getLogger(__name__)

# Escaping at most quintuples a character ("&" becomes "&amp;"): this much always fits.
EPHEMERAL_TEXT_LIMIT = TEXT_LIMIT // 5
# Slack's standard emoji, as reactions on an agent's reply (every workspace has them).
RECEIPT_EMOJI = {Receipt.DELIVERED: "white_check_mark", Receipt.FAILED: "x"}


class SlackDesk:
    """Posts in ``channel`` with ``client`` (whose retries are set up by the adapter), and
    customers' tagged messages with ``tagged``."""

    def __init__(
        self,
        *,
        client: AsyncWebClient,
        tagged: TaggedPoster,
        channel: str,
        pacer: ChannelPacer | None = None,
        wait_up_to: float = PacingPolicy().wait_up_to,
    ) -> None:
        self._client = client
        self._tagged = tagged
        self._channel = channel
        self._pacer: ChannelPacer = pacer or Unpaced()
        self._wait_up_to = wait_up_to
        self._threads: KeyedLocks[DeskThread] = KeyedLocks()
        self.own_posts = OwnPosts(client=client, pacer=self._pacer)

    async def open_handoff(self, ticket: HandoffTicket) -> DeskThread:
        """Post the card, waiting for an agent; its message starts the handoff's thread."""
        card = render_card(CardState(ticket=ticket, status=CardStatus.WAITING))
        channel = ticket.route.channel if ticket.route is not None else self._channel
        ts = await self.own_posts.post(
            card,
            channel=channel,
            what=f"the card of handoff #{ticket.handoff_id}",
        )
        thread = DeskThread(channel=channel, thread_ts=ts)
        logger.info("handoff %s: card posted as %s", ticket.handoff_id, thread.thread_ts)
        return thread

    async def follow_card(self, thread: DeskThread, ticket: HandoffTicket) -> None:
        """Nothing: what follows a card comes from the desk's decorators (masking, teaching)."""

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
            await self._customers_turn(thread, patient=message.content is not None)
            return await self._relay_one(thread, message, customer=customer)

    async def relay_many(
        self, thread: DeskThread, messages: Sequence[CustomerRelay], *, customer: Customer
    ) -> list[str]:
        """Show several of the customer's messages, in order, in one post when they fit
        (a file, or text too long to share a post, goes on its own); the ids of the posts
        of those shown, one per message, the first ones of ``messages``."""
        async with self._threads.hold(thread):
            post, count = merged_post(messages, customer=customer)
            await self._customers_turn(thread, patient=messages[0].content is not None)
            first, last = messages[0].outbox_id, messages[count - 1].outbox_id if count else None
            if count < 2 or first is None or last is None:
                return [await self._relay_one(thread, messages[0], customer=customer)]
            what = f"{count} customer messages in {thread.thread_ts}"
            tag = PostTag(outbox_id=first, through=last)
            if any(m.in_doubt for m in messages[:count]):
                self._tagged.doubt(thread, tag)  # found by its first, merged or alone
            ts, landed = await self.own_posts.paced(
                thread.channel, lambda: self._tagged.post(thread, post, tag, what=what)
            )
            if landed.through is None:  # an earlier try posted the first message alone
                return [await self._relay_one(thread, messages[0], customer=customer)]
            through = landed.through
            return [
                ts for m in messages[:count] if m.outbox_id is not None and m.outbox_id <= through
            ]

    async def _relay_one(
        self, thread: DeskThread, message: CustomerRelay, *, customer: Customer
    ) -> str:
        if message.in_doubt and message.outbox_id is not None and message.kind in SHOWN_FILES:
            # A worker that died may have shared the file (or a note of it): look first.
            found = await self._tagged.find_file(thread, message.outbox_id)
            if found is not None:
                return found
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
            posted = []
            for number, post in enumerate(posts):
                if number:
                    await self.own_posts.take_turn(thread.channel)
                posted.append(await self._post(thread, post, what=what))
            return posted[0]  # relay_posts always gives at least one post
        tags = [PostTag(outbox_id=message.outbox_id, part=n) for n in range(1, len(posts) + 1)]
        if message.in_doubt:  # a worker that died may have posted it: look first
            for tag in tags:
                self._tagged.doubt(thread, tag)
        first: str | None = None
        for post, tag in zip(posts, tags, strict=True):
            try:
                if tag.part > 1:
                    await self.own_posts.take_turn(thread.channel)
                ts, _ = await self.own_posts.paced(
                    thread.channel,
                    lambda post=post, tag=tag: self._tagged.post(thread, post, tag, what=what),  # type: ignore[misc]
                )
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
        outbox_id = message.outbox_id
        if outbox_id is not None:  # the tag Slack keeps: the file's name (see .tagged)
            upload = replace(upload, filename=tagged_file_name(upload.filename, outbox_id))
        try:
            answer = await self.own_posts.paced(
                thread.channel,
                lambda: call(
                    f"a customer's file in {thread.thread_ts}",
                    lambda: self._client.files_upload_v2(
                        channel=thread.channel,
                        thread_ts=thread.thread_ts,
                        file=content,
                        filename=upload.filename,
                        title=upload.title,
                        initial_comment=upload.comment,
                    ),
                ),
            )
        except DeliveryError:
            # An answer lost on the way may hide a file that was shared all the same.
            found = None if outbox_id is None else await self._shared_after_all(thread, outbox_id)
            if found is None:
                raise
            return found
        return str(answer["file"]["id"])

    async def _shared_after_all(self, thread: DeskThread, outbox_id: int) -> str | None:
        try:
            return await self._tagged.find_file(thread, outbox_id)
        except (DeliveryError, DeliveryDeferred) as exc:
            logger.warning("could not look for a customer's file in %s: %s", thread.thread_ts, exc)
            return None

    async def post_note(self, thread: DeskThread, text: str) -> None:
        if not text.strip():
            logger.warning("not posting an empty note in %s", thread.thread_ts)
            return
        async with self._threads.hold(thread):
            await self.own_posts.post(
                note_post(text),
                channel=thread.channel,
                thread_ts=thread.thread_ts,
                what=f"a note in {thread.thread_ts}",
            )

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

    async def offer_retry(
        self, thread: DeskThread, text: str, button: str, message_id: int
    ) -> None:
        """The note with a Retry button whose value is the reply's id."""
        async with self._threads.hold(thread):
            await self.own_posts.post(
                retry_post(text, button, message_id),
                channel=thread.channel,
                thread_ts=thread.thread_ts,
                what=f"a retry in {thread.thread_ts}",
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
        return await self.own_posts.send(
            post, channel=thread.channel, thread_ts=thread.thread_ts, what=what
        )

    # --- pacing (see .pacing) -------------------------------------------------------------

    async def _customers_turn(self, thread: DeskThread, *, patient: bool = False) -> None:
        """Wait for the thread's slot if it is near; otherwise keep it for the thread and
        raise :class:`~handoff.errors.DeliveryDeferred`: the outbox comes back then, with
        what the customer wrote meanwhile merged into one post. ``patient``: wait however
        far it is (a file's bytes are at hand only now; later agents would get a note)."""
        wait_up_to = math.inf if patient else self._wait_up_to
        delay = await self._pacer.acquire(thread.channel, thread.thread_ts, wait_up_to=wait_up_to)
        if delay > wait_up_to:
            raise DeliveryDeferred(
                f"the agent channel is busy; this thread's turn is in {delay:.1f}s",
                retry_after=delay,
            )
        await asyncio.sleep(delay)
