"""The agents' catalogue, config/agents.yml: the shipped one, and what a bad one is refused for."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from handoff.agent_texts import (
    PLACEHOLDERS,
    SECTIONS,
    AgentTextsError,
    Line,
    load_agent_texts,
)

REPO = Path(__file__).resolve().parents[2]
SHIPPED = REPO / "config" / "agents.yml"


def shipped() -> dict[str, Any]:
    data = yaml.safe_load(SHIPPED.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def write(tmp_path: Path, data: object) -> Path:
    path = tmp_path / "agents.yml"
    path.write_text(yaml.safe_dump(data) if not isinstance(data, str) else data, "utf-8")
    return path


def problems(path: Path) -> list[str]:
    with pytest.raises(AgentTextsError) as caught:
        load_agent_texts(path)
    return caught.value.lines


def test_the_shipped_catalogue_has_every_line() -> None:
    texts = load_agent_texts(SHIPPED)
    assert set(texts.templates) == set(Line)
    assert set(PLACEHOLDERS) == set(Line)


@pytest.mark.parametrize("line", list(Line))
def test_every_line_fills_from_its_placeholders(line: Line) -> None:
    texts = load_agent_texts(SHIPPED)
    values = {name: f"<{name}>" for name in PLACEHOLDERS[line]}
    filled = texts.line(line, **values, unrelated="ignored")
    assert "{" not in filled
    assert "ignored" not in filled


@pytest.mark.parametrize(
    ("line", "values", "said"),
    [
        (Line.NOTE_CLAIMED, {"agent": "Alice"}, "Alice claimed this conversation."),
        (
            Line.NOTE_TRANSFERRED,
            {"agent": "Bob", "previous": "Alice"},
            "Bob took this conversation over from Alice.",
        ),
        (
            Line.NOTE_RELEASED,
            {"agent": "Alice"},
            "Alice released this conversation; it waits for an agent.",
        ),
        (Line.NOTE_RETURNED, {"agent": "Alice"}, "Alice returned this conversation to the bot."),
        (Line.NOTE_CLOSED, {"agent": "Alice"}, "Alice closed this conversation."),
        (Line.NOT_A_HANDOFF, {}, "That thread is not a Tandem handoff."),
        (Line.ALREADY_YOURS, {}, "You already own this conversation."),
        (Line.NOBODY_OWNS, {}, "Nobody owns this conversation yet."),
        (Line.CLAIM_FAILED, {"reason": "too late"}, "Could not claim: too late"),
        (Line.NOTHING_TO_DO, {"status": "Done."}, "Nothing to do: Done."),
        (
            Line.NOT_SENT,
            {},
            "This conversation is no longer with a person; your message was not sent.",
        ),
        (
            Line.DELAYED,
            {"seconds": "30"},
            "Your message is delayed, not lost: Telegram asked Tandem to wait 30 s before "
            "sending more to this customer. It will be sent then.",
        ),
        (
            Line.RECEIPT_REFUSED,
            {"agent": "Alice", "failure": "Bad Request"},
            "Alice's reply was not delivered: Telegram refused it (Bad Request).",
        ),
        (
            Line.NOT_HANDLED,
            {},
            "Tandem could not pass this message on because of an internal error. It is saved, "
            "but it has not reached the customer: please send it again.",
        ),
        (Line.STATUS_WAITING, {"handoff": "42"}, "Handoff #42 is waiting for an agent."),
        (
            Line.STATUS_CLAIMED,
            {"handoff": "42", "owner": "Alice"},
            "Handoff #42 is owned by Alice.",
        ),
        (Line.STATUS_RETURNED, {"handoff": "42"}, "Handoff #42 was returned to the bot."),
        (Line.STATUS_CLOSED, {"handoff": "42"}, "Handoff #42 is closed."),
    ],
)
def test_the_shipped_wording(line: Line, values: dict[str, str], said: str) -> None:
    # The sentences Tandem said before they moved to the catalogue, word for word.
    everything = {"agent": "", "handoff": "", **values}
    assert load_agent_texts(SHIPPED).line(line, **everything) == said


def test_an_operator_can_reword_a_line(tmp_path: Path) -> None:
    data = shipped()
    data["notes"]["claimed"] = "Handoff #{handoff} is {agent}'s now. {{braces}} stay."
    texts = load_agent_texts(write(tmp_path, data))
    said = texts.line(Line.NOTE_CLAIMED, agent="Alice", handoff="42")
    assert said == "Handoff #42 is Alice's now. {braces} stay."


def test_a_missing_line_is_named(tmp_path: Path) -> None:
    data = shipped()
    del data["replies"]["not_sent"]
    del data["status"]
    assert problems(write(tmp_path, data)) == [
        f"{tmp_path / 'agents.yml'}: replies.not_sent: missing",
        f"{tmp_path / 'agents.yml'}: status.waiting: missing",
        f"{tmp_path / 'agents.yml'}: status.claimed: missing",
        f"{tmp_path / 'agents.yml'}: status.returned: missing",
        f"{tmp_path / 'agents.yml'}: status.closed: missing",
    ]


def test_an_unknown_placeholder_is_refused_naming_those_it_can_use(tmp_path: Path) -> None:
    data = shipped()
    data["notes"]["claimed"] = "{agnet} claimed it"
    data["status"]["waiting"] = "Handoff #{handoff} waits for {owner}"  # nobody owns it yet
    path = write(tmp_path, data)
    assert problems(path) == [
        f"{path}: notes.claimed: unknown placeholder {{agnet}}; it can use {{agent}}, {{handoff}}",
        f"{path}: status.waiting: unknown placeholder {{owner}}; it can use {{agent}}, {{handoff}}",
    ]


def test_every_problem_is_listed_at_once(tmp_path: Path) -> None:
    data = shipped()
    data["notes"]["claimed"] = "{agent!r} claimed it"
    data["notes"]["closed"] = "{agent:>20} closed it"
    data["notes"]["released"] = "{agent released it"
    data["notes"]["returned"] = "   "
    data["replies"]["not_sent"] = ["a", "list"]
    data["replies"]["typo"] = "a line nobody asked for"
    data["extra"] = {"x": "y"}
    data["status"] = "not a mapping"
    found = problems(write(tmp_path, data))
    where = f"{tmp_path / 'agents.yml'}:"
    assert f"{where} notes.claimed: write {{agent}} without a format or conversion" in found
    assert f"{where} notes.closed: write {{agent}} without a format or conversion" in found
    assert any(p.startswith(f"{where} notes.released: bad placeholder") for p in found)
    assert f"{where} notes.returned: expected a text" in found
    assert f"{where} replies.not_sent: expected a text" in found
    assert f"{where} replies.typo: unknown entry" in found
    assert f"{where} extra: unknown section" in found
    assert f"{where} status: expected a mapping of names to texts" in found
    assert f"{where} status.waiting: missing" in found
    assert len(found) == 8 + 4  # and the four status lines missing


def test_a_file_that_is_not_a_catalogue_is_refused(tmp_path: Path) -> None:
    assert problems(write(tmp_path, "- just\n- a list\n")) == [
        f"{tmp_path / 'agents.yml'}: expected the sections "
        + ", ".join(repr(section) for section in sorted(SECTIONS))
    ]
    [invalid] = problems(write(tmp_path, "notes: [unclosed\n"))
    assert invalid.startswith(f"{tmp_path / 'agents.yml'}:2: not valid YAML")
    assert problems(tmp_path / "nope.yml") == [
        f"{tmp_path / 'nope.yml'}: cannot read (No such file or directory)"
    ]
