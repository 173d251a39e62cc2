"""The handoff card: the thread's parent message, always showing the handoff's current state.

Who the customer is, why the bot handed over, what the NLU made of the turns it failed,
how frustrated the customer seemed, the end of the conversation so far, the state, and the
buttons. Text from customers (and from the bot's transcript) only ever goes into
``plain_text`` objects; mrkdwn holds Tandem's own labels, agents' mentions and dates.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime

from handoff.model import (
    Agent,
    Author,
    CardState,
    CardStatus,
    Customer,
    HandoffTicket,
    NluSnapshot,
    RouteChoice,
    TranscriptLine,
)

from .blocks import (
    Block,
    SlackMessage,
    context,
    divider,
    header,
    mrkdwn_section,
    slack_date,
)
from .escape import escape_mrkdwn, mrkdwn, plain_text
from .sizing import BUTTON_TEXT_LIMIT, FIELD_TEXT_LIMIT, MAX_BLOCKS, clip

CLAIM_ACTION = "tandem_claim"
RETURN_ACTION = "tandem_return"
CLOSE_ACTION = "tandem_close"
RETRACT_ACTION = "tandem_retract"
RETRY_ACTION = "tandem_retry"  # under a note of a failed reply; its value is the reply's id
ACTIONS_BLOCK_ID = "tandem_card_actions"

REASONS = {
    "person_requested": "The customer asked to talk to a person.",
    "human_only_topic": "The customer raised a topic that only a person may handle.",
    "frustrated": "The customer seems frustrated.",
    "nlu_unavailable": "The bot could not read messages: its language understanding was down.",
    "failed_turns": "The bot failed to understand the customer several times in a row.",
    "unspecified": "No reason was recorded.",
}
AUTHORS = {
    Author.CUSTOMER: "Customer",
    Author.BOT: "Bot",
    Author.AGENT: "Agent",
    Author.SYSTEM: "Tandem",
}

MAX_FAILED_TURNS_SHOWN = 5
MAX_INTENTS_SHOWN = 3
MAX_TRANSCRIPT_LINES = 20
NLU_TEXT_LIMIT = 300
TRANSCRIPT_TEXT_LIMIT = 1_000
NAME_LIMIT = 200
FALLBACK_LIMIT = 2_000  # of the notification text, before escaping
TAUGHT_BLOCK = "taught"  # the block listing what agents taught (the sandbox prints it)

_SLACK_USER_ID = re.compile(r"[UW][A-Z0-9]{2,}")


def render_card(state: CardState) -> SlackMessage:
    ticket = state.ticket
    head = [
        header(f"Handoff #{ticket.handoff_id}: {_name(ticket.customer)}"),
        _facts(ticket),
        *_out_of_hours(ticket),
        *_why(ticket),
        *_failed_turns(ticket.failed_turns),
    ]
    tail = [divider(), *_taught(state), mrkdwn_section(status_line(state)), *_buttons(state)]
    transcript = _transcript(ticket.transcript, room=MAX_BLOCKS - len(head) - len(tail))
    return SlackMessage(text=_fallback(state), blocks=[*head, *transcript, *tail])


def reason_in_words(code: str) -> str:
    return REASONS.get(code) or f"Reason: {code}."


def telegram_handle(customer: Customer) -> str:
    return f"@{customer.username}" if customer.username else "no username"


def status_line(state: CardState) -> str:
    """The state in mrkdwn: agents are mentioned (they are ours), dates are Slack dates.
    While it waits, how long the customer has waited (Slack counts it: "5 minutes ago")."""
    if state.status is CardStatus.WAITING:
        waited = slack_date(state.ticket.requested_at, "{ago}", "%Y-%m-%d %H:%M UTC")
        return f"{_status(state, who=_mention)} · the customer has waited since {waited}"
    return _status(state, who=_mention) + _since(state.changed_at)


# --- the parts of the card ----------------------------------------------------------------


def _facts(ticket: HandoffTicket) -> Block:
    """Label/value pairs: Slack lays out a section's fields in two columns, so each label
    sits beside its value, and the values from the customer stay plain text."""
    score = min(1.0, max(0.0, ticket.frustration))
    filled = round(score * 10)
    fields = [
        mrkdwn("*Customer*"),
        plain_text(clip(_name(ticket.customer), FIELD_TEXT_LIMIT)),
        mrkdwn(f"*{escape_mrkdwn(ticket.key.channel.title())}*"),
        plain_text(clip(telegram_handle(ticket.customer), FIELD_TEXT_LIMIT)),
        mrkdwn("*Frustration*"),
        mrkdwn(f"{score:.2f} of 1  {'▰' * filled}{'▱' * (10 - filled)}"),
        mrkdwn("*Requested*"),
        mrkdwn(slack_date(ticket.requested_at, "{date_short_pretty} {time}", "%Y-%m-%d %H:%M UTC")),
    ]
    return {"type": "section", "fields": fields}


def _taught(state: CardState) -> list[Block]:
    """What agents taught the bot in the thread, one line each (the catalogue's words)."""
    lines = "\n".join(state.taught)
    if not lines:
        return []
    return [{**context(plain_text(clip(lines, NLU_TEXT_LIMIT * 2))), "block_id": TAUGHT_BLOCK}]


def _out_of_hours(ticket: HandoffTicket) -> list[Block]:
    """A handoff requested while the desk was closed: the SLA clocks wait for the hours."""
    if not ticket.out_of_hours:
        return []
    told = "; the customer was told"
    if ticket.back_at is not None:
        back = slack_date(ticket.back_at, "{date_long_pretty} {time}", "%Y-%m-%d %H:%M UTC")
        told += f" people are back {back}"
    line = f"🌙 *Out of hours:* requested while the desk was closed{told}. The SLA clocks wait."
    return [context(mrkdwn(line))]


def _why(ticket: HandoffTicket) -> list[Block]:
    reason = reason_in_words(ticket.reason)
    blocks = [mrkdwn_section(f"*Why it was handed over:* {escape_mrkdwn(reason)}")]
    explanation = ticket.explanation.strip()
    if explanation and explanation != reason:
        blocks.append(context(plain_text(clip(explanation, TRANSCRIPT_TEXT_LIMIT))))
    if ticket.route is not None:
        blocks.append(_route(ticket.route))
    return blocks


def _route(route: RouteChoice) -> Block:
    """Which route brought the handoff here and why, pinging the route's people."""
    pings = " ".join(_ping(who) for who in route.ping)
    line = f"*Route:* {escape_mrkdwn(route.name)} ({escape_mrkdwn(route.why)})"
    return context(mrkdwn(clip(f"{line} {pings}".strip(), TRANSCRIPT_TEXT_LIMIT)))


def _ping(who: str) -> str:
    """A user (U..., W...) or a user group (S...) as Slack mentions them."""
    return f"<!subteam^{who}>" if who.startswith("S") else f"<@{who}>"


def _failed_turns(turns: tuple[NluSnapshot, ...]) -> list[Block]:
    if not turns:
        return []
    shown = turns[-MAX_FAILED_TURNS_SHOWN:]
    title = "*What the bot did not understand*"
    if len(shown) < len(turns):
        title += f" (the last {len(shown)} of {len(turns)} turns)"
    return [context(mrkdwn(title)), *(context(plain_text(_nlu_line(turn))) for turn in shown)]


def _nlu_line(turn: NluSnapshot) -> str:
    ranked = sorted(turn.intents, key=lambda intent: intent[1], reverse=True)
    intents = ", ".join(
        f"{name} {confidence:.0%}" for name, confidence in ranked[:MAX_INTENTS_SHOWN]
    )
    text = clip(turn.text.strip(), NLU_TEXT_LIMIT) or "(no text)"
    return f"“{text}” → {intents or 'no intent recognised'}"


def _transcript(lines: tuple[TranscriptLine, ...], *, room: int) -> list[Block]:
    """The last lines that fit in ``room`` blocks (one is the title)."""
    if not lines or room < 2:
        return []
    shown = lines[-min(MAX_TRANSCRIPT_LINES, room - 1) :]
    title = "*Conversation*"
    if len(shown) < len(lines):
        title += f" (the last {len(shown)} of {len(lines)} messages)"
    return [context(mrkdwn(title)), *(_transcript_line(line) for line in shown)]


def _transcript_line(line: TranscriptLine) -> Block:
    who = f"*{AUTHORS.get(line.author, 'Tandem')}* · {slack_date(line.at, '{time}', '%H:%M UTC')}"
    text = clip(line.text.strip(), TRANSCRIPT_TEXT_LIMIT) or "(no text)"
    return context(mrkdwn(who), plain_text(text))


def _buttons(state: CardState) -> list[Block]:
    """Claim (also to take over from another agent), Return to bot, Close, and Retract the
    bot's last answer; none once the conversation is back with the bot or closed."""
    if state.status in {CardStatus.RETURNED, CardStatus.CLOSED}:
        return []
    value = str(state.ticket.handoff_id)
    close_confirmation = {
        "title": plain_text("Close this conversation?", emoji=True),
        "text": plain_text("The customer is thanked and asked to rate the help.", emoji=True),
        "confirm": plain_text("Close", emoji=True),
        "deny": plain_text("Cancel", emoji=True),
        "style": "danger",
    }
    elements = [
        _button("Claim", CLAIM_ACTION, value, style="primary"),
        _button("Return to bot", RETURN_ACTION, value),
        {**_button("Close", CLOSE_ACTION, value, style="danger"), "confirm": close_confirmation},
        _button("Retract bot's answer", RETRACT_ACTION, value),
    ]
    return [{"type": "actions", "block_id": ACTIONS_BLOCK_ID, "elements": elements}]


def _button(label: str, action_id: str, value: str, *, style: str | None = None) -> Block:
    button: Block = {
        "type": "button",
        "text": plain_text(clip(label, BUTTON_TEXT_LIMIT), emoji=True),
        "action_id": action_id,
        "value": value,
    }
    if style is not None:
        button["style"] = style
    return button


# --- the state in words ---------------------------------------------------------------------


def _status(state: CardState, *, who: Callable[[Agent], str]) -> str:
    if state.status is CardStatus.WAITING:
        return "⏳ Waiting for an agent" + (" · 🚨 Escalated" if state.escalated else "")
    if state.status is CardStatus.CLAIMED:
        return f"🙋 Claimed by {who(state.owner)}" if state.owner else "🙋 Claimed"
    actor = state.changed_by or state.owner
    by = f" by {who(actor)}" if actor else ""
    if state.status is CardStatus.RETURNED:
        return f"🤖 Returned to the bot{by}"
    return f"✅ Closed{by} · {_rating(state.rating)}"


def _rating(rating: int | None) -> str:
    if rating is None:
        return "Not rated yet"
    stars = min(5, max(0, rating))
    return f"Rating: {'★' * stars}{'☆' * (5 - stars)} ({stars}/5)"


def _since(changed_at: datetime | None) -> str:
    if changed_at is None:
        return ""
    return " · " + slack_date(changed_at, "{date_short_pretty} {time}", "%Y-%m-%d %H:%M UTC")


def _mention(agent: Agent) -> str:
    """A mention for a Slack user id; anything else is shown as the (escaped) name."""
    if _SLACK_USER_ID.fullmatch(agent.user_id):
        return f"<@{agent.user_id}>"
    return escape_mrkdwn(agent.display_name)


def _fallback(state: CardState) -> str:
    """The notification text: what a glance at the card tells, all escaped."""
    ticket = state.ticket
    summary = (
        f"Handoff #{ticket.handoff_id}: {_name(ticket.customer)} "
        f"({telegram_handle(ticket.customer)}). {reason_in_words(ticket.reason)} "
        f"{_status(state, who=lambda agent: agent.display_name)}"
    )
    return escape_mrkdwn(clip(summary, FALLBACK_LIMIT))


def _name(customer: Customer) -> str:
    return clip(customer.display_name.strip(), NAME_LIMIT) or "(no name)"
