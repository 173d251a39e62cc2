"""What Tandem says to agents, from ``config/agents.yml``: notes in a handoff's thread, lines
told to one agent, and status lines, each with named placeholders.

The catalogue is checked whole when it is loaded (at start): a missing or unknown entry, a
placeholder the entry cannot have, or a malformed one is refused, every problem listed.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from handoff.errors import HandoffError


class Line(StrEnum):
    """An entry of the catalogue: ``section.name`` in the file."""

    # In the handoff's thread, for every agent.
    NOTE_CLAIMED = "notes.claimed"
    NOTE_TRANSFERRED = "notes.transferred"
    NOTE_RELEASED = "notes.released"
    NOTE_RETURNED = "notes.returned"
    NOTE_CLOSED = "notes.closed"
    # An agent's edit or deletion of a relayed reply (handoff.revisions).
    NOTE_REPLY_EDITED = "notes.reply_edited"
    NOTE_REPLY_DELETED = "notes.reply_deleted"
    NOTE_REVISION_FAILED = "notes.revision_failed"
    NOTE_REVISION_UNDELIVERED = "notes.revision_undelivered"
    RETRY_BUTTON = "notes.retry_button"
    NOTE_RETRACTED = "notes.retracted"
    NOTE_RETRACT_FAILED = "notes.retract_failed"
    NOTE_RETRIED = "notes.retried"
    # To the one agent concerned.
    NOT_A_HANDOFF = "replies.not_a_handoff"
    ALREADY_YOURS = "replies.already_yours"
    NOBODY_OWNS = "replies.nobody_owns"
    CLAIM_FAILED = "replies.claim_failed"
    NOTHING_TO_DO = "replies.nothing_to_do"
    NOTHING_TO_RETRY = "replies.nothing_to_retry"
    NOTHING_TO_RETRACT = "replies.nothing_to_retract"
    NOT_SENT = "replies.not_sent"
    DELAYED = "replies.delayed"
    NOT_HANDLED = "replies.not_handled"
    # In the thread, under an agent's reply refused for good (handoff.receipts).
    RECEIPT_BLOCKED = "notes.undelivered_blocked"
    RECEIPT_CHAT_GONE = "notes.undelivered_chat_gone"
    RECEIPT_REFUSED = "notes.undelivered_refused"
    RECEIPT_UNREACHABLE = "notes.undelivered_unreachable"
    # Where a handoff stands (the status command, and within replies.nothing_to_do).
    STATUS_WAITING = "status.waiting"
    STATUS_CLAIMED = "status.claimed"
    STATUS_RETURNED = "status.returned"
    STATUS_CLOSED = "status.closed"
    # Personal data (handoff.privacy): masked values, their reveal, a customer's /forget.
    PRIVACY_MASKED_CARD = "privacy.masked_card"
    PRIVACY_MASKED_MESSAGE = "privacy.masked_message"
    PRIVACY_REVEAL_BUTTON = "privacy.reveal_button"
    PRIVACY_REVEALED = "privacy.revealed"
    PRIVACY_NOT_OWNER = "privacy.not_owner"
    PRIVACY_NOTHING_TO_REVEAL = "privacy.nothing_to_reveal"
    PRIVACY_FORGET_REQUESTED = "privacy.forget_requested"
    PRIVACY_ERASE_BUTTON = "privacy.erase_button"
    PRIVACY_ERASED = "privacy.erased"
    PRIVACY_ALREADY_ERASED = "privacy.already_erased"
    # Teaching the bot (handoff.teaching): offers under failed turns, what was taught.
    TEACHING_OFFER = "teaching.offer"
    TEACHING_PICK = "teaching.pick"
    TEACHING_TAUGHT = "teaching.taught"
    TEACHING_NOT_TEACHABLE = "teaching.not_teachable"
    TEACHING_BAD_INTENT = "teaching.bad_intent"
    TEACHING_CARD = "teaching.card"
    TEACHING_OTHER = "teaching.other"
    TEACHING_FORM_TITLE = "teaching.form_title"
    TEACHING_FORM_NEW = "teaching.form_new"
    TEACHING_FORM_HINT = "teaching.form_hint"
    TEACHING_FORM_SUBMIT = "teaching.form_submit"
    TEACHING_CHOOSE_ONE = "teaching.choose_one"
    TEACHING_FORM_WHICH = "teaching.form_which"
    TEACHING_CHOOSE_MESSAGE = "teaching.choose_message"
    TEACHING_NAME_INVALID = "teaching.name_invalid"
    TEACHING_NAME_TAKEN = "teaching.name_taken"
    TEACHING_NAME_RESERVED = "teaching.name_reserved"
    # The SLA ladder (handoff.sla): unclaimed or unanswered handoffs.
    SLA_REPING = "sla.reping"
    SLA_ESCALATED = "sla.escalated"
    SLA_ESCALATED_NOTE = "sla.escalated_note"
    SLA_IDLE = "sla.idle"
    # Drafts for agents (handoff.drafts): the bot's answers suggested under a customer's message.
    DRAFTS_OFFER = "drafts.offer"
    DRAFTS_SEND = "drafts.send"
    DRAFTS_SENT = "drafts.sent"
    DRAFTS_NO_SAVED_REPLY = "drafts.no_saved_reply"
    DRAFTS_EDIT = "drafts.edit"
    DRAFTS_EDIT_TITLE = "drafts.edit_title"
    DRAFTS_EDIT_FIELD = "drafts.edit_field"
    # Approval for sensitive topics (handoff.approvals).
    DRAFTS_NEEDS_APPROVAL = "drafts.needs_approval"
    DRAFTS_REQUEST_APPROVAL = "drafts.request_approval"
    DRAFTS_APPROVAL_REQUESTED = "drafts.approval_requested"
    DRAFTS_APPROVE = "drafts.approve"
    DRAFTS_APPROVED = "drafts.approved"
    DRAFTS_DECLINE = "drafts.decline"
    DRAFTS_DECLINED = "drafts.declined"
    DRAFTS_NEEDS_APPROVER = "drafts.needs_approver"
    DRAFTS_CANNOT_APPROVE = "drafts.cannot_approve"
    DRAFTS_APPROVER_SENDS = "drafts.approver_sends"
    DRAFTS_NO_APPROVAL_NEEDED = "drafts.no_approval_needed"
    DRAFTS_APPROVERS_UNKNOWN = "drafts.approvers_unknown"
    # The waiting customer's choices (handoff.waiting).
    WAIT_CUSTOMER = "waiting.customer"
    WAIT_LATER = "waiting.later"


# Every line about a handoff knows the acting agent's name and the handoff's number.
_ABOUT = frozenset({"agent", "handoff"})
PLACEHOLDERS: Mapping[Line, frozenset[str]] = {
    Line.NOTE_CLAIMED: _ABOUT,
    Line.NOTE_TRANSFERRED: _ABOUT | {"previous"},
    Line.NOTE_RELEASED: _ABOUT,
    Line.NOTE_RETURNED: _ABOUT,
    Line.NOTE_CLOSED: _ABOUT,
    Line.NOTE_REPLY_EDITED: _ABOUT,
    Line.NOTE_REPLY_DELETED: _ABOUT,
    Line.NOTE_REVISION_FAILED: _ABOUT | {"failure"},
    Line.NOTE_REVISION_UNDELIVERED: _ABOUT,
    Line.RETRY_BUTTON: frozenset(),
    Line.NOTE_RETRACTED: _ABOUT,
    Line.NOTE_RETRACT_FAILED: _ABOUT | {"failure"},
    Line.NOTE_RETRIED: _ABOUT,
    Line.NOT_A_HANDOFF: frozenset({"agent"}),
    Line.ALREADY_YOURS: _ABOUT,
    Line.NOBODY_OWNS: _ABOUT,
    Line.CLAIM_FAILED: _ABOUT | {"reason"},
    Line.NOTHING_TO_DO: _ABOUT | {"status"},
    Line.NOTHING_TO_RETRY: _ABOUT,
    Line.NOTHING_TO_RETRACT: _ABOUT,
    Line.NOT_SENT: _ABOUT,
    Line.DELAYED: _ABOUT | {"seconds"},
    Line.NOT_HANDLED: frozenset({"agent"}),
    Line.RECEIPT_BLOCKED: _ABOUT | {"failure"},
    Line.RECEIPT_CHAT_GONE: _ABOUT | {"failure"},
    Line.RECEIPT_REFUSED: _ABOUT | {"failure"},
    Line.RECEIPT_UNREACHABLE: _ABOUT | {"failure"},
    Line.STATUS_WAITING: _ABOUT,
    Line.STATUS_CLAIMED: _ABOUT | {"owner"},
    Line.STATUS_RETURNED: _ABOUT,
    Line.STATUS_CLOSED: _ABOUT,
    Line.PRIVACY_MASKED_CARD: frozenset({"handoff", "kinds"}),
    Line.PRIVACY_MASKED_MESSAGE: frozenset({"kinds"}),
    Line.PRIVACY_REVEAL_BUTTON: frozenset(),
    Line.PRIVACY_REVEALED: _ABOUT | {"messages"},
    Line.PRIVACY_NOT_OWNER: _ABOUT,
    Line.PRIVACY_NOTHING_TO_REVEAL: _ABOUT,
    Line.PRIVACY_FORGET_REQUESTED: frozenset({"customer", "chat"}),
    Line.PRIVACY_ERASE_BUTTON: frozenset(),
    Line.PRIVACY_ERASED: frozenset({"agent", "customer", "messages", "posts"}),
    Line.PRIVACY_ALREADY_ERASED: frozenset({"customer"}),
    Line.TEACHING_OFFER: frozenset(),
    Line.TEACHING_PICK: frozenset(),
    Line.TEACHING_TAUGHT: _ABOUT | {"text", "intent"},
    Line.TEACHING_NOT_TEACHABLE: _ABOUT,
    Line.TEACHING_BAD_INTENT: _ABOUT | {"intent"},
    Line.TEACHING_CARD: frozenset({"agent", "text", "intent"}),
    Line.TEACHING_OTHER: frozenset(),
    Line.TEACHING_FORM_TITLE: frozenset(),
    Line.TEACHING_FORM_NEW: frozenset(),
    Line.TEACHING_FORM_HINT: frozenset(),
    Line.TEACHING_FORM_SUBMIT: frozenset(),
    Line.TEACHING_CHOOSE_ONE: frozenset(),
    Line.TEACHING_FORM_WHICH: frozenset(),
    Line.TEACHING_CHOOSE_MESSAGE: frozenset(),
    Line.TEACHING_NAME_INVALID: frozenset({"intent"}),
    Line.TEACHING_NAME_TAKEN: frozenset({"intent"}),
    Line.TEACHING_NAME_RESERVED: frozenset({"intent"}),
    Line.SLA_REPING: frozenset({"handoff", "minutes"}),
    Line.SLA_ESCALATED: frozenset({"handoff", "minutes"}),
    Line.SLA_ESCALATED_NOTE: frozenset({"handoff", "minutes"}),
    Line.SLA_IDLE: _ABOUT | {"minutes"},
    Line.DRAFTS_OFFER: frozenset(),
    Line.DRAFTS_SEND: frozenset(),
    Line.DRAFTS_SENT: frozenset({"agent", "text"}),
    Line.DRAFTS_NO_SAVED_REPLY: frozenset({"name", "names"}),
    Line.DRAFTS_EDIT: frozenset(),
    Line.DRAFTS_EDIT_TITLE: frozenset(),
    Line.DRAFTS_EDIT_FIELD: frozenset(),
    Line.DRAFTS_NEEDS_APPROVAL: frozenset(),
    Line.DRAFTS_REQUEST_APPROVAL: frozenset(),
    Line.DRAFTS_APPROVAL_REQUESTED: frozenset({"agent", "text"}),
    Line.DRAFTS_APPROVE: frozenset(),
    Line.DRAFTS_APPROVED: frozenset({"approver", "agent", "text"}),
    Line.DRAFTS_DECLINE: frozenset(),
    Line.DRAFTS_DECLINED: frozenset({"approver", "agent", "text"}),
    Line.DRAFTS_NEEDS_APPROVER: frozenset({"agent"}),
    Line.DRAFTS_CANNOT_APPROVE: frozenset({"agent"}),
    Line.DRAFTS_APPROVER_SENDS: frozenset({"agent"}),
    Line.DRAFTS_NO_APPROVAL_NEEDED: frozenset({"agent"}),
    Line.DRAFTS_APPROVERS_UNKNOWN: frozenset({"agent"}),
    Line.WAIT_CUSTOMER: frozenset({"name"}),
    Line.WAIT_LATER: frozenset({"handoff"}),
}
SECTIONS = frozenset(line.value.split(".", 1)[0] for line in Line)


class AgentTextsError(HandoffError):
    """``agents.yml`` is invalid; each line of :attr:`lines` names one problem."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__("\n".join(lines))
        self.lines = lines


@dataclass(frozen=True, slots=True)
class AgentTexts:
    """The checked catalogue; build it with :func:`load_agent_texts`."""

    templates: Mapping[Line, str]

    def line(self, line: Line, **values: str) -> str:
        """The entry filled in; ``values`` must hold each of its :data:`PLACEHOLDERS` (more
        are ignored)."""
        return self.templates[line].format_map(values)


def load_agent_texts(path: Path) -> AgentTexts:
    """Read and check ``agents.yml``; raise :class:`AgentTextsError` listing every problem."""
    import yaml  # noqa: PLC0415 - here: the state machine names lines without loading YAML

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise AgentTextsError([f"{path}: cannot read ({exc.strerror})"]) from None
    except yaml.MarkedYAMLError as exc:
        row = exc.problem_mark.line + 1 if exc.problem_mark else 0
        raise AgentTextsError([f"{path}:{row}: not valid YAML: {exc.problem}"]) from None
    if not isinstance(data, dict):
        sections = ", ".join(repr(s) for s in sorted(SECTIONS))
        raise AgentTextsError([f"{path}: expected the sections {sections}"])
    problems: list[str] = []
    templates: dict[Line, str] = {}
    seen: set[Line] = set()
    for section, entries in data.items():
        if section not in SECTIONS:
            problems.append(f"{path}: {section}: unknown section")
            continue
        if not isinstance(entries, dict):
            problems.append(f"{path}: {section}: expected a mapping of names to texts")
            continue
        for name, text in entries.items():
            where = f"{path}: {section}.{name}"
            try:
                line = Line(f"{section}.{name}")
            except ValueError:
                problems.append(f"{where}: unknown entry")
                continue
            seen.add(line)
            if (template := _template(where, line, text, problems)) is not None:
                templates[line] = template
    problems += [f"{path}: {line.value}: missing" for line in Line if line not in seen]
    if problems:
        raise AgentTextsError(problems)
    return AgentTexts(templates=templates)


def _template(where: str, line: Line, text: object, problems: list[str]) -> str | None:
    if not isinstance(text, str) or not text.strip():
        problems.append(f"{where}: expected a text")
        return None
    try:
        fields = list(string.Formatter().parse(text))
    except ValueError as exc:
        problems.append(f"{where}: bad placeholder ({exc}); write {{{{ and }}}} for braces")
        return None
    allowed = PLACEHOLDERS[line]
    known = ", ".join(f"{{{name}}}" for name in sorted(allowed))
    for _, name, spec, conversion in fields:
        if name is None:
            continue
        if name not in allowed:
            problems.append(f"{where}: unknown placeholder {{{name}}}; it can use {known}")
        elif spec or conversion:
            problems.append(f"{where}: write {{{name}}} without a format or conversion")
    return text.strip()
