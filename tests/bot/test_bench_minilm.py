"""``tandem bench minilm``: the encoder's CPU per message, fp32 and int8 side by side."""

from __future__ import annotations

import json
import re
from pathlib import Path

from click.testing import CliRunner

from bot.commands.bench import bench

SPLITS = ("train", "val", "oos_train", "oos_val")


def clinc150(tmp_path: Path, queries: int) -> Path:
    val = [[f"how do I change the pin of card number {n}", "change_pin"] for n in range(queries)]
    path = tmp_path / "clinc150.json"
    path.write_text(json.dumps({split: val if split == "val" else [] for split in SPLITS}))
    return path


def test_bench_minilm_reports_both_precisions_and_their_cosine(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        bench, ["minilm", "--data", str(clinc150(tmp_path, 30)), "--texts", "5"]
    )

    assert result.exit_code == 0, result.output
    assert "5 val queries, each encoded alone by each encoder" in result.output
    assert re.search(r"^fp32 +[\d.]+ +[\d.]+ +[\d.]+ +[\d.]+$", result.output, re.MULTILINE)
    assert re.search(r"^int8 +[\d.]+ +[\d.]+ +[\d.]+ +[\d.]+$", result.output, re.MULTILINE)
    cosine = re.search(r"cosine of int8 to fp32: mean ([\d.]+)", result.output)
    assert cosine is not None
    assert float(cosine.group(1)) > 0.98


def test_bench_minilm_says_when_there_are_too_few_queries(tmp_path: Path) -> None:
    result = CliRunner().invoke(bench, ["minilm", "--data", str(clinc150(tmp_path, 20))])

    assert result.exit_code == 1
    assert "fewer than 21 different val queries" in result.output
