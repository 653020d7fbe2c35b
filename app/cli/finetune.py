"""`kura finetune`: export what people approved into a training dataset, train a LoRA adapter on it, and compare
the adapter's drafts with the base model's on the tickets held out. docs/finetune.md walks through the loop."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from app.cli.common import JsonOption, caller_of, choice, console, emit, fail, here, run, shown

finetune_cli = typer.Typer(no_args_is_help=True, help="Teach the model your team's replies: export, train, compare.")


@finetune_cli.command("export")
def export(
    out: Annotated[Path, typer.Option("--out", help="Folder for the dataset.")] = Path("finetune-data"),
    since: Annotated[
        str | None, typer.Option("--since", help="Only what was approved or rated from this date.")
    ] = None,
    min_rating: Annotated[
        str, typer.Option("--min-rating", help="Answers to include: up (rated up) or unrated (also never rated).")
    ] = "up",
    no_redact: Annotated[bool, typer.Option("--no-redact", help="Keep e-mail, phone and card numbers.")] = False,
    min_examples: Annotated[int, typer.Option("--min-examples", help="Refuse below this many examples.")] = 20,
    validation_percent: Annotated[int, typer.Option("--validation-percent", min=1, max=50)] = 10,
    as_json: JsonOption = False,
) -> None:
    """Approved ticket replies (and answers rated up) as a chat dataset: train.jsonl, validation.jsonl, a card."""
    from app.service import MinRating

    rating = choice(min_rating, MinRating, "--min-rating")
    try:
        after = date.fromisoformat(since) if since else None
    except ValueError:
        raise typer.BadParameter("a date like 2026-04-01", param_hint="--since") from None

    def command(kura) -> None:
        folder = here(out)
        card = kura.export_dataset(caller_of(kura), folder, since=after, min_rating=rating, redact=not no_redact,
                                   min_examples=min_examples, validation_percent=validation_percent)  # fmt: skip
        if as_json:
            emit({"out": str(folder), **card.to_json()})
            return
        console.print(f"{card.train} training and {card.validation} validation examples in {shown(str(folder))}")
        console.print(shown(card.to_markdown()))

    run(command)


@finetune_cli.command("train")
def train(
    dataset: Annotated[Path, typer.Argument(help="A folder made by `kura finetune export`.")],
    base: Annotated[Path, typer.Option("--base", help="The base model's folder (e.g. gpt-oss-20b).")],
    out: Annotated[Path, typer.Option("--out", help="Folder for the LoRA adapter.")],
    rank: Annotated[int, typer.Option("--rank", help="LoRA rank.")] = 8,
    experts: Annotated[bool, typer.Option("--experts", help="Also adapt the MoE expert projections.")] = False,
    epochs: Annotated[float, typer.Option("--epochs")] = 1.0,
    max_steps: Annotated[int, typer.Option("--max-steps", help="Stop after this many steps (-1: epochs).")] = -1,
    learning_rate: Annotated[float, typer.Option("--learning-rate")] = 2e-4,
    batch_size: Annotated[int, typer.Option("--batch-size")] = 4,
    cpu: Annotated[bool, typer.Option("--cpu", help="Train on the CPU (tiny models and smoke runs only).")] = False,
    as_json: JsonOption = False,
) -> None:
    """Train a LoRA adapter (needs the finetune extra and, for gpt-oss, a GPU). Runs here, never inside a running
    kura server."""
    from llm.finetune.train import TrainingOptions, train_adapter
    from retrieval import KuraError

    options = TrainingOptions(rank=rank, alpha=2 * rank, experts=experts, epochs=epochs, max_steps=max_steps,
                              learning_rate=learning_rate, batch_size=batch_size, cpu=cpu)  # fmt: skip
    try:
        report = train_adapter(here(dataset), here(base), here(out), options)
    except KuraError as exc:
        raise fail(str(exc)) from None
    if as_json:
        emit(report.to_json())
        return
    first, last = (report.losses[0], report.losses[-1]) if report.losses else (float("nan"),) * 2
    console.print(f"adapter written to {shown(report.adapter)}: {report.examples} examples, {report.steps} steps, "
                  f"{report.seconds:.0f} s, loss {first:.3f} → {last:.3f}")  # fmt: skip
    if report.validation_loss is not None:
        console.print(f"validation loss {report.validation_loss:.3f}")


@finetune_cli.command("eval")
def evaluate(
    dataset: Annotated[Path, typer.Argument(help="The folder `kura finetune export` made.")],
    adapter: Annotated[str, typer.Option("--adapter", help="The adapter's model name on the server.")],
    base: Annotated[str | None, typer.Option("--base", help="The base model's name (KURA_LLM_MODEL).")] = None,
    limit: Annotated[int, typer.Option("--limit", help="At most this many held-out tickets.")] = 50,
    as_json: JsonOption = False,
) -> None:
    """Draft the held-out tickets with the base model and the adapter; compare key-term recall of the approved
    replies, the share of sentences the sources support, and length."""

    def command(kura) -> None:
        models = [base or kura.settings.llm_model, adapter]
        comparison = kura.compare_drafts(caller_of(kura), here(dataset), models, limit)
        if as_json:
            emit(comparison.to_json())
            return
        console.print("model | tickets | recall of approved reply | supported sentences | words | failed")
        for row in comparison.rows:
            console.print(f"{shown(row.model)} | {row.tickets} | {row.recall:.2f} | {row.supported:.2f} | "
                          f"{row.words:.0f} | {row.failed}")  # fmt: skip

    run(command)
