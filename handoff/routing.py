"""Which agents' channel a handoff goes to: routes by intent, by handoff reason, or by the
customer's language (``agents.routes``), else the default channel. Pure.

The first route that matches wins, in the order the operator wrote them. A route matches
on any of what it lists: the intent the NLU gave the customer's last message (or one of
the failed turns'), the handoff's reason code, the customer's language (Telegram's
``language_code``, "de" also matching "de-AT"). The card says which route matched and why,
and pings the people the route names.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from handoff.model import Author, HandoffTicket, RouteChoice
from handoff.policy.model import HANDOFF_PRIORITY, ReasonCode

# The reasons a route may name: those that hand off, and Tandem's own failure.
ROUTABLE_REASONS = frozenset(code.value for code in (*HANDOFF_PRIORITY, ReasonCode.SERVICE_ERROR))


@dataclass(frozen=True, slots=True, kw_only=True)
class Route:
    name: str
    channel: str
    intents: frozenset[str] = frozenset()
    reasons: frozenset[str] = frozenset()
    languages: frozenset[str] = frozenset()
    ping: tuple[str, ...] = ()  # Slack user or user-group ids

    def __post_init__(self) -> None:
        if not (self.intents or self.reasons or self.languages):
            raise ValueError(f"route {self.name!r}: name intents, reasons or languages")
        unknown = sorted(self.reasons - ROUTABLE_REASONS)
        if unknown:
            raise ValueError(
                f"route {self.name!r}: unknown reason(s) {', '.join(unknown)}; expected some "
                f"of {', '.join(sorted(ROUTABLE_REASONS))}"
            )

    def why(self, ticket: HandoffTicket) -> str | None:
        """Why ``ticket`` matches this route, in words; None if it does not."""
        intent = next((i for i in intents_of(ticket) if i in self.intents), None)
        if intent is not None:
            return f"intent {intent}"
        if ticket.reason in self.reasons:
            return f"reason {ticket.reason}"
        language = (ticket.customer.language_code or "").lower()
        if language and (language in self.languages or language.split("-")[0] in self.languages):
            return f"language {language}"
        return None


@dataclass(frozen=True, slots=True)
class Routes:
    routes: tuple[Route, ...] = ()

    def __post_init__(self) -> None:
        names = [route.name for route in self.routes]
        twice = sorted({name for name in names if names.count(name) > 1})
        if twice:
            raise ValueError(f"routes: each name once (twice: {', '.join(twice)})")

    @property
    def channels(self) -> frozenset[str]:
        return frozenset(route.channel for route in self.routes)

    def choose(self, ticket: HandoffTicket) -> RouteChoice | None:
        """The first route ``ticket`` matches (None: the default channel)."""
        for route in self.routes:
            why = route.why(ticket)
            if why is not None:
                return RouteChoice(name=route.name, channel=route.channel, why=why, ping=route.ping)
        return None

    def routed(self, ticket: HandoffTicket) -> HandoffTicket:
        return replace(ticket, route=self.choose(ticket))


def intents_of(ticket: HandoffTicket) -> Sequence[str]:
    """The intents that describe the handoff: the customer's last message's first, then
    the failed turns' top intents."""
    last = [
        line.intent
        for line in reversed(ticket.transcript)
        if line.author is Author.CUSTOMER and line.intent
    ][:1]
    failed = [turn.intents[0][0] for turn in ticket.failed_turns if turn.intents]
    return [*last, *failed]
