"""Who approves sensitive drafts, asked of the Slack simulator: user ids as they are, user
groups by id or @handle (usergroups.list, usergroups.users.list), members kept for a minute
(an injected clock), a group Slack does not know named by ``tandem config check``; and the
Approve button's value read back, a crafted one refused."""

from __future__ import annotations

import json

import pytest

from bot.adapters.slack.approvals import (
    MEMBERS_KEPT_FOR,
    SlackApprovers,
    approval_asked,
    unresolved_approvers,
)
from bot.adapters.slack.delivery import RetryPolicy, web_client
from bot.simulators.slack import SlackSimulator, defaults
from handoff.approvals import ApprovalPing
from handoff.errors import DeliveryError
from handoff.model import DeskThread

CAROL = "U0CAROL"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def approvers(slack: SlackSimulator, *names: str, clock: Clock | None = None) -> SlackApprovers:
    client = web_client(
        token=slack.bot_token, api_url=slack.api_url, policy=RetryPolicy(max_retries=0)
    )
    return SlackApprovers(client=client, approvers=names, clock=clock or Clock())


async def test_user_ids_and_groups_by_id_or_handle() -> None:
    async with SlackSimulator() as slack:
        by_id = approvers(slack, defaults.LEADS_GROUP_ID, CAROL)
        assert await by_id.is_approver(defaults.BOB_ID)
        assert await by_id.is_approver(CAROL)
        assert not await by_id.is_approver(defaults.ALICE_ID)
        by_handle = approvers(slack, f"@{defaults.LEADS_GROUP_HANDLE}")
        assert await by_handle.is_approver(defaults.BOB_ID)
        assert not await by_handle.is_approver(CAROL)
        assert not await approvers(slack).is_approver(defaults.BOB_ID)  # nobody approves


async def test_a_groups_members_are_kept_for_a_minute() -> None:
    async with SlackSimulator() as slack:
        clock = Clock()
        found = approvers(slack, defaults.LEADS_GROUP_ID, clock=clock)
        assert not await found.is_approver(defaults.ALICE_ID)
        slack.add_usergroup(defaults.LEADS_GROUP_ID, "support-leads", (defaults.ALICE_ID,))
        assert not await found.is_approver(defaults.ALICE_ID)  # as Slack said a moment ago
        clock.now += MEMBERS_KEPT_FOR
        assert await found.is_approver(defaults.ALICE_ID)
        assert len(slack.calls_to("usergroups.users.list")) == 2


async def test_an_unknown_group_cannot_be_told_and_config_check_names_it() -> None:
    async with SlackSimulator() as slack:
        with pytest.raises(DeliveryError, match="no user group @nobody"):
            await approvers(slack, "@nobody").is_approver(defaults.BOB_ID)
        problems = await unresolved_approvers(
            token=slack.bot_token,
            api_url=slack.api_url,
            approvers=("@nobody", "S0GONE", f"@{defaults.LEADS_GROUP_HANDLE}", CAROL),
        )
    assert set(problems) == {"@nobody", "S0GONE"}
    assert "no_such_subteam" in problems["S0GONE"]


async def test_the_ping_mentions_the_approvers_and_carries_the_draft() -> None:
    async with SlackSimulator() as slack:
        ping = ApprovalPing(
            text="Alice asks for approval to send this reply: “<Refunds> *soon*”",
            button="Approve and send",
            decline="Decline",
            draft="<Refunds> *soon*",
            requester=defaults.ALICE_ID,
            draft_post="1.5",
        )
        thread = DeskThread(defaults.AGENTS_CHANNEL_ID, "1.1")
        await approvers(slack, f"@{defaults.LEADS_GROUP_HANDLE}", CAROL).ping_approvers(
            thread, ping
        )
        [post] = slack.calls_to("chat.postMessage")
    text = post.params["text"]
    assert text.startswith(f"<!subteam^{defaults.LEADS_GROUP_ID}> <@{CAROL}> Alice asks")
    assert "<Refunds>" not in text  # the catalogue's words and the draft are escaped
    value = post.params["blocks"][1]["elements"][0]["value"]
    assert approval_asked(value) == ("<Refunds> *soon*", defaults.ALICE_ID, "1.5")


@pytest.mark.parametrize(
    "value",
    ["not json", "[1]", json.dumps({"text": "", "by": "U1"}), json.dumps({"text": "x"})],
)
def test_a_malformed_approve_value_is_refused(value: str) -> None:
    assert approval_asked(value) is None
