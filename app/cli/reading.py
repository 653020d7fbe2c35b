"""`kura search`, `kura ask` and `kura draft`: the commands that read the library. They parse arguments, call the
service as the shell user, and print; document and model text is printed through shown(), never as markup."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from app.cli.common import (
    BackendOption,
    GroupsOption,
    JsonOption,
    SourceOption,
    caller_of,
    choice,
    console,
    emit,
    here,
    run,
    shown,
)
from ingest.documents import without_controls
from llm import BackendName, Effort
from llm.notes import Note
from retrieval import SearchMode

EffortOption = Annotated[str | None, typer.Option("--effort", help="Reasoning effort: low, medium or high.")]


def require_documents(kura) -> None:
    """Before any ingest, a search says so instead of answering "not found" after loading every model. The
    manifest knows whether anything was ingested; no passage is read to find out."""
    _ = kura.store  # a store in use by another process is the first thing to say
    if not any(record.status == "ingested" for record in kura.manifest.all()):
        console.print(
            "[yellow]the index is empty[/yellow] — run `kura ingest FOLDER` first (or `make run`, which "
            "ingests the samples), then ask again"
        )
        raise typer.Exit(2)


def search(
    query: str,
    k: Annotated[int, typer.Option("--k", help="How many passages.")] = 10,
    mode: Annotated[str, typer.Option("--mode", help="hybrid, rrf, dense or sparse.")] = "hybrid",
    groups: GroupsOption = None,
    source: SourceOption = None,
    as_json: JsonOption = False,
) -> None:
    """Find passages (no model involved)."""
    chosen = choice(mode, SearchMode, "--mode")

    def command(kura) -> None:
        require_documents(kura)
        hits = kura.search(caller_of(kura, groups), query, k=k, mode=chosen, sources=[here(p) for p in source or ()])
        if as_json:
            emit({"results": [h.to_json() for h in hits]})
            return
        if not hits:
            waiting = kura.awaiting_reembedding()
            console.print("Nothing found." + (f" {Note('awaiting_reembedding', count=waiting)}" if waiting else ""))
        for rank, hit in enumerate(hits, 1):
            where = f"p.{hit.chunk.page}" if hit.chunk.page else hit.chunk.heading
            console.print(
                f"[bold]{rank}.[/bold] {shown(hit.chunk.source)} [dim]{shown(where or '')}[/dim]  score {hit.score:.3f}"
            )
            console.print("   " + shown(hit.chunk.text[:300].replace("\n", " ")))

    run(command)


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


def print_answer(answer) -> None:
    """What comes after the answer text: errors, notes, the claim check and the quoted sources."""
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


def write(text: str) -> None:
    sys.stdout.write(without_controls(text))
    sys.stdout.flush()


def ask(
    question: Annotated[str | None, typer.Argument(help="The question (or use --batch).")] = None,
    backend: BackendOption = None,
    batch: Annotated[str | None, typer.Option("--batch", help="File with one question per line, or -.")] = None,
    effort: EffortOption = None,
    groups: GroupsOption = None,
    source: SourceOption = None,
    as_json: JsonOption = False,
) -> None:
    """Answer a question from the documents, with cited quotes. If the model cannot start, the answer quotes the
    passages instead and says why."""
    chosen_backend = choice(backend, BackendName, "--backend")
    chosen_effort = choice(effort, Effort, "--effort")
    if (question is None) == (batch is None):
        raise typer.BadParameter("give a QUESTION or --batch FILE|-, not both")

    def command(kura) -> None:
        require_documents(kura)
        caller = caller_of(kura, groups)
        show_reasoning = kura.settings.show_reasoning

        def asking(asked: str, stream: bool):
            answering = kura.ask(
                caller,
                asked,
                backend=chosen_backend,
                effort=chosen_effort,
                sources=[here(p) for p in source or ()],
                stream=stream,
            )
            if answering.notice:
                console.print(f"[yellow]the model is unavailable:[/yellow] {shown(answering.notice)}")
            return answering.response

        if batch is None and not as_json:
            response = asking(question, stream=True)
            streamed = "".join(write(text) or text for text in response)
            answer = response.result()
            if answer.answer.strip() != streamed.strip():  # sources renumbered, a loop cut, sentences dropped
                console.print("\n[dim]as checked:[/dim]")
                write(answer.answer)
            write("\n")
            print_answer(answer)
            return
        lines = (
            [question] if batch is None else sys.stdin if batch == "-" else here(batch).read_text("utf-8").splitlines()
        )
        for asked in (line.strip() for line in lines):
            if not asked:
                continue
            answer = asking(asked, stream=False).result()
            if as_json and batch is None:
                emit(answer.to_json(show_reasoning))
            elif as_json:  # each line of a batch says which question it answers
                emit({"question": asked, **answer.to_json(show_reasoning)})
            else:
                console.print(f"\n[bold]Q: {shown(asked)}[/bold]")
                write(answer.answer + "\n")
                print_answer(answer)

    run(command)


def draft(
    ticket_file: Annotated[
        str, typer.Argument(help="Ticket as plain text (Subject:/Customer: lines optional) or .eml; - for stdin.")
    ],
    backend: BackendOption = None,
    style: Annotated[Path | None, typer.Option("--style", help="House-style TOML file.")] = None,
    effort: EffortOption = "medium",
    groups: GroupsOption = None,
    as_json: JsonOption = False,
) -> None:
    """Draft a reply to a support ticket from the knowledge base, with notes for the agent."""
    from llm.draft import Ticket

    chosen_backend = choice(backend, BackendName, "--backend")
    chosen_effort = choice(effort, Effort, "--effort")
    ticket = Ticket.from_text(sys.stdin.read()) if ticket_file == "-" else Ticket.from_file(here(ticket_file))

    def command(kura) -> None:
        drafting = kura.draft(
            caller_of(kura, groups),
            ticket,
            backend=chosen_backend,
            style=style and here(style),
            effort=chosen_effort,
            stream=False,
        )
        if drafting.notice:
            console.print(f"[yellow]the model is unavailable:[/yellow] {shown(drafting.notice)}")
        result = drafting.response.result()
        if as_json:
            emit(result.to_json())
            return
        write(result.reply + "\n")
        print_claims(result.claims)
        console.print("\n[bold]Internal notes[/bold] (not for the customer):")
        for note in result.internal_notes:
            console.print(f" • {shown(note)}")

    run(command)
