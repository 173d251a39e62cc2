"""What every sub-command shares: lazy settings, and errors turned into one clear line."""

from __future__ import annotations

import asyncio
import functools
import logging
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, ParamSpec, TypeVar

import click

from bot.errors import ConfigError, MissingChatSettings, TandemError
from bot.logging import configure_logging
from handoff.errors import HandoffError
from nlu.errors import NluError

if TYPE_CHECKING:
    from bot.settings import Settings

P = ParamSpec("P")
R = TypeVar("R")

logger = logging.getLogger(__name__)

# Errors we expect and can explain in one line; anything else is a bug in Tandem.
_EXPLAINED = (TandemError, NluError, HandoffError)


class CliContext:
    """Carried by click from the group to its commands."""

    def __init__(self, *, config: Path | None, debug: bool) -> None:
        self.config = config
        self.debug = debug
        self._settings: Settings | None = None

    @property
    def settings(self) -> Settings:
        """Loaded and validated on first use, so `--help` works with a broken config."""
        if self._settings is None:
            # Imported here: pydantic and SQLAlchemy would slow down `tandem --help`.
            from bot.settings import load_settings, personal_data_mask  # noqa: PLC0415

            self._settings = load_settings(self.config)
            level = "DEBUG" if self.debug else self._settings.config.log_level
            configure_logging(
                level,
                secrets=self._settings.secret_values(),
                personal_data=personal_data_mask(self._settings),
                log_format=self._settings.config.log_format,
            )
        return self._settings


pass_cli = click.make_pass_decorator(CliContext)


def fail(lines: list[str], code: int = 1) -> NoReturn:
    for line in lines:
        click.echo(f"tandem: {line}", err=True)
    sys.exit(code)


def explained(command: Callable[P, R]) -> Callable[P, R]:
    """Turn the errors we expect into one clear line each, never a traceback."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        debug = _debugging()
        try:
            return command(*args, **kwargs)
        except (ConfigError, MissingChatSettings) as exc:
            fail(exc.lines, code=2)
        except _EXPLAINED as exc:
            if debug:
                logger.exception("failed")
            fail(str(exc).splitlines() or [type(exc).__name__])
        except KeyboardInterrupt:
            fail(["interrupted"], code=130)
        except click.ClickException:
            raise  # a usage error found by the command itself: click says it (exit code 2)
        except Exception as exc:  # the top of a command: say something true, keep the stack
            if debug:
                raise
            fail([f"unexpected error: {exc!r} (a bug in Tandem; rerun with --debug for details)"])

    return wrapper


def _debugging() -> bool:
    context = click.get_current_context(silent=True)
    obj = context.find_object(CliContext) if context else None
    return bool(obj and obj.debug)


def run_async(coroutine: Coroutine[Any, Any, R]) -> R:
    return asyncio.run(coroutine)


def echo(line: str = "") -> None:
    click.echo(line)
