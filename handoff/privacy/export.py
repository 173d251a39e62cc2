"""What a customer's data export says about each message: where it stands on its way to
the other side, in one word, with the words explaining each state (``responses.yml``'s
``export_<state>``) beside them.

The record's ``delivery`` is NULL where there was nothing to deliver or the message was
sent before it was stored; the export says what that means for each author.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from handoff.model import Author
from handoff.records import Delivery, Platform
from handoff.responses import Responses

UNDELIVERED = "undelivered"  # the record's note that sending failed for good


class ExportedDelivery(StrEnum):
    RECEIVED = "received"  # the customer's message to the bot: nothing to pass on
    PENDING = "pending"  # stored, not delivered yet
    DELIVERED = "delivered"  # it reached the other side
    FAILED = "failed"  # refused for good (e.g. the bot was blocked)
    RETRACTED = "retracted"  # delivered, then deleted from the customer's chat
    NOT_SENT = "not_sent"  # never meant to leave (e.g. an agent's reply after the close)


def catalogue_key(state: ExportedDelivery) -> str:
    """The ``system`` entry of ``responses.yml`` that explains ``state``."""
    return f"export_{state.value}"


def exported_delivery(
    *,
    author: str,
    platform: str,
    delivery: str | None,
    decision: Mapping[str, Any] | None,
) -> ExportedDelivery:
    if delivery is not None:
        return ExportedDelivery(Delivery(delivery).value)
    if author == Author.CUSTOMER.value:
        return ExportedDelivery.RECEIVED
    if platform == Platform.INTERNAL.value or author != Author.BOT.value:
        # An agent's message stored without a delivery was written when no handoff was
        # open: it was never sent to the customer.
        return ExportedDelivery.NOT_SENT
    # The bot's replies are sent before they are stored; a refusal is noted on the record.
    return (
        ExportedDelivery.FAILED if (decision or {}).get(UNDELIVERED) else ExportedDelivery.DELIVERED
    )


def delivery_legend(words: Responses) -> dict[str, str]:
    """Every state the export can give, in the catalogue's words."""
    return {state.value: words.system(catalogue_key(state)).text for state in ExportedDelivery}
