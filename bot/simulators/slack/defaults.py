"""The simulated workspace's fixed identities, shared by the Web API simulator and the sender.

Slack IDs are upper-case letters and digits with a type prefix (``T`` team, ``U`` user, ``B``
bot, ``A`` app, ``C`` channel); these keep the prefixes so code that inspects them still works.
"""

from __future__ import annotations

TEAM_ID = "T0TANDEM"
TEAM_NAME = "Tandem Simulated"
TEAM_DOMAIN = "tandem-sim"
TEAM_URL = f"https://{TEAM_DOMAIN}.slack.com/"

APP_ID = "A0TANDEM"
BOT_USER_ID = "U0TANDEM"
BOT_ID = "B0TANDEM"
BOT_NAME = "tandem"

# Invented tokens of the right shape: Bolt tells bot tokens from user tokens by the prefix.
BOT_TOKEN = "xoxb-0000000000-0000000000000-tandemsimulatedbot"  # noqa: S105 - invented
APP_TOKEN = "xapp-1-A0TANDEM-0000000000000-tandemsimulatedapp"  # noqa: S105 - invented
# The deprecated verification token Slack still puts in every payload.
VERIFICATION_TOKEN = "tandemsimulatedverification"  # noqa: S105 - invented

# What auth.test reports in ``X-OAuth-Scopes``; Bolt copies it into the authorize result.
BOT_SCOPES = (
    "app_mentions:read,channels:history,channels:join,channels:read,chat:write,commands,"
    "files:write,groups:history,groups:read,im:history,reactions:write,usergroups:read,"
    "users:read"
)

AGENTS_CHANNEL_ID = "C0AGENTS"
AGENTS_CHANNEL_NAME = "support-agents"
ALICE_ID = "U0AGENT1"
BOB_ID = "U0AGENT2"
# A user group with Bob in it (the approvers of sensitive drafts in tests and the sandbox).
LEADS_GROUP_ID = "S0LEADS"
LEADS_GROUP_HANDLE = "support-leads"
