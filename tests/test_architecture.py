"""The architecture check covers every module of the core.

``lint-imports`` checks only the modules its contract names, so a new core module left out
of ``pyproject.toml`` would be free to import SQL, Redis or HTTP libraries unnoticed. Every
module under ``handoff/`` is either named by the contract (or inside a named package) or is
one of the adapters listed here, which implement the core's ports with those libraries.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORE_CONTRACT = "The core imports no platform SDK, SQL, Redis, HTTP or migration library"
# Adapters beside the core, and the packages whose __init__ only re-exports or picks one.
ADAPTERS = {
    "handoff",
    "handoff.state",
    "handoff.state.redis",
    "handoff.state.redis_client",
    "handoff.state.redis_lease",
    "handoff.state.redis_order",
    "handoff.storage",
}


def _core_contract() -> list[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contracts = config["tool"]["importlinter"]["contracts"]
    (contract,) = [each for each in contracts if each["name"] == CORE_CONTRACT]
    return list(contract["source_modules"])


def _modules(package: str) -> set[str]:
    found = set()
    for path in (ROOT / package).rglob("*.py"):
        parts = path.relative_to(ROOT).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found.add(".".join(parts))
    return found


def _covered(module: str, named: list[str]) -> bool:
    return any(module == each or module.startswith(each + ".") for each in named)


def _adapter(module: str) -> bool:
    return module in ADAPTERS or module.startswith("handoff.storage.")


def test_every_core_module_is_under_the_architecture_check() -> None:
    named = _core_contract()
    unchecked = sorted(
        module
        for module in _modules("handoff")
        if not _adapter(module) and not _covered(module, named)
    )
    assert unchecked == [], f"add to [tool.importlinter] {CORE_CONTRACT!r}: {unchecked}"


def test_no_adapter_is_named_as_core() -> None:
    named = _core_contract()
    assert [each for each in named if _adapter(each)] == []


# Issue 8's bound: small modules in the handoff package, adapters included.
MAX_HANDOFF_MODULE_LINES = 300


def test_no_handoff_module_is_over_300_lines() -> None:
    long = {
        str(path.relative_to(ROOT)): lines
        for path in (ROOT / "handoff").rglob("*.py")
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_HANDOFF_MODULE_LINES
    }
    assert long == {}, f"split these modules (lines): {long}"
