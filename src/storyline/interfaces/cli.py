"""The `storyline` command line (Typer + Rich)."""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from storyline.config import DB_ENV
from storyline.interfaces.export import EXPORT_FORMATS, story_to_dict
from storyline.interfaces.report import (
    print_ingest_summary,
    search_table,
    stories_table,
    story_report,
)
from storyline.records import IngestOutcome
from storyline.store.base import StoreError

if TYPE_CHECKING:
    from storyline.service import Storyline

app = typer.Typer(
    name="storyline",
    help="Follow one news story across many outlets: ingest articles, group them into "
    "stories, and read what each outlet reports.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
)
console = Console()
err = Console(stderr=True)

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        help=f"Store: a SQLite file path or URL (default: ${DB_ENV} or the user data dir).",
        show_default=False,
    ),
]


def _open(db: str | None, workers: int = 1) -> Storyline:
    # Imported here so that `--help` and `eval` do not load the whole pipeline.
    from storyline.service import Storyline

    try:
        return Storyline(db, workers=workers)
    except StoreError as exc:
        err.print(f"[red]error:[/red] cannot open the store: {exc}")
        raise typer.Exit(2) from exc


def _ingest_with_progress(sl: Storyline, inputs: list[str], quiet: bool) -> int:
    """Ingest with a live progress line; returns the exit code."""
    progress = Progress(
        SpinnerColumn(),
        TextColumn("[progress.description]{task.description}"),
        BarColumn(bar_width=None),
        TextColumn("{task.fields[counts]}"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=quiet,
    )
    counts = {"new": 0, "duplicate": 0, "failed": 0}
    with progress:
        task = progress.add_task("ingesting", total=None, counts="")

        def on_outcome(outcome: IngestOutcome) -> None:
            counts[outcome.status] += 1
            progress.update(
                task,
                advance=1,
                description=f"ingesting {Path(outcome.source).name[:40]}",
                counts=" ".join(f"{k} {v}" for k, v in counts.items()),
            )

        report = sl.ingest(inputs, on_outcome=on_outcome, stdin=sys.stdin.buffer)
    print_ingest_summary(console, report)
    read_any = report.count("new") + report.count("duplicate") > 0
    return 0 if read_any else 1


@app.command()
def ingest(
    inputs: Annotated[
        list[str],
        typer.Argument(
            help="Files, directories, globs, URLs, feeds (file or URL), or - for stdin."
        ),
    ],
    db: DbOption = None,
    workers: Annotated[int, typer.Option(help="Processes for extraction (1 = in process).")] = 1,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Read articles, clean them, and link each to a story.

    Prints how many documents were new, duplicates or failed, with the reason
    for each failure. Exits non-zero only when nothing could be read.
    """
    with _open(db, workers) as sl:
        code = _ingest_with_progress(sl, inputs, quiet)
    raise typer.Exit(code)


@app.command()
def stories(
    db: DbOption = None,
    limit: Annotated[int, typer.Option(help="How many stories to list.")] = 50,
    offset: Annotated[int, typer.Option(help="Skip this many (most recent first).")] = 0,
) -> None:
    """List stories, most recently updated first."""
    with _open(db) as sl:
        rows = sl.stories(limit=limit, offset=offset)
        if not rows:
            console.print("No stories yet. Add articles with [bold]storyline ingest PATH[/bold].")
            return
        console.print(stories_table(rows))
        console.print(f"[dim]{sl.store.count_stories()} stories in {sl.settings.db}[/dim]")


@app.command()
def show(
    story: Annotated[str, typer.Argument(help="Story id (a unique prefix is enough).")],
    db: DbOption = None,
    full: Annotated[bool, typer.Option(help="Print every paragraph of every article.")] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the story as export JSON.")
    ] = False,
) -> None:
    """Show one story: its articles, outlets, credits and text."""
    with _open(db) as sl:
        try:
            found = sl.story(story)
        except StoreError as exc:
            err.print(f"[red]error:[/red] {exc}")
            raise typer.Exit(2) from exc
        if found is None:
            err.print(f"[red]error:[/red] no story with id {story!r}")
            raise typer.Exit(2)
        if as_json:
            data = story_to_dict(found, sl.story_analyses(found))
            sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
        else:
            console.print(story_report(found, full=full, view=sl.story_json(found.id)))


@app.command()
def search(
    query: Annotated[str, typer.Argument(help="Words to find in titles and bodies.")],
    db: DbOption = None,
    limit: Annotated[int, typer.Option(help="Most hits to show.")] = 20,
) -> None:
    """Full-text search over articles."""
    with _open(db) as sl:
        hits = sl.search(query, limit=limit)
        if not hits:
            console.print(f"No article matches {query!r}.")
            return
        console.print(search_table(hits, query))


@app.command()
def export(
    db: DbOption = None,
    fmt: Annotated[
        str, typer.Option("--format", "-f", help=f"One of: {', '.join(EXPORT_FORMATS)}.")
    ] = "json",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="File to write (default: stdout).")
    ] = None,
    story: Annotated[
        list[str] | None, typer.Option("--story", help="Only these stories (repeatable).")
    ] = None,
) -> None:
    """Export stories as JSON, JSON Lines or CSV, or their scheduled events as iCalendar (ics)."""
    if fmt not in EXPORT_FORMATS:
        err.print(f"[red]error:[/red] unknown format {fmt!r}; choose {', '.join(EXPORT_FORMATS)}")
        raise typer.Exit(2)
    with _open(db) as sl:
        if output is None:
            n = sl.export(sys.stdout, fmt, story)
        else:
            with output.open("w", encoding="utf-8", newline="") as out:
                n = sl.export(out, fmt, story)
            err.print(f"wrote {n} stories to {output}")


@app.command()
def demo(
    db: DbOption = None,
    full: Annotated[bool, typer.Option(help="Print every paragraph.")] = False,
) -> None:
    """Ingest the bundled sample articles into a fresh store and print the story report."""
    tmp: tempfile.TemporaryDirectory[str] | None = None
    if db is None:
        tmp = tempfile.TemporaryDirectory(prefix="storyline-demo-")
        db = str(Path(tmp.name) / "demo.db")
    try:
        from storyline.service import sample_paths

        with _open(db) as sl:
            paths = [str(p) for p in sample_paths()]
            console.print(f"[bold]Storyline demo[/bold]: {len(paths)} sample articles → {db}")
            _ingest_with_progress(sl, paths, quiet=False)
            for row in sl.stories():
                found = sl.story(row.id)
                if found is not None:
                    console.print(story_report(found, full=full, view=sl.story_json(found.id)))
    finally:
        if tmp is not None:
            tmp.cleanup()


@app.command()
def failures(
    db: DbOption = None,
    limit: Annotated[int, typer.Option(help="How many to show.")] = 50,
) -> None:
    """Documents that could not be ingested, most recent first, with the reason."""
    with _open(db) as sl:
        rows = sl.failures(limit)
        if not rows:
            console.print("No failures recorded.")
            return
        for row in rows:
            console.print(
                f"[dim]{row.at}[/dim] [red]{row.stage}[/red] {escape(row.source)}: "
                f"{escape(row.reason)}"
            )


@app.command()
def check(db: DbOption = None) -> None:
    """Check the store's integrity (schema, full-text index, story links)."""
    with _open(db) as sl:
        problems = sl.check()
        if problems:
            for p in problems:
                err.print(f"[red]problem:[/red] {p}")
            raise typer.Exit(1)
        console.print(
            f"[green]ok[/green]: {sl.store.count_articles()} articles, "
            f"{sl.store.count_stories()} stories, schema v{sl.store.schema_version()}"
        )


@app.command()
def serve(
    db: DbOption = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    workers: Annotated[
        int, typer.Option(min=1, help="Worker processes (each with its own store connection).")
    ] = 1,
    allow_private_urls: Annotated[
        bool,
        typer.Option(
            "--allow-private-urls",
            help="Let URL ingest fetch private, loopback and link-local addresses.",
        ),
    ] = False,
) -> None:
    """Serve the web app, the REST API (/api/v1, docs at /docs) and the feeds.

    Ingest over HTTP needs $STORYLINE_API_TOKEN; reads need $STORYLINE_READ_TOKEN when set.
    """
    import os

    import uvicorn

    from storyline.config import Settings

    # The app is built by a factory in each worker process, from the environment.
    if db:
        os.environ[DB_ENV] = db
    if allow_private_urls:
        os.environ["STORYLINE_ALLOW_PRIVATE_URLS"] = "1"
    _open(Settings.from_env().db).close()  # a store that cannot open fails here, clearly
    err.print(f"Storyline on http://{host}:{port}/  (API docs: http://{host}:{port}/docs)")
    uvicorn.run(
        "storyline.interfaces.api:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="info",
        proxy_headers=False,
    )


@app.command()
def batch(
    inputs: Annotated[
        list[str],
        typer.Argument(help="Files, directories or globs of WARC, JSON Lines or HTML (or s3://…)."),
    ],
    db: DbOption = None,
    executor: Annotated[
        str, typer.Option(help="Where per-document stages run: local, process or ray.")
    ] = "local",
    workers: Annotated[int, typer.Option(min=1, help="Worker processes or Ray actors.")] = 2,
    address: Annotated[
        str | None, typer.Option(help="Ray cluster address (default: start Ray locally).")
    ] = None,
    parquet: Annotated[
        Path | None,
        typer.Option(help="Also write articles.parquet and outcomes.parquet to this folder."),
    ] = None,
    skip_analysis: Annotated[
        bool, typer.Option("--skip-analysis", help="No entities/quotes/events/time analysis.")
    ] = False,
) -> None:
    """Process a corpus in parallel, then deduplicate and link stories in date order.

    Gives the same stories as `ingest` over the same documents in (published, source) order.
    """
    from storyline.batch import BatchJob, OutcomeParquetWriter, write_parquet
    from storyline.config import Settings

    if executor not in ("local", "process", "ray"):
        err.print(f"[red]error:[/red] unknown executor {executor!r} (local, process or ray)")
        raise typer.Exit(2)
    failures: list[IngestOutcome] = []
    outcomes = OutcomeParquetWriter(parquet / "outcomes.parquet") if parquet else None

    def on_outcome(outcome: IngestOutcome) -> None:
        if outcome.status == "failed":
            failures.append(outcome)
        if outcomes is not None:
            outcomes(outcome)

    with _open(db) as sl:
        job = BatchJob(
            sl.store,
            Settings.from_env(db=db),
            executor=executor,  # type: ignore[arg-type]
            workers=workers,
            address=address,
            analyse=not skip_analysis,
        )
        try:
            result = job.run(inputs, on_outcome=on_outcome)
        finally:
            if outcomes is not None:
                outcomes.close()
        if parquet is not None:
            write_parquet(sl.store, parquet)
    counts = result.counts
    console.print(
        f"[green]new: {counts['new']}[/green]  [yellow]duplicate: {counts['duplicate']}[/yellow]"
        f"  failed: {counts['failed']}  ({result.documents} documents; per-document "
        f"{result.per_document_seconds:.1f} s, global {result.global_seconds:.1f} s)"
    )
    for o in failures:
        console.print(f"[red]✗[/red] {escape(o.source)} — {escape(o.reason or '')}", soft_wrap=True)
    raise typer.Exit(0 if counts["new"] + counts["duplicate"] > 0 else 1)


@app.command()
def corpus(
    out: Annotated[Path, typer.Option("--out", help="Output folder.")],
    size: Annotated[int, typer.Option(min=1, help="Number of articles.")] = 1000,
    fmt: Annotated[str, typer.Option("--format", help="jsonl or warc.")] = "jsonl",
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same corpus).")] = 0,
    html: Annotated[
        bool, typer.Option("--html", help="JSON Lines carry HTML pages instead of text.")
    ] = False,
    shards: Annotated[int, typer.Option(min=1, help="Number of output files.")] = 1,
) -> None:
    """Generate a scale-test corpus with known stories from the evaluation data sets.

    Articles go to OUT/articles/ (the folder to ingest), labels (url -> story) to
    OUT/labels.jsonl.
    """
    from storyline.corpus import CorpusError, write_corpus

    try:
        summary = write_corpus(out, size, fmt, seed=seed, html=html, shards=shards)  # type: ignore[arg-type]
    except CorpusError as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc
    console.print(
        f"{summary.articles} articles in {summary.stories} stories → "
        + ", ".join(str(p) for p in summary.files)
        + f"; labels: {summary.labels}"
    )


eval_app = typer.Typer(
    help="Measure quality and speed on the public development sets (read from "
    "$STORYLINE_DATA, default ../shared/data; never shipped).",
    no_args_is_help=True,
)
app.add_typer(eval_app, name="eval")

# name -> module with `main(argv) -> int`; each prints its tables and the baselines beside them.
EVALUATIONS = {
    "extraction": "storyline.eval.extraction",
    "stories": "storyline.eval.stories",
    "timex": "storyline.eval.timex",
    "quotes": "storyline.eval.quotes",
    "entities": "storyline.eval.entities",
    "compare": "storyline.eval.compare",
}


def _eval_command(name: str, module: str) -> None:
    @eval_app.command(
        name,
        context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
        add_help_option=False,  # `--help` goes to the evaluation's own parser
        help=f"Run the {name} evaluation (arguments go to it; --help lists them).",
    )
    def run(ctx: typer.Context) -> None:
        import importlib

        from storyline.eval import DataUnavailable

        try:
            entry = importlib.import_module(module)
        except ModuleNotFoundError as exc:
            err.print(f"[red]error:[/red] the {name} evaluation is not available: {exc}")
            raise typer.Exit(2) from exc
        try:
            code = entry.main(list(ctx.args))
        except DataUnavailable as exc:
            err.print(f"[yellow]skipped:[/yellow] {exc}")
            code = 0
        raise typer.Exit(code or 0)


for _name, _module in EVALUATIONS.items():
    _eval_command(_name, _module)


def main() -> None:  # pragma: no cover - console entry point
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
