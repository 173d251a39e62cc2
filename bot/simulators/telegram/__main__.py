"""``python -m bot.simulators.telegram --port N``: serve the simulator on its own.

Point Tandem at the printed TELEGRAM_API_URL and use the printed token.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib

from bot.simulators.telegram.server import DEFAULT_TOKEN, TelegramSimulator


async def _serve(*, host: str, port: int, token: str) -> None:
    async with TelegramSimulator(host=host, port=port, token=token) as simulator:
        print(f"Telegram Bot API simulator: TELEGRAM_API_URL={simulator.api_url}", flush=True)
        print(f"token: {simulator.token}", flush=True)
        await asyncio.Event().wait()  # until Ctrl-C


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve a local Telegram Bot API simulator.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--token", default=DEFAULT_TOKEN)
    args = parser.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(host=args.host, port=args.port, token=args.token))


if __name__ == "__main__":
    main()
