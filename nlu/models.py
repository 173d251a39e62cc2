"""Where trained models live, and which one is in use.

The folder holds ``nlu-<timestamp>.tar.gz`` files and a ``current`` pointer naming the one in
use. A model becomes current only after training succeeded, so a failed training run never
replaces the last good model; the running service watches the pointer and loads a new model
into Rasa without a restart.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from nlu.errors import TrainingError

_POINTER = "current"
_LOCK = ".lock"
_PREFIX = "nlu-"
_SUFFIX = ".tar.gz"
_EXAMPLES_SUFFIX = ".examples.json"


class ModelStore:
    """The models folder: install a trained model, find the current one, prune old ones."""

    def __init__(self, directory: Path, *, keep: int = 5) -> None:
        self.directory = directory
        self.keep = max(keep, 1)

    def current(self) -> Path | None:
        """The model in use, or None before the first successful training."""
        name = self._pointer()[0]
        path = self.directory / name
        return path if name and path.is_file() else None

    def current_fingerprint(self) -> str | None:
        """The fingerprint of the data and pipeline the current model was trained from."""
        return self._pointer()[1] if self.current() else None

    def _pointer(self) -> tuple[str, str | None]:
        # Line 1: the model's file name; line 2 (optional): its training fingerprint.
        try:
            lines = (self.directory / _POINTER).read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return "", None
        name = lines[0].strip() if lines else ""
        fingerprint = lines[1].strip() if len(lines) > 1 else None
        return name, fingerprint or None

    def models(self) -> list[Path]:
        """Every stored model, oldest first (names sort by their timestamp)."""
        return sorted(self.directory.glob(f"{_PREFIX}*{_SUFFIX}"))

    @staticmethod
    def new_model_name(now: datetime | None = None) -> str:
        """A sortable, unique-enough name (Rasa appends .tar.gz itself)."""
        now = now or datetime.now(UTC)
        return f"{_PREFIX}{now:%Y%m%d-%H%M%S-%f}"

    @staticmethod
    def examples_file(model: Path) -> Path:
        """Where the examples ``model`` was trained on are kept, beside it (``nlu.snapshots``)."""
        return model.with_name(model.name.removesuffix(_SUFFIX) + _EXAMPLES_SUFFIX)

    @contextmanager
    def training_slot(self) -> Iterator[Path]:
        """An exclusive staging folder: one training run at a time per models folder."""
        self.directory.mkdir(parents=True, exist_ok=True)
        with (self.directory / _LOCK).open("w") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise TrainingError(
                    f"another training run is using {self.directory}; wait for it to finish"
                ) from None
            staging = Path(tempfile.mkdtemp(prefix=".training-", dir=self.directory))
            try:
                yield staging
            finally:
                shutil.rmtree(staging, ignore_errors=True)

    def install(self, trained: Path, *, fingerprint: str | None = None) -> Path:
        """Move a freshly trained model in (with its examples file, if written beside it)
        and make it current (atomically), then prune."""
        target = self.directory / trained.name
        examples = self.examples_file(trained)
        if examples.is_file():  # first: a reader of the new pointer finds the examples there
            shutil.move(examples, self.examples_file(target))
        shutil.move(trained, target)
        pointer = self.directory / _POINTER
        temporary = pointer.with_suffix(".tmp")
        temporary.write_text(f"{target.name}\n{fingerprint or ''}\n", encoding="utf-8")
        os.replace(temporary, pointer)  # readers see the old name or the new, never half
        self.prune()
        return target

    def install_copy(self, model: Path) -> Path:
        """Install a copy of ``model`` (kept where it is) with the examples it was trained
        on, and make it current: a service started on this folder fits its embedding model
        on them, as it would on the original's."""
        self.directory.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".copy-", dir=self.directory))
        try:
            copy = staging / model.name
            shutil.copy2(model, copy)
            examples = self.examples_file(model)
            if examples.is_file():
                shutil.copy2(examples, self.examples_file(copy))
            return self.install(copy)
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    def prune(self) -> list[Path]:
        """Remove the oldest models beyond ``keep``; never the current one."""
        current = self.current()
        removable = [model for model in self.models() if model != current]
        excess = len(removable) - (self.keep - (1 if current else 0))
        removed = removable[: max(excess, 0)]
        for model in removed:
            model.unlink(missing_ok=True)
            self.examples_file(model).unlink(missing_ok=True)
        return removed
