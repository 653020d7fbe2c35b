"""`kura ingest`, `kura watch`, `kura status` and `kura eval`: the commands that build, watch and measure the
library. Exit codes say how a batch went, so scripts and cron jobs can act on them."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Annotated

import typer

from app.cli.common import (
    BackendOption,
    GroupsOption,
    JsonOption,
    caller_of,
    choice,
    console,
    emit,
    here,
    run,
    shown,
)
from llm import BackendName
from retrieval import SearchMode


def ingest_status(report) -> int:
    """0: every file ingested or unchanged; 1: some files failed (each listed with why); 2: nothing could be done."""
    if not report.failed:
        return 0
    return 1 if report.added + report.updated + report.unchanged + report.regrouped else 2


def progress_numbers(now) -> str:
    failed = f" · {now.failed} failed" if now.failed else ""
    return (
        f"{now.chunks} chunks · {now.files_per_s:.1f} files/s · {now.chunks_per_s:.1f} chunks/s"
        f" · ETA {now.eta_clock}{failed}"
    )


def print_report(report) -> None:
    console.print(
        f"added {report.added}, updated {report.updated}, unchanged {report.unchanged} "
        f"({report.regrouped} with new access groups), "
        f"deleted {report.deleted}, failed {len(report.failed)}; {report.chunks} chunks "
        f"({report.reused} with text already indexed, not embedded again) in {report.seconds:.1f}s"
    )
    if report.repaired:
        console.print(f"  [cyan]repaired[/cyan] {report.repaired} document(s) the store had lost were indexed again")
    for failure in report.failed:
        console.print(f"  [yellow]failed[/yellow] {shown(failure.path)}: {shown(failure.error)}")
    for twin in report.duplicates:
        console.print(f"  [cyan]duplicate[/cyan] {shown(twin.path)} has the same content as {shown(twin.same_as)}")
    for held in report.held:
        console.print(
            f"  [yellow]kept narrower[/yellow] {shown(held.path)}: stays readable by "
            f"{', '.join(held.groups) or 'nobody'}, not {', '.join(held.wanted)}; "
            "re-run with --allow-widening to apply the wider groups"
        )
    for skipped in report.skipped:
        console.print(f"  [yellow]skipped[/yellow] {shown(skipped.path)}: {skipped.reason}")
    for warning in report.warnings:
        console.print(f"  [yellow]warning[/yellow] {shown(warning.path)}: {warning.warning}")


def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Files or folders to ingest.")],
    groups: GroupsOption = None,
    no_delete: Annotated[bool, typer.Option("--no-delete", help="Keep documents gone from the folders.")] = False,
    allow_widening: Annotated[
        bool,
        typer.Option(
            "--allow-widening", help="Let documents already indexed become readable by more groups (audited)."
        ),
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Parse, chunk, embed and index files; unchanged files are skipped, vanished ones removed.

    Access groups: the nearest .kura-acl file above a file wins (searched up to the library root), then its POSIX
    group (KURA_POSIX_GROUPS=true), then --groups, then KURA_DEFAULT_GROUPS. A document already indexed never
    becomes readable by more groups without --allow-widening.

    Exit status: 0 every file ingested or unchanged, 1 some files failed (each listed with why), 2 nothing could
    be done (no such path, every file failed, or the store is unavailable)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    def command(kura) -> None:
        caller, typed = caller_of(kura, groups), [here(p) for p in paths]
        options = dict(groups=kura.groups(groups), delete_missing=not no_delete, allow_widening=allow_widening)
        if as_json:
            report = kura.ingest(caller, typed, **options)
            emit(report.to_json())
            raise typer.Exit(ingest_status(report))
        columns = (
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[numbers]}"),
        )
        with Progress(*columns, console=console) as bar:
            task = bar.add_task("ingesting", total=None, numbers="")

            def progress(now) -> None:
                name = Path(now.current).name[:40] or "done"
                bar.update(
                    task,
                    completed=now.files_done,
                    total=now.files_total,
                    description=name,
                    numbers=progress_numbers(now),
                )

            report = kura.ingest(caller, typed, progress=progress, **options)
        print_report(report)
        raise typer.Exit(ingest_status(report))

    run(command)


def watch(
    folder: Annotated[Path, typer.Argument(help="The folder to keep in sync.")],
    groups: GroupsOption = None,
    quiet: Annotated[float, typer.Option("--quiet", help="Seconds without changes before syncing.")] = 2.0,
) -> None:
    """Ingest a folder, then keep the index in sync with it until interrupted (Ctrl-C)."""
    from ingest.watch import FolderWatcher

    folder = here(folder)
    if not folder.is_dir():
        raise typer.BadParameter(f"{folder} is not a folder", param_hint="FOLDER")

    def command(kura) -> None:
        caller = caller_of(kura, groups)

        def sync():
            return kura.ingest(caller, [folder], groups=kura.groups(groups))

        def show(report) -> None:
            emit({"event": "synced", **report.to_json()})

        def failed(exc: Exception) -> None:
            emit({"event": "error", "error": str(exc)})
            console.print(f"[red]sync failed:[/red] {shown(str(exc))}")

        show(sync())
        with FolderWatcher(folder, sync, quiet, on_report=show, on_error=failed) as watcher:
            console.print(f"watching {shown(str(folder.resolve()))} (Ctrl-C to stop)")
            with contextlib.suppress(KeyboardInterrupt):
                watcher.stopped.wait()
        if watcher.failed is not None:
            raise watcher.failed  # the store is gone: exit non-zero

    run(command)


def status(as_json: JsonOption = False) -> None:
    """Which store, embedder and model are configured, and whether each answers. Exit status 1 when a part is down."""

    def command(kura) -> None:
        data = kura.status(caller_of(kura))
        if as_json:
            emit(data)
        else:
            console.print(f"documents {data['documents']}, chunks {data['chunks']}, collection {data['collection']}")
            for part, state in data["health"].items():
                console.print(
                    f"  {part}: {'[green]ok[/green]' if state['ok'] else '[red]down[/red]'} {shown(state['detail'])}"
                )
            for use, model in (data["uses"] or {}).items():
                console.print(f"  {use} → {shown(model)}")
        if not all(state["ok"] for state in data["health"].values()):
            raise typer.Exit(1)

    run(command)


def upgrade() -> None:
    """Make the second stage's vectors (KURA_SECOND_STAGE_MODEL) for every passage now. The app makes them in the
    background while it runs; until they are complete, passages without one keep the first stage's order."""

    def command(kura) -> None:
        made, done, total = kura.upgrade_index(caller_of(kura))
        console.print(
            f"{made} vectors made; {done} of {total} passages are re-ordered by {kura.strong_embedder.model_id}"
        )

    run(command)


def eval_retrieval(
    dataset_dir: Annotated[
        Path, typer.Argument(help="BEIR-format folder: corpus.jsonl, queries.jsonl, qrels/test.tsv")
    ],
    mode: Annotated[str, typer.Option("--mode", help="hybrid, rrf, dense, sparse, or all.")] = "hybrid",
    k: Annotated[int, typer.Option("--k", help="Cut-off for nDCG, Recall and MRR (Recall@100 always).")] = 10,
    run_file: Annotated[Path | None, typer.Option("--run-file", help="Write a TREC run file.")] = None,
    qrels: Annotated[
        Path | None,
        typer.Option(
            "--qrels", help="Judgements (query-id, corpus-id, score TSV) instead of the folder's qrels/test.tsv."
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Index a BEIR dataset into a cached throwaway store and report nDCG, Recall, MRR and latency."""
    from retrieval.evaluate import BeirDataset, write_trec_run

    every = [SearchMode.DENSE, SearchMode.SPARSE, SearchMode.RRF, SearchMode.HYBRID]
    modes = every if mode == "all" else [choice(mode, SearchMode, "--mode")]

    def command(kura) -> None:
        dataset = BeirDataset.load(here(dataset_dir), qrels and here(qrels))
        for report, ranking in kura.eval_retrieval(caller_of(kura), dataset, modes, k):
            if run_file:
                one = len(modes) == 1
                target = here(run_file)
                write_trec_run(ranking, target if one else target.with_suffix(f".{report.mode}{target.suffix}"))
            if as_json:
                emit(report.to_json())
            else:
                metrics = "  ".join(f"{metric} {value:.4f}" for metric, value in report.metrics.items())
                console.print(
                    f"{dataset.name} {report.mode:6} ({report.queries} queries)  {metrics}  "
                    f"latency p50 {report.latency_ms['p50']} ms p95 {report.latency_ms['p95']} ms"
                )

    run(command)


def eval_qa(
    gold_file: Annotated[Path, typer.Argument(help='JSON lines: {"question", "expected_source", "facts": [...]}')],
    k: Annotated[int, typer.Option("--k", help="The expected source must be among the first k passages.")] = 5,
    backend: BackendOption = None,
    groups: GroupsOption = None,
    as_json: JsonOption = False,
) -> None:
    """Gold questions through the whole answer path: hit@k of the expected source, fact recall, abstention."""
    chosen_backend = choice(backend, BackendName, "--backend")

    def command(kura) -> None:
        text = here(gold_file).read_text(encoding="utf-8")
        summary, previous = kura.eval_qa(caller_of(kura, groups), str(gold_file), text, k=k, backend=chosen_backend)
        if as_json:
            emit({**summary, "previous": {m: v for m, v in (previous or {}).items() if m != "results"} or None})
            return
        metrics = (
            f"hit@{k}",
            "cited",
            "fact_recall",
            "answer_fact_recall",
            "grounded",
            "abstention_precision",
            "abstention_recall",
        )
        console.print(f"{summary['gold']}: {summary['questions']} questions, backend {summary['backend']}")
        for metric in metrics:
            before = f" (previous run {previous[metric]})" if previous and previous.get(metric) is not None else ""
            console.print(f"  {metric:22} {summary[metric]}{before}")

    run(command)
