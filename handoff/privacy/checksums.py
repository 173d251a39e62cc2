"""Check digits, named: ``luhn``, ``iban``, or any validator module of python-stdnum
(``us.ssn``, ``iso7064.mod_97_10``, ``verhoeff``, ...), for operators' patterns."""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable

from handoff.privacy.errors import PrivacyConfigError

Checksum = Callable[[str], bool]

_MODULE_NAME = re.compile(r"[a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)*")


def checksum_named(name: str) -> Checksum:
    """The validator python-stdnum has under ``name``; :class:`PrivacyConfigError` if none."""
    if not _MODULE_NAME.fullmatch(name):
        raise PrivacyConfigError(f"checksum {name!r}: expected a python-stdnum name like us.ssn")
    try:
        module = importlib.import_module(f"stdnum.{name}")
    except ImportError:
        raise PrivacyConfigError(
            f"checksum {name!r}: python-stdnum has no such validator (e.g. luhn, iban, us.ssn)"
        ) from None
    is_valid = getattr(module, "is_valid", None)
    if not callable(is_valid):
        raise PrivacyConfigError(f"checksum {name!r}: stdnum.{name} is not a validator")

    def check(value: str) -> bool:
        return bool(is_valid(value))

    return check
