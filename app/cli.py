"""The `kura` command: ingest, search, ask, status. Thin: parsing arguments and printing results only."""

from __future__ import annotations

import getpass
import json
import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from app.services import Kura, parse_groups
from app.settings import Settings
from ingest import IngestProgress, ManifestError
from ingest.documents import without_controls
from llm import Answer, LLMError
from retrieval import StoreError
from retrieval.types import SearchMode

MODES = tuple(SearchMode)

cli = typer.Typer(add_completion=False, no_args_is_help=True, help="kura: private, cited answers from your documents.")
console = Console(stderr=True)

GroupsOption = Annotated[str | None, typer.Option("--groups", help="Comma-separated access groups.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Machine-readable JSON output.")]
SourceOption = Annotated[list[Path] | None, typer.Option("--source", help="Only search this file (repeatable).")]


def shown(text: str) -> str:
    """Document or model text for the terminal: no escape sequences reach it, and `[/red]` is text, not markup."""
    return escape(without_controls(text))


def os_user() -> str:
    """Who runs the CLI, for the audit log: the shell user (whoever can run kura can read KURA_HOME anyway)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return f"uid:{os.getuid()}"


def _emit(data: dict) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def _run(command):
    """Build the services, run the command, and turn known failures into a clear message and exit code 2."""
    kura = Kura(Settings())
    try:
        return command(kura)
    except (StoreError, LLMError, ManifestError, FileNotFoundError) as exc:
        console.print(f"[red]error:[/red] {shown(str(exc))}")
        raise typer.Exit(2) from None
    finally:
        kura.close()


def ingest_status(report) -> int:
    """0: every file ingested or unchanged; 1: some files failed (each listed with why); 2: nothing could be done."""
    if not report.failed:
        return 0
    return 1 if report.added + report.updated + report.unchanged + report.regrouped else 2


def require_documents(kura: Kura) -> None:
    """Before any ingest, a search says so instead of answering "not found" after loading every model. The
    manifest knows whether anything was ingested; no passage is read to find out."""
    _ = kura.store  # a store in use by another process is the first thing to say
    if not any(record.status == "ingested" for record in kura.manifest.all()):
        console.print(
            "[yellow]the index is empty[/yellow] — run `kura ingest FOLDER` first (or `make run`, which "
            "ingests the samples), then ask again"
        )
        raise typer.Exit(2)


def progress_numbers(now: IngestProgress) -> str:
    failed = f" · {now.failed} failed" if now.failed else ""
    return (
        f"{now.chunks} chunks · {now.files_per_s:.1f} files/s · {now.chunks_per_s:.1f} chunks/s"
        f" · ETA {now.eta_clock}{failed}"
    )


@cli.command()
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

    def command(kura: Kura) -> None:
        doc_groups = parse_groups(groups, kura.settings.default_groups)

        def run(progress=None):
            report = kura.ingestor.ingest(
                paths, groups=doc_groups, delete_missing=not no_delete, progress=progress, allow_widening=allow_widening
            )
            kura.audit.record(
                os_user(),
                "ingest",
                via="cli",
                paths=[str(p) for p in paths],
                groups=list(doc_groups),
                allow_widening=allow_widening,
                report=report.to_json(),
            )
            return report

        if as_json:
            report = run()
            _emit(report.to_json())
            raise typer.Exit(ingest_status(report))
        columns = (
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[numbers]}"),
        )
        with Progress(*columns, console=console) as bar:
            task = bar.add_task("ingesting", total=None, numbers="")

            def progress(now: IngestProgress) -> None:
                bar.update(
                    task,
                    completed=now.files_done,
                    total=now.files_total,
                    description=Path(now.current).name[:40] or "done",
                    numbers=progress_numbers(now),
                )

            report = run(progress)
        console.print(
            f"added {report.added}, updated {report.updated}, unchanged {report.unchanged} "
            f"({report.regrouped} with new access groups), "
            f"deleted {report.deleted}, failed {len(report.failed)}; {report.chunks} chunks "
            f"({report.reused} with text already indexed, not embedded again) in {report.seconds:.1f}s"
        )
        if report.repaired:
            console.print(
                f"  [cyan]repaired[/cyan] {report.repaired} document(s) the store had lost were indexed again"
            )
        for failure in report.failed:
            console.print(f"  [yellow]failed[/yellow] {shown(failure['path'])}: {shown(failure['error'])}")
        for twin in report.duplicates:
            console.print(
                f"  [cyan]duplicate[/cyan] {shown(twin['path'])} has the same content as {shown(twin['same_as'])}"
            )
        for held in report.held:
            console.print(
                f"  [yellow]kept narrower[/yellow] {shown(held['path'])}: stays readable by "
                f"{', '.join(held['groups']) or 'nobody'}, not {', '.join(held['wanted'])}; "
                "re-run with --allow-widening to apply the wider groups"
            )
        for skipped in report.skipped:
            console.print(f"  [yellow]skipped[/yellow] {shown(skipped['path'])}: {skipped['reason']}")
        for warning in report.warnings:
            console.print(f"  [yellow]warning[/yellow] {shown(warning['path'])}: {warning['warning']}")
        raise typer.Exit(ingest_status(report))

    _run(command)


@cli.command()
def watch(
    folder: Annotated[Path, typer.Argument(help="The folder to keep in sync.")],
    groups: GroupsOption = None,
    quiet: Annotated[float, typer.Option("--quiet", help="Seconds without changes before syncing.")] = 2.0,
) -> None:
    """Ingest a folder, then keep the index in sync with it until interrupted (Ctrl-C)."""
    from ingest.watch import FolderWatcher

    if not folder.is_dir():
        raise typer.BadParameter(f"{folder} is not a folder", param_hint="FOLDER")

    def command(kura: Kura) -> None:
        doc_groups = parse_groups(groups, kura.settings.default_groups)

        def sync():
            report = kura.ingestor.ingest([folder], groups=doc_groups)
            kura.audit.record(
                os_user(),
                "ingest",
                via="cli-watch",
                paths=[str(folder)],
                groups=list(doc_groups),
                report=report.to_json(),
            )
            return report

        def show(report) -> None:
            _emit({"event": "synced", **report.to_json()})

        def failed(exc: Exception) -> None:
            _emit({"event": "error", "error": str(exc)})
            console.print(f"[red]sync failed:[/red] {shown(str(exc))}")

        show(sync())
        with FolderWatcher(folder, sync, quiet, on_report=show, on_error=failed) as watcher:
            console.print(f"watching {shown(str(folder.resolve()))} (Ctrl-C to stop)")
            try:
                watcher.stopped.wait()
            except KeyboardInterrupt:
                pass
        if watcher.failed is not None:
            raise watcher.failed  # the store is gone: exit non-zero

    _run(command)


@cli.command()
def search(
    query: str,
    k: Annotated[int, typer.Option("--k", help="How many passages.")] = 10,
    mode: Annotated[str, typer.Option("--mode", help="hybrid, rrf, dense or sparse.")] = "hybrid",
    groups: GroupsOption = None,
    source: SourceOption = None,
    as_json: JsonOption = False,
) -> None:
    """Find passages (no model involved)."""
    if mode not in MODES:
        raise typer.BadParameter(f"mode must be one of {', '.join(MODES)}", param_hint="--mode")

    def command(kura: Kura) -> None:
        require_documents(kura)
        hits = kura.retriever.search(query, kura.scope(groups, source), k=k, mode=mode)
        kura.audit.record(
            os_user(),
            "search",
            via="cli",
            query=query,
            mode=mode,
            groups=list(kura.scope(groups).groups),
            chunk_ids=[h.chunk.chunk_id for h in hits],
        )
        if as_json:
            _emit({"results": [h.to_json() for h in hits]})
            return
        for rank, hit in enumerate(hits, 1):
            where = f"p.{hit.chunk.page}" if hit.chunk.page else hit.chunk.heading
            console.print(
                f"[bold]{rank}.[/bold] {shown(hit.chunk.source)} [dim]{shown(where or '')}[/dim]  score {hit.score:.3f}"
            )
            console.print("   " + shown(hit.chunk.text[:300].replace("\n", " ")))

    _run(command)


def _print_answer(answer: Answer) -> None:
    if answer.error:
        console.print(f"[red]model error:[/red] {shown(answer.error)}")
    for warning in answer.warnings:
        console.print(f"[yellow]note:[/yellow] {shown(warning)}")
    print_claims(answer.claims)
    if answer.citations:
        console.print("\n[bold]Sources[/bold] (quoted evidence — trust these over the generated text):")
        for c in answer.citations:
            where = f"page {c.page}" if c.page else c.heading
            console.print(f" \\[{c.n}] {shown(c.source)} [dim]{shown(where or '')}[/dim]\n     “{shown(c.quote)}”")


def print_claims(claims) -> None:
    """How many sentences the documents support, and each one they do not, with why."""
    if not claims:
        return
    supported = sum(c.supported for c in claims)
    colour = "green" if supported == len(claims) else "yellow"
    console.print(f"[{colour}]{supported} of {len(claims)} sentences supported by your documents[/{colour}]")
    for claim in claims:
        if not claim.supported:
            console.print(f"  [red]✗ not supported[/red] “{shown(claim.text)}” — {shown(claim.reason)}")


@cli.command()
def ask(
    question: Annotated[str | None, typer.Argument(help="The question (or use --batch).")] = None,
    backend: Annotated[str | None, typer.Option("--backend", help="extractive, local or openai.")] = None,
    batch: Annotated[str | None, typer.Option("--batch", help="File with one question per line, or -.")] = None,
    effort: Annotated[str | None, typer.Option("--effort", help="Reasoning effort: low, medium or high.")] = None,
    groups: GroupsOption = None,
    source: SourceOption = None,
    as_json: JsonOption = False,
) -> None:
    """Answer a question from the documents, with cited quotes."""
    if backend not in (None, "extractive", "local", "openai"):
        raise typer.BadParameter("backend must be extractive, local or openai", param_hint="--backend")
    if effort not in (None, "low", "medium", "high"):
        raise typer.BadParameter("effort must be low, medium or high", param_hint="--effort")
    if (question is None) == (batch is None):
        raise typer.BadParameter("give a QUESTION or --batch FILE|-, not both")

    def command(kura: Kura) -> None:
        require_documents(kura)
        answerer = kura.answerer(backend)
        scope = kura.scope(groups, source)
        show = kura.settings.show_reasoning

        def audited(asked: str, answer: Answer) -> Answer:
            kura.audit.record(
                os_user(),
                "ask",
                via="cli",
                question=asked,
                backend=answer.backend,
                groups=list(scope.groups),
                abstained=answer.abstained,
                chunk_ids=[c.chunk_id for c in answer.citations],
            )
            return answer

        if batch is not None:
            lines = sys.stdin if batch == "-" else Path(batch).open(encoding="utf-8")
            for asked in (line.strip() for line in lines):
                if not asked:
                    continue
                answer = audited(asked, answerer.ask(asked, scope, reasoning_effort=effort))
                if as_json:  # each line says which question it answers
                    _emit({"question": asked, **answer.to_json(show)})
                else:
                    console.print(f"\n[bold]Q: {shown(asked)}[/bold]")
                    sys.stdout.write(without_controls(answer.answer) + "\n")
                    sys.stdout.flush()
                    _print_answer(answer)
            return
        if as_json:
            _emit(audited(question, answerer.ask(question, scope, reasoning_effort=effort)).to_json(show))
            return
        for event in answerer.stream(question, scope, reasoning_effort=effort):
            if isinstance(event, Answer):
                sys.stdout.write("\n")
                _print_answer(audited(question, event))
            else:
                sys.stdout.write(without_controls(event))
                sys.stdout.flush()

    _run(command)


@cli.command()
def status(as_json: JsonOption = False) -> None:
    """Which store, embedder and model are configured, and whether each answers. Exit status 1 when a part is down."""

    def command(kura: Kura) -> None:
        from app.health import check_health

        data = check_health(kura)
        if as_json:
            _emit(data)
        else:
            console.print(f"documents {data['documents']}, chunks {data['chunks']}, collection {data['collection']}")
            for part, state in data["health"].items():
                console.print(
                    f"  {part}: {'[green]ok[/green]' if state['ok'] else '[red]down[/red]'} {shown(state['detail'])}"
                )
        if not all(state["ok"] for state in data["health"].values()):
            raise typer.Exit(1)

    _run(command)


@cli.command()
def draft(
    ticket_file: Annotated[
        str, typer.Argument(help="Ticket as plain text (Subject:/Customer: lines optional) or .eml; - for stdin.")
    ],
    backend: Annotated[str | None, typer.Option("--backend", help="extractive, local or openai.")] = None,
    style: Annotated[Path | None, typer.Option("--style", help="House-style TOML file.")] = None,
    effort: Annotated[str, typer.Option("--effort", help="Reasoning effort: low, medium or high.")] = "medium",
    groups: GroupsOption = None,
    as_json: JsonOption = False,
) -> None:
    """Draft a reply to a support ticket from the knowledge base, with notes for the agent."""
    from llm.draft import Ticket

    if backend not in (None, "extractive", "local", "openai"):
        raise typer.BadParameter("backend must be extractive, local or openai", param_hint="--backend")
    ticket = Ticket.from_text(sys.stdin.read()) if ticket_file == "-" else Ticket.from_file(Path(ticket_file))

    def command(kura: Kura) -> None:
        scope = kura.scope(groups)
        result = kura.drafter(backend, style).draft(ticket, scope, reasoning_effort=effort)
        kura.audit.record(
            os_user(),
            "draft",
            via="cli",
            subject=ticket.subject,
            backend=result.backend,
            groups=list(scope.groups),
            abstained=result.abstained,
            chunk_ids=[c.chunk_id for c in result.citations],
        )
        if as_json:
            _emit(result.to_json())
            return
        sys.stdout.write(without_controls(result.reply) + "\n")
        print_claims(result.claims)
        console.print("\n[bold]Internal notes[/bold] (not for the customer):")
        for note in result.internal_notes:
            console.print(f" • {shown(note)}")

    _run(command)


eval_cli = typer.Typer(no_args_is_help=True, help="Measure retrieval and answer quality.")
cli.add_typer(eval_cli, name="eval")


@eval_cli.command("retrieval")
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
    from retrieval.evaluate import BeirDataset, evaluate_retrieval, write_trec_run

    modes = ["dense", "sparse", "rrf", "hybrid"] if mode == "all" else [mode]
    if any(m not in MODES for m in modes):
        raise typer.BadParameter(f"mode must be one of {', '.join(MODES)}, or all", param_hint="--mode")

    def command(kura: Kura) -> None:
        dataset = BeirDataset.load(dataset_dir, qrels)
        kura.audit.record(os_user(), "eval_retrieval", via="cli", dataset=str(dataset_dir), modes=modes)
        retriever = kura.eval_retriever(dataset)
        for name in modes:
            report, run = evaluate_retrieval(retriever, dataset, name, k)
            if run_file:
                write_trec_run(run, run_file if len(modes) == 1 else run_file.with_suffix(f".{name}{run_file.suffix}"))
            if as_json:
                _emit(report.to_json())
            else:
                metrics = "  ".join(f"{metric} {value:.4f}" for metric, value in report.metrics.items())
                console.print(
                    f"{dataset.name} {name:6} ({report.queries} queries)  {metrics}  "
                    f"latency p50 {report.latency_ms['p50']} ms p95 {report.latency_ms['p95']} ms"
                )

    _run(command)


@eval_cli.command("qa")
def eval_qa(
    gold_file: Annotated[Path, typer.Argument(help='JSON lines: {"question", "expected_source", "facts": [...]}')],
    k: Annotated[int, typer.Option("--k", help="The expected source must be among the first k passages.")] = 5,
    backend: Annotated[str | None, typer.Option("--backend", help="extractive, local or openai.")] = None,
    groups: GroupsOption = None,
    as_json: JsonOption = False,
) -> None:
    """Gold questions through the whole answer path: hit@k of the expected source, fact recall, abstention."""

    def command(kura: Kura) -> None:
        try:
            summary, previous = kura.eval_qa(gold_file, kura.scope(groups), k, backend)
            kura.audit.record(
                os_user(),
                "eval_qa",
                via="cli",
                gold=str(gold_file),
                groups=list(kura.scope(groups).groups),
                questions=summary["questions"],
            )
        except ValueError as exc:
            console.print(f"[red]error:[/red] {exc}")
            raise typer.Exit(2) from None
        if as_json:
            _emit({**summary, "previous": {m: v for m, v in (previous or {}).items() if m != "results"} or None})
            return
        metrics = (
            "hit@" + str(k),
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

    _run(command)


users_cli = typer.Typer(
    no_args_is_help=True, help="Local users of the web app (bcrypt hashes in KURA_HOME/users.json)."
)
cli.add_typer(users_cli, name="users")


@users_cli.command("add")
def users_add(
    name: Annotated[str, typer.Argument(help="User name (letters, digits, . _ - @).")],
    groups: Annotated[str, typer.Option("--groups", help="Comma-separated access groups.")] = "",
    admin: Annotated[bool, typer.Option("--admin", help="Also add the first KURA_ADMIN_GROUPS group.")] = False,
    language: Annotated[str | None, typer.Option("--language", help="en or ja; default follows the browser.")] = None,
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="Read the password from stdin.")] = False,
) -> None:
    """Add a user, or replace one's password and groups. The password is asked for, never taken as an argument."""
    settings = Settings()
    password = (
        sys.stdin.readline().rstrip("\n")
        if password_stdin
        else typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    )
    member_of = parse_groups(groups, settings.default_groups) if groups else tuple(settings.default_groups)
    if admin:
        member_of = tuple(dict.fromkeys([*member_of, settings.admin_groups[0]]))
    try:
        user = Kura(settings).users.add(name, password, member_of, language)
    except ValueError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
    console.print(f"user {user.name}: groups {', '.join(user.groups)}{' (admin)' if user.admin else ''}")


@users_cli.command("remove")
def users_remove(name: Annotated[str, typer.Argument()]) -> None:
    """Remove a user; they can no longer sign in."""
    if not Kura(Settings()).users.remove(name):
        console.print(f"[red]error:[/red] no user {name!r}")
        raise typer.Exit(2)


@users_cli.command("list")
def users_list() -> None:
    for name in Kura(Settings()).users.names():
        sys.stdout.write(name + "\n")


@cli.command()
def audit(
    user: Annotated[str | None, typer.Option("--user", help="Only this user's entries.")] = None,
    action: Annotated[str | None, typer.Option("--action", help="Only this action (ask, draft, approve, ...).")] = None,
    limit: Annotated[int, typer.Option("--limit")] = 50,
) -> None:
    """Print the audit log as JSON lines, newest first."""
    for entry in Kura(Settings()).audit.read(limit, user=user, action=action):
        _emit(entry)


@cli.command("app")
def serve_app(
    port: Annotated[int, typer.Option("--port", help="Port on localhost.")] = 8501,
    address: Annotated[str, typer.Option("--address", help="Interface to listen on.")] = "localhost",
) -> None:
    """Serve the web app (Streamlit), with usage statistics off and no browser opened."""
    settings = Settings()
    if settings.single_user and address not in ("localhost", "127.0.0.1", "::1"):
        console.print(
            "[red]error:[/red] single-user mode has no login, so it only serves on localhost. "
            "Add users with `kura users add` and unset KURA_SINGLE_USER to serve on a network."
        )
        raise typer.Exit(2)

    main_page = Path(__file__).with_name("main.py")
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(main_page),
        "--server.port",
        str(port),
        "--server.address",
        address,
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
        "--server.fileWatcherType",
        "none",
        "--client.toolbarMode",
        "minimal",
        "--server.maxUploadSize",
        str(settings.upload_max_mb),
    ]
    os.execv(sys.executable, command)  # Streamlit replaces this process: signals (stop, Ctrl-C) reach it directly


def main() -> None:
    from pydantic import ValidationError
    from pydantic_settings import SettingsError

    try:
        cli()
    except (SettingsError, ValidationError) as exc:  # a bad KURA_* variable or .env line: say which, not a traceback
        console.print(
            f"[red]error:[/red] a KURA_ setting is invalid: {exc}. Fix that environment "
            "variable or .env line (groups are comma-separated: KURA_DEFAULT_GROUPS=staff,hr)."
        )
        sys.exit(2)
