"""The privacy settings (one clear line per mistake) and `tandem bench pii`."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import cli
from bot.errors import ConfigError
from bot.settings import load_settings, privacy_scanner
from tests.bot.test_settings import clean_environment, write_config

# An empty project folder, none of Tandem's variables set (autouse there, and so here).
__all__ = ["clean_environment"]


def test_an_operator_pattern_in_the_file_is_used(clean_environment: Path) -> None:
    path = write_config(
        clean_environment,
        "privacy:\n  patterns:\n"
        "    - {kind: account_number, regex: 'ACC-(\\d{8})', checksum: luhn}\n",
    )
    scanner = privacy_scanner(load_settings(path).config.privacy)
    assert [f.kind for f in scanner.find("ACC-12345674")] == ["account_number"]


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("privacy:\n  kinds: [email, dna]\n", "tandem.yml:2: privacy.kinds: unknown dna"),
        ("privacy:\n  default_region: Mars\n", "tandem.yml:2: privacy.default_region: 'Mars'"),
        (
            "privacy:\n  patterns:\n    - {kind: order, regex: '(', checksum: null}\n",
            "privacy.patterns: order: bad regex",
        ),
        ("privacy:\n  retention_days: 0\n", "privacy.retention_days: expected a number of at"),
        ("privacy:\n  slack: hidden\n", "privacy.slack: expected 'masked' or 'original'"),
    ],
)
def test_a_bad_privacy_setting_is_one_line(clean_environment: Path, text: str, line: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(write_config(clean_environment, text))
    assert len(caught.value.lines) == 1
    assert line in caught.value.lines[0]


def test_bench_pii_prints_precision_and_recall_per_kind(clean_environment: Path) -> None:
    data = clean_environment / "set.jsonl"
    data.write_text(
        '{"text": "card 4111 1111 1111 1111", "spans": [{"start": 5, "end": 24, "kind": "card"}]}\n'
        '{"text": "mail a@b.io", "spans": [{"start": 5, "end": 11, "kind": "email"}]}\n'
        '{"text": "order 48213", "spans": []}\n',
        encoding="utf-8",
    )
    result = CliRunner().invoke(cli, ["bench", "pii", "--data", str(data), "--misses"])
    assert result.exit_code == 0, result.output
    rows = {line.split()[0]: line.split() for line in result.output.splitlines() if line}
    assert rows["card"][1:5] == ["1", "1", "1.000", "1.000"]
    assert rows["email"][1:5] == ["1", "1", "1.000", "1.000"]
    assert "3 messages" in result.output


def test_bench_pii_on_a_malformed_file_is_one_line(clean_environment: Path) -> None:
    data = clean_environment / "set.jsonl"
    data.write_text("not json\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["bench", "pii", "--data", str(data)])
    assert result.exit_code == 1
    assert "set.jsonl:1: expected text and spans" in result.output
