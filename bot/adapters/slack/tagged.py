"""Customers' messages in a thread, posted once although Slack may answer too late.

Each post carries Slack message ``metadata`` naming the stored message it shows (its
outbox id) and which of its posts it is. A post whose answer never came (a time-out, a
lost connection, a 5xx) may have landed all the same, so before posting it again Tandem
looks in the thread (``conversations.replies`` with ``include_all_metadata``) for a
message with the same tag, and takes that one if it is there. A tag whose post was left
in doubt is remembered, so that when the core sends the message again later, the thread is
looked at first then too. That memory dies with the process: the core marks a message it
did not store or try itself (``CustomerRelay.in_doubt``: a worker died with it) and the desk
then doubts its tags (:meth:`TaggedPoster.doubt`) before posting.

Only the post itself goes through a client that leaves these errors to this module (see
:func:`.delivery.web_client`); looking is a read, retried as usual.

A customer's file cannot carry metadata: Slack shares an upload in the thread itself
(``files.completeUploadExternal`` takes no ``metadata``), so the file's name carries the
outbox id instead (``photo.tandem-4711.jpg``, :func:`tagged_file_name`), and
:meth:`TaggedPoster.find_file` looks for it among the files shared in the thread.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from handoff.errors import DeliveryError
from handoff.model import DeskThread

from .blocks import SlackMessage
from .delivery import (
    TRANSIENT_ERRORS,
    RetryPolicy,
    call,
    describe,
    error_code,
    refusal,
    status_of,
)

logger = logging.getLogger(__name__)

EVENT_TYPE = "tandem_outbox"
PAGE_SIZE = 200  # messages per conversations.replies page
MAX_PAGES = 25  # a thread of 5,000 messages is searched through; a longer one is not


_FILE_TAG = re.compile(r"\.tandem-(\d+)")
_FILE_TAG_AT_END = re.compile(r"\.tandem-(\d+)(?:\.[^.]*)?$")


def tagged_file_name(name: str, outbox_id: int) -> str:
    """``name`` with the outbox id before its extension (``photo.tandem-4711.jpg``); a tag
    the customer's own file name had is dropped, so that it cannot pass for Tandem's."""
    bare = _FILE_TAG.sub("", name)
    stem, dot, extension = bare.rpartition(".")
    if not stem:
        return f"{bare}.tandem-{outbox_id}"
    return f"{stem}.tandem-{outbox_id}{dot}{extension}"


def file_tag(name: str) -> int | None:
    """The outbox id a file's name carries (see :func:`tagged_file_name`)."""
    match = _FILE_TAG_AT_END.search(name)
    return None if match is None else int(match.group(1))


@dataclass(frozen=True, slots=True)
class PostTag:
    """Post ``part`` (from 1) of the stored message ``outbox_id``; a post merging several
    messages names the last one it shows as ``through`` (found by its first, however many
    it shows)."""

    outbox_id: int
    part: int = 1
    through: int | None = field(default=None, compare=False)

    def metadata(self) -> dict[str, Any]:
        payload = {"outbox_id": self.outbox_id, "part": self.part}
        if self.through is not None:
            payload["through"] = self.through
        return {"event_type": EVENT_TYPE, "event_payload": payload}

    def shows(self, other: PostTag) -> bool:
        """This post shows ``other``: it is its post, or a merged one from an earlier
        message through it (a worker may have died having recorded only the first ones)."""
        if self == other:
            return True
        merged_through = self.through if self.through is not None else self.outbox_id
        return other.part == 1 and self.outbox_id < other.outbox_id <= merged_through

    @staticmethod
    def of(message: Mapping[str, Any]) -> PostTag | None:
        """The tag of a message from ``conversations.replies``, if it has one."""
        metadata = message.get("metadata")
        if not isinstance(metadata, Mapping) or metadata.get("event_type") != EVENT_TYPE:
            return None
        payload = metadata.get("event_payload")
        if not isinstance(payload, Mapping):
            return None
        outbox_id, part = payload.get("outbox_id"), payload.get("part", 1)
        through = payload.get("through")
        if not isinstance(outbox_id, int) or not isinstance(part, int):
            return None
        return PostTag(
            outbox_id=outbox_id, part=part, through=through if isinstance(through, int) else None
        )


Sleep = Callable[[float], Awaitable[None]]
_Doubt = tuple[str, str, PostTag]


class TaggedPoster:
    """Posts with ``poster`` (which retries rate limits only), looks with ``reader``."""

    def __init__(
        self,
        *,
        poster: AsyncWebClient,
        reader: AsyncWebClient,
        policy: RetryPolicy,
        sleep: Sleep = asyncio.sleep,
        capacity: int = 10_000,
    ) -> None:
        self._poster = poster
        self._reader = reader
        self._policy = policy
        self._sleep = sleep
        self._capacity = capacity
        self._in_doubt: OrderedDict[_Doubt, None] = OrderedDict()

    async def post(
        self, thread: DeskThread, post: SlackMessage, tag: PostTag, *, what: str
    ) -> tuple[str, PostTag]:
        """The ts of the message in the thread with ``tag`` and the tag it carries (a merged
        post found there may show fewer messages than ``tag``): found there, or posted now.

        Raises :class:`~handoff.errors.DeliveryError` when Slack refuses or stays
        unreachable, :class:`~handoff.errors.DeliveryDeferred` when it asks to wait."""
        if self._doubts(thread, tag):
            found = await self._look(thread, tag, what=what)
            if found is not None:
                return found
        for attempt in range(self._policy.max_retries + 1):
            if attempt:
                await self._sleep(self._policy.backoff_delay(attempt - 1))
                found = await self._look(thread, tag, what=what)
                if found is not None:
                    return found
            outcome = await self._attempt(thread, post, tag, what=what)
            if isinstance(outcome, str):
                self._settle(thread, tag)
                return outcome, tag
            problem = outcome
            self.doubt(thread, tag)
            logger.warning(
                "no answer from Slack for %s (%s); it may be there", what, _told(problem)
            )
        raise DeliveryError(f"could not reach Slack for {what}: {_told(problem)}") from problem

    async def _attempt(
        self, thread: DeskThread, post: SlackMessage, tag: PostTag, *, what: str
    ) -> str | Exception:
        """The posted message's ts; or, when the answer says nothing of whether it was
        posted, why; raises when Slack said it was not."""
        try:
            answer = await self._poster.chat_postMessage(
                channel=thread.channel,
                thread_ts=thread.thread_ts,
                text=post.text,
                blocks=post.blocks,
                metadata=tag.metadata(),
                # Unfurling would make Slack fetch a customer's link and show whatever
                # preview the linked page chooses.
                unfurl_links=False,
                unfurl_media=False,
            )
        except SlackApiError as exc:
            if not _may_have_landed(exc):
                raise refusal(what, exc) from exc
            return exc
        except (SlackClientError, aiohttp.ClientError, TimeoutError) as exc:
            return exc
        return str(answer["ts"])

    async def _look(
        self, thread: DeskThread, tag: PostTag, *, what: str
    ) -> tuple[str, PostTag] | None:
        found = await self.find(thread, tag)
        if found is not None:
            logger.info("%s had been posted after all, as %s", what, found[0])
            self._settle(thread, tag)
        return found

    async def find(self, thread: DeskThread, tag: PostTag) -> tuple[str, PostTag] | None:
        """The ts and tag of the message in ``thread`` that carries ``tag``, if there is one."""
        async for message in self._replies(thread):
            found = PostTag.of(message)
            if found is not None and found.shows(tag):
                return str(message["ts"]), found
        return None

    async def find_file(self, thread: DeskThread, outbox_id: int) -> str | None:
        """The id of the file shared in ``thread`` whose name carries ``outbox_id``, if one
        is there (Slack shares an upload a moment after answering: one whose answer was
        lost just now may not show yet)."""
        async for message in self._replies(thread):
            for shared in message.get("files") or []:
                name = shared.get("name") if isinstance(shared, Mapping) else None
                if isinstance(name, str) and file_tag(name) == outbox_id:
                    logger.info(
                        "the file of outbox %s had been shared, as %s", outbox_id, shared["id"]
                    )
                    return str(shared["id"])
        return None

    async def _replies(self, thread: DeskThread) -> AsyncIterator[Mapping[str, Any]]:
        """The messages of ``thread``, page after page."""
        cursor: str | None = None
        for _ in range(MAX_PAGES):
            page = await call(
                f"the replies in {thread.thread_ts}",
                partial(
                    self._reader.conversations_replies,
                    channel=thread.channel,
                    ts=thread.thread_ts,
                    include_all_metadata=True,
                    limit=PAGE_SIZE,
                    cursor=cursor,
                ),
            )
            for message in page.get("messages") or []:
                if isinstance(message, Mapping):
                    yield message
            cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
            if not page.get("has_more") or cursor is None:
                return
        logger.warning("gave up looking for a post in %s: a very long thread", thread.thread_ts)

    def doubt(self, thread: DeskThread, tag: PostTag) -> None:
        """Look for ``tag`` in the thread before it is next posted: it may be there."""
        self._in_doubt[(thread.channel, thread.thread_ts, tag)] = None
        self._in_doubt.move_to_end((thread.channel, thread.thread_ts, tag))
        while len(self._in_doubt) > self._capacity:
            self._in_doubt.popitem(last=False)

    def _doubts(self, thread: DeskThread, tag: PostTag) -> bool:
        return (thread.channel, thread.thread_ts, tag) in self._in_doubt

    def _settle(self, thread: DeskThread, tag: PostTag) -> None:
        self._in_doubt.pop((thread.channel, thread.thread_ts, tag), None)


def _told(problem: Exception) -> str:
    """A failure in a few words: Slack's error code, never the request (it has the text)."""
    return describe(problem) if isinstance(problem, SlackApiError) else repr(problem)


def _may_have_landed(exc: SlackApiError) -> bool:
    """A 5xx, or an ``ok: false`` Slack calls passing trouble, says nothing of whether the
    message was stored; a 429 or any other refusal says it was not."""
    status = status_of(exc)
    return (status is not None and status >= 500) or error_code(exc) in TRANSIENT_ERRORS
