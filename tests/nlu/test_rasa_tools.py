"""Rasa's own tools work on the trainers' folder as shipped: `rasa data validate` with the
domain Tandem keeps in step with the data (before nlu/domain.yml it failed: no domain)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from nlu.environment import RasaEnvironment, default_environment_path

REPO = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.rasa]


def test_rasa_data_validate_runs_clean_on_the_shipped_data(tmp_path: Path) -> None:
    environment = RasaEnvironment(default_environment_path())
    if not environment.is_ready():
        pytest.fail(f"Rasa's environment is not set up at {environment.path}: `tandem nlu setup`")
    nlu = REPO / "nlu"
    done = subprocess.run(
        [
            str(environment.rasa),
            "data",
            "validate",
            "--data",
            str(nlu / "data"),
            "--domain",
            str(nlu / "domain.yml"),
            "--config",
            str(nlu / "config.yml"),
        ],
        cwd=tmp_path,  # Rasa writes nothing into the trainers' folder
        env={**os.environ, "RASA_TELEMETRY_ENABLED": "false"},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-3000:]
    # An NLU-only project has no stories: that warning is expected, no other about the data.
    warnings = [line for line in output.splitlines() if "UserWarning" in line]
    assert all("is not used in any story or rule" in line for line in warnings), warnings
