"""``agents.sla`` and ``agents.hours``: defaults, what is refused, what config check shows."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bot.agent_settings import HoursSection, SlaSection
from bot.settings import AgentsSection
from handoff.sla import SlaSettings


def test_the_sla_defaults_are_the_cores() -> None:
    assert SlaSection().core(wait_update_after=300.0) == SlaSettings()


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"ping": ["@support"]}, "is not a Slack user group id"),
        ({"escalation_channel": "#escalations"}, "expected a channel ID"),
        ({"reping_after": 0}, "greater than 0"),
        ({"remind": 5}, "Extra inputs are not permitted"),
    ],
)
def test_bad_sla_settings_are_refused(values: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        SlaSection.model_validate(values)


def test_hours_are_described_in_one_line() -> None:
    assert HoursSection().describe() == "always open"
    hours = HoursSection.model_validate(
        {
            "time_zone": "Europe/Berlin",
            "weekly": {"mon": ["09:00-17:30"]},
            "closed_dates": ["2026-12-25"],
        }
    )
    assert hours.describe() == "Europe/Berlin: mon 09:00-17:30; closed on 1 date(s)"


def test_a_bad_schedule_is_refused_when_the_settings_load() -> None:
    with pytest.raises(ValidationError, match=r"weekly\.tue: the spans overlap"):
        HoursSection.model_validate({"weekly": {"tue": ["09:00-12:00", "11:00-13:00"]}})


@pytest.mark.parametrize("approver", ["S0LEADS", "U0AGENT2", "W0AGENT3", "@support-leads"])
def test_approvers_are_user_groups_or_users(approver: str) -> None:
    assert AgentsSection.model_validate({"approvers": [approver]}).approvers == (approver,)


@pytest.mark.parametrize("approver", ["support-leads", "@Support Leads", "alice", "C0AGENTS"])
def test_an_approver_slack_cannot_name_is_refused(approver: str) -> None:
    with pytest.raises(ValidationError, match="is not a Slack user group id"):
        AgentsSection.model_validate({"approvers": [approver]})
