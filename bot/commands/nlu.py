"""``tandem nlu``: set up Rasa, and validate, train, test and try the trainers' NLU data."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import click

from bot.app import nlu_parts, open_nlu
from bot.commands.common import CliContext, echo, explained, fail, pass_cli, run_async
from bot.commands.lessons import learn, review
from nlu.environment import RASA_VERSION, find_python, setup_environment
from nlu.evaluation import evaluate, format_report
from nlu.learned import DOMAIN_FILE, domain_differences
from nlu.project_check import validate_project
from nlu.training import Progress, train_model, training_fingerprint
from nlu.validation import ValidationReport


@click.group(short_help="Set up Rasa; validate, train, test, parse.")
def nlu() -> None:
    """Set up Rasa; validate, train, test and try the NLU model."""


@nlu.command(short_help="Build Rasa's Python 3.10 environment (once).")
@click.option("--python", "python", help="A Python 3.8-3.10 interpreter to build Rasa's env with.")
@click.option("-v", "--verbose", is_flag=True, help="Show pip's whole output.")
@pass_cli
@explained
def setup(cli: CliContext, python: str | None, verbose: bool) -> None:
    """Create Rasa's own Python 3.10 environment (once; a second run does nothing)."""
    parts = nlu_parts(cli.settings)
    if parts.environment.is_ready():
        echo(f"Rasa {RASA_VERSION} is already set up at {parts.environment.path}: nothing to do")
        return
    interpreter = find_python(python or cli.settings.config.nlu.environment.python)
    echo(f"building Rasa {RASA_VERSION}'s environment at {parts.environment.path}")
    echo(f"with {interpreter} (this takes a few minutes the first time)")

    def show(line: str) -> None:
        if verbose or line.startswith(("---", "Successfully installed", "ERROR")):
            echo(line if len(line) < 160 else line[:157] + "...")

    run_async(setup_environment(parts.environment, python=interpreter, on_line=show))
    echo(f"Rasa {RASA_VERSION} is ready at {parts.environment.path}")


@nlu.command()
@pass_cli
@explained
def validate(cli: CliContext) -> None:
    """Check the training data for the mistakes trainers make."""
    report = _validate(cli)
    if not report.ok:
        fail([f"{len(report.errors)} error(s) in the NLU data"])


@nlu.command(short_help="Validate, then train; hot-loaded by the service.")
@click.option(
    "--if-changed", is_flag=True, help="Only if the data or pipeline changed since the last model."
)
@click.option("-v", "--verbose", is_flag=True, help="Show Rasa's whole output.")
@pass_cli
@explained
def train(cli: CliContext, if_changed: bool, verbose: bool) -> None:
    """Validate, then train a model; the running service loads it without a restart."""
    parts = nlu_parts(cli.settings)
    if if_changed and parts.store.current_fingerprint() == training_fingerprint(
        parts.config_file, parts.data_dir
    ):
        echo("the current model was trained from this data and pipeline: nothing to do")
        return
    train_now(cli, verbose=verbose)


def train_now(cli: CliContext, *, verbose: bool = False) -> None:
    """Validate, train, install the model (the running service hot-loads it)."""
    parts = nlu_parts(cli.settings)
    report = _validate(cli, quiet=True)
    if not report.ok:
        fail([f"{len(report.errors)} error(s) in the NLU data; nothing was trained"])
    echo(f"training on {sum(report.intents.values())} examples of {len(report.intents)} intents")

    def progress(step: Progress) -> None:
        total = f"/{step.total}" if step.total else ""
        echo(f"  [{step.step}{total}] {step.message}")

    trained = run_async(
        train_model(
            environment=parts.environment,
            config_file=parts.config_file,
            data_dir=parts.data_dir,
            store=parts.store,
            on_progress=progress,
            on_output=echo if verbose else None,
        )
    )
    echo(f"trained {trained.path.name} in {trained.seconds:.1f} s; it is now the current model")
    echo("a running Tandem service loads it within seconds, without a restart")


@nlu.command(short_help="Accuracy, per-intent P/R/F1, confusions.")
@click.option("--cross-validation", is_flag=True, help="K-fold cross-validation on data/.")
@click.option("--folds", default=5, show_default=True, type=click.IntRange(2, 20))
@click.option(
    "--test-data",
    type=click.Path(path_type=Path, exists=True),
    help="Held-out examples (default: nlu/test_data).",
)
@click.option("-v", "--verbose", is_flag=True, help="Show Rasa's whole output.")
@pass_cli
@explained
def test(
    cli: CliContext, cross_validation: bool, folds: int, test_data: Path | None, verbose: bool
) -> None:
    """Evaluate: accuracy, per-intent precision/recall/F1, most frequent confusions."""
    parts = nlu_parts(cli.settings)
    show = echo if verbose else _quiet
    if cross_validation:
        echo(f"{folds}-fold cross-validation: trains {folds} models, please wait")
        report = run_async(
            evaluate(
                environment=parts.environment,
                on_output=show,
                config_file=parts.config_file,
                train_data=parts.data_dir,
                folds=folds,
            )
        )
    else:
        model = parts.store.current()
        if model is None:
            fail(["no trained model yet: run `tandem nlu train` first"])
        report = run_async(
            evaluate(
                environment=parts.environment,
                on_output=show,
                model=model,
                test_data=test_data or parts.test_data_dir,
            )
        )
    for line in format_report(report):
        echo(line)


@nlu.command(short_help="Show what the NLU sees in a sentence.")
@click.argument("text")
@pass_cli
@explained
def parse(cli: CliContext, text: str) -> None:
    """Show what the NLU sees in TEXT (uses RASA_URL, or starts Rasa for a moment)."""

    async def go() -> None:
        async with open_nlu(cli.settings) as parser:
            result = await parser.parse(text)
        ranking = [{"intent": s.name, "confidence": round(s.confidence, 4)} for s in result.ranking]
        entities = [{"entity": e.entity, "value": e.value} for e in result.entities]
        echo(
            json.dumps(
                {
                    "text": result.text,
                    "ranking": ranking[:5],
                    "similarity": result.similarity,
                    "entities": entities,
                },
                indent=2,
                ensure_ascii=False,
            )
        )

    run_async(go())


@nlu.command(short_help="Parse sentences line by line.")
@pass_cli
@explained
def shell(cli: CliContext) -> None:
    """Type a sentence, see the top intents and entities; an empty line or Ctrl-D ends it.
    Rasa starts once (or RASA_URL is used), so each line answers at once."""

    async def go() -> None:
        async with open_nlu(cli.settings) as parser:
            echo("type a sentence (an empty line or Ctrl-D ends)")
            while line := await asyncio.to_thread(_read_line):
                result = await parser.parse(line)
                guesses = ", ".join(f"{s.name} {s.confidence:.2f}" for s in result.ranking[:3])
                found = " ".join(f"{e.entity}={e.value!r}" for e in result.entities)
                echo(f"  {guesses or 'no intent'}" + (f"   [{found}]" if found else ""))

    run_async(go())


def _read_line() -> str:
    line = sys.stdin.readline()
    return line.strip()


def _validate(cli: CliContext, *, quiet: bool = False) -> ValidationReport:
    parts = nlu_parts(cli.settings)
    report = validate_project(
        parts.data_dir,
        test_dir=parts.test_data_dir,
        domain_file=parts.data_dir.parent / DOMAIN_FILE,
        min_examples=cli.settings.config.nlu.min_examples_per_intent,
    )
    for problem in report.problems:
        if problem.severity == "error" or not quiet:
            echo(problem.format(cli.settings.root))
    for line in domain_differences(parts.data_dir.parent / DOMAIN_FILE, report.intents):
        echo(line)
    examples = sum(report.intents.values())
    if not quiet or not report.ok:
        echo(
            f"{len(report.files)} file(s), {len(report.intents)} intents, {examples} examples: "
            f"{len(report.errors)} error(s), {len(report.warnings)} warning(s)"
        )
    return report


nlu.add_command(review)
nlu.add_command(learn)


def _quiet(line: str) -> None:
    """Rasa's output is hidden unless --verbose; errors come back in the exception."""
