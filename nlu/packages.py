"""Where an installed package's files are, found without importing it (the model packages'
``__init__`` modules import heavy libraries, or configure logging)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from nlu.errors import NluError


def installed_folder(package: str, *, missing: type[NluError], install: str) -> Path:
    """The folder of ``package`` as installed; ``missing`` (saying ``install``, how to
    install it) when it is not installed."""
    spec = importlib.util.find_spec(package)
    folders = list(spec.submodule_search_locations or []) if spec else []
    if not folders:
        raise missing(f"the {package!r} package is not installed ({install})")
    return Path(folders[0])
