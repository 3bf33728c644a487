"""Search commands: search, reindex, embed."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from memvault.cli.app import DbOption, JsonOption, app, console, open_vault, print_json
from memvault.records import to_dict

LABEL = {"memory": "memories", "message": "messages"}


@app.command()
def search(
    query: Annotated[str, typer.Argument(help='Words, "phrases", prefix*, OR, -excluded.')],
    user: Annotated[str, typer.Option("--user", "-u", help="User id or handle.")],
    kind: Annotated[
        list[str] | None, typer.Option("--kind", "-k", help="Memory kind (repeatable).")
    ] = None,
    mode: Annotated[str, typer.Option("--mode", "-m", help="hybrid, text or vector.")] = "hybrid",
    messages: Annotated[bool, typer.Option("--messages", help="Search messages instead.")] = False,
    sessions: Annotated[
        bool, typer.Option("--sessions", help="Search session titles instead (full-text).")
    ] = False,
    base: Annotated[bool, typer.Option("--base", help="Include the shared base layer.")] = False,
    limit: Annotated[int, typer.Option("--limit", "-n", help="How many results.")] = 10,
    approximate: Annotated[
        bool,
        typer.Option(
            "--approximate", "-a", help="Approximate vector leg (index from `reindex --ann`)."
        ),
    ] = False,
    db: DbOption = None,
    json: JsonOption = False,
) -> None:
    """Search a user's memories (or messages): full-text, vector or hybrid."""
    titles: dict[str, str] = {}
    with open_vault(db) as vault:
        owner = vault.users.resolve(user).id
        if sessions:
            hits: list[Any] = vault.sessions.search(owner, query, k=limit)
            messages = False
        elif messages:
            hits = vault.messages.search(owner, query, k=limit, mode=mode, approximate=approximate)
            # A message hit names its conversation: the session's title, and the date.
            titles = {
                sid: vault.sessions.get(sid).title or "(untitled)"
                for sid in {h.item.session_id for h in hits}
            }
        else:
            hits = vault.memories.search(
                owner, query, k=limit, mode=mode, kinds=kind, base=base, approximate=approximate
            )
    notes: list[str] = list(getattr(hits, "notes", []))
    if json:
        for note in notes:  # on stderr: stdout stays the JSON list
            typer.echo(f"note: {note}", err=True)
        print_json(
            [
                {
                    "score": h.score,
                    "matched": list(h.matched),
                    "text_score": h.text_score,
                    "vector_score": h.vector_score,
                    "item": to_dict(h.item),
                    **({"session_title": titles[h.item.session_id]} if messages else {}),
                }
                for h in hits
            ]
        )
        return
    table = Table(title=f"{len(hits)} result(s) for {query!r}")
    table.add_column("#", justify="right")
    table.add_column("score", justify="right")
    table.add_column("matched")
    if messages:
        table.add_column("conversation")
    else:
        table.add_column("kind")
    table.add_column("content")
    for i, h in enumerate(hits, 1):
        row = [str(i), f"{h.score:.4f}", "+".join(h.matched)]
        if messages:
            when = f"{h.item.created_at:%Y-%m-%d %H:%M}"
            row.append(f"{escape(titles[h.item.session_id])}\n[dim]{when} · {h.item.role}[/]")
        else:
            row.append(h.item.kind)
        table.add_row(*row, escape((h.item.title or "") if sessions else h.item.content))
    console.print(table)
    for note in notes:
        console.print(f"[yellow]note:[/] {note}")


@app.command()
def reindex(
    ann: Annotated[
        bool,
        typer.Option("--ann", help="Also build the approximate vector index (for --approximate)."),
    ] = False,
    model: Annotated[
        str | None,
        typer.Option("--model", help="Model of the approximate index (default: the embedder's)."),
    ] = None,
    min_rows: Annotated[
        int,
        typer.Option("--min-rows", help="Approximate index for owners with at least N vectors."),
    ] = 10_000,
    db: DbOption = None,
    json: JsonOption = False,
) -> None:
    """Rebuild the derived search indexes (full-text tables; vector matrices reload).

    With --ann, also build the approximate vector index of a model: pgvector HNSW on
    PostgreSQL with pgvector, index files beside the database elsewhere."""
    out: dict[str, Any] = {}
    with open_vault(db) as vault:
        out.update(vault.search.reindex())
        out["emotion_rollups"] = vault.emotions.rebuild_rollups()
        if ann:
            out["ann"] = vault.search.build_approximate(model, min_rows=min_rows)
    if json:
        print_json(out)
        return
    for name, n in out.items():
        if name != "ann":
            console.print(f"reindexed {name}: {n:,} rows")
    if ann:
        _say_ann(out["ann"], model or "the default model", min_rows)


def _say_ann(built: list[dict[str, Any]], model: str, min_rows: int) -> None:
    """What `reindex --ann` built, one readable line per index, or why it built nothing."""
    if not built:
        console.print(
            f"approximate index: none built. PostgreSQL with pgvector builds an HNSW index "
            f"once vectors of {model} exist; elsewhere an index is built per owner and kind "
            f"holding at least {min_rows:,} vectors of {model} (--min-rows), and none does. "
            "Searches stay exact; `memvault embed` adds vectors.",
            highlight=False,
        )
    for b in built:
        if "hnsw" in b:
            console.print(f"approximate index: pgvector HNSW index {b['hnsw']}", highlight=False)
            continue
        owner = f"user {b['owner']}" if b["owner"] else "the base layer"
        console.print(
            f"approximate index: {LABEL.get(b['kind'], b['kind'])} of {owner}, model "
            f"{b['model']}: {b['count']:,} vectors in {b['lists']:,} lists "
            f"({b['build_s']:.1f} s)",
            highlight=False,
        )


@app.command()
def embed(
    what: Annotated[str, typer.Option("--what", help="memories, messages or all.")] = "memories",
    batch: Annotated[int, typer.Option("--batch", help="Rows per transaction.")] = 64,
    limit: Annotated[int | None, typer.Option("--limit", help="Stop after N rows.")] = None,
    db: DbOption = None,
    json: JsonOption = False,
) -> None:
    """Embed rows that have no vector for the default model (resumable: re-run to continue)."""
    kinds = {"memories": ["memory"], "messages": ["message"], "all": ["memory", "message"]}
    if what not in kinds:
        raise typer.BadParameter("expected memories, messages or all", param_hint="--what")
    done: dict[str, int] = {}
    with open_vault(db) as vault:
        name = vault.search.embed_model()
        for kind in kinds[what]:
            todo = vault.search.missing(kind, name)
            if limit is not None:
                todo = min(todo, limit)
            with Progress(
                TextColumn(f"embedding {LABEL[kind]} with {name}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeRemainingColumn(),
                console=console,
                disable=json,
            ) as progress:
                task = progress.add_task(kind, total=todo)
                done[kind] = vault.search.embed_missing(
                    kind,
                    batch=batch,
                    limit=limit,
                    progress=lambda n, task=task: progress.advance(task, n),
                )
    if json:
        print_json({"model": name, "embedded": done})
    else:
        for kind, n in done.items():
            console.print(f"embedded {n:,} {LABEL[kind]} with {name}")
