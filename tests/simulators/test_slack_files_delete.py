"""The Slack simulator's files.delete, which an erasure calls for a customer's files."""

from __future__ import annotations

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.simulators.slack import SlackSimulator, defaults
from tests.simulators.test_slack_simulator import client, error_of, sim

__all__ = ["client", "sim"]


async def test_a_file_is_deleted_once(sim: SlackSimulator, client: AsyncWebClient) -> None:
    await client.files_upload_v2(
        channel=defaults.AGENTS_CHANNEL_ID, content="photo", filename="photo.jpg", title="Photo"
    )
    (uploaded,) = sim.files
    await client.files_delete(file=uploaded.id)
    with pytest.raises(SlackApiError) as again:
        await client.files_delete(file=uploaded.id)
    assert error_of(again) == "file_not_found"
    with pytest.raises(SlackApiError) as unknown:
        await client.files_delete(file="F9999999")
    assert error_of(unknown) == "file_not_found"
