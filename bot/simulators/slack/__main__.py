"""``python -m bot.simulators.slack --port N``: serve the simulator for manual runs.

Point Tandem's Slack client at the printed Web API URL and use the printed bot token.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging

from bot.simulators.slack.server import SlackSimulator


async def _serve(host: str, port: int) -> None:
    async with SlackSimulator(host=host, port=port) as sim:
        print(f"Slack Web API: {sim.api_url}")
        print(f"Bot token:     {sim.bot_token}")
        print(f"App token:     {sim.app_token}")
        await asyncio.Event().wait()  # until Ctrl-C


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bot.simulators.slack", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args.host, args.port))


if __name__ == "__main__":
    main()
