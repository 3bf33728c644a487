"""Affect commands: `memvault emotions USER` (patterns, optional chart), `memvault traits USER`."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from memvault.cli.app import DbOption, JsonOption, app, console, fail, open_vault, print_json
from memvault.domain_records import EmotionalPatterns, to_json

UserArg = Annotated[str, typer.Argument(help="The user: a handle or an id.")]


@app.command()
def emotions(
    user: UserArg,
    db: DbOption = None,
    json: JsonOption = False,
    since: Annotated[
        datetime | None, typer.Option(help="Only events at or after this time (UTC).")
    ] = None,
    until: Annotated[
        datetime | None, typer.Option(help="Only events before this time (UTC).")
    ] = None,
    window_days: Annotated[
        float, typer.Option("--window-days", help="Trend window before --until (or now).")
    ] = 7.0,
    plot: Annotated[
        Path | None,
        typer.Option("--plot", help="Also draw the patterns into this PNG (needs memvault[plot])."),
    ] = None,
) -> None:
    """A user's emotional patterns: frequency, intensity, triggers, hours, trend."""
    with open_vault(db) as vault:
        person = vault.users.resolve(user)
        report = vault.emotions.patterns(
            person.id, since=since, until=until, window_days=window_days
        )
    if plot is not None:
        plot_patterns(report, plot, title=f"{person.handle}: emotional patterns")
    if json:
        print_json(to_json(report))
        return
    table = Table(title=f"{person.handle}: {report.total:,} emotion events")
    for column in ("emotion", "count", "share", "avg", "peak", "top triggers", "peak hour",
                   "trend"):  # fmt: skip
        table.add_column(column, justify="right" if column in ("count", "share", "avg",
                                                               "peak") else "left")  # fmt: skip
    for p in report.patterns:
        peak_hour = max(range(24), key=lambda h: p.hours[h])
        arrow = {"increasing": "↑", "decreasing": "↓"}.get(p.trend, "→")
        delta = "" if p.trend_delta is None else f" ({p.trend_delta:+.2f})"
        table.add_row(
            p.emotion,
            f"{p.count:,}",
            f"{p.frequency:.0%}",
            f"{p.avg_intensity:.2f}",
            f"{p.max_intensity:.2f}",
            ", ".join(f"{t.trigger} ({t.count})" for t in p.top_triggers),
            f"{peak_hour:02d}h",
            f"{arrow} {p.trend}{delta}",
        )
    console.print(table)
    if plot is not None:
        console.print(f"chart written: {plot}")


def plot_patterns(report: EmotionalPatterns, path: Path, *, title: str = "") -> None:
    """Draw counts/intensity per emotion and the hour-of-day profile into a PNG."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        fail(escape("--plot needs matplotlib: pip install 'memvault[plot]'"))
    fig, (bars, hours) = plt.subplots(1, 2, figsize=(13, 4.8))
    names = [p.emotion for p in report.patterns]
    bars.bar(names, [p.count for p in report.patterns], color="#5b8def")
    bars.set_ylabel("events")
    bars.set_title("events per emotion (label: average intensity)")
    for i, p in enumerate(report.patterns):
        bars.annotate(f"{p.avg_intensity:.2f}", (i, p.count), ha="center", va="bottom")
    bars.tick_params(axis="x", rotation=30)
    for p in report.patterns[:8]:
        hours.plot(range(24), p.hours, marker="o", markersize=3, label=p.emotion)
    hours.set_xticks(range(0, 24, 3))
    hours.set_xlabel("hour of day (UTC)")
    hours.set_ylabel("events")
    hours.set_title("time-of-day profile")
    if report.patterns:
        hours.legend(fontsize="small")
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


@app.command()
def traits(
    user: UserArg,
    db: DbOption = None,
    json: JsonOption = False,
    agent: Annotated[
        str | None,
        typer.Option(help="Whose personality (agent name); default: every agent with traits."),
    ] = None,
    history: Annotated[bool, typer.Option("--history", help="Show every change.")] = False,
) -> None:
    """The agents' personality for a user (base defaults overridden by the user's values).

    Without --agent, every agent that has traits for the user (or base defaults) is shown,
    e.g. `workly` after a Workly import, beside memvault's `default` agent."""
    with open_vault(db) as vault:
        person = vault.users.resolve(user)
        if agent is not None:
            agents = [agent]
        else:
            owned = vault.traits.list(person.id) + vault.traits.list(None)
            agents = sorted({t.agent for t in owned}) or ["default"]
        people = [vault.traits.personality(person.id, agent=a) for a in agents]
        changes = []
        if history:
            for a in agents:
                changes.extend(vault.traits.history(person.id, agent=a, limit=10_000))
    if json:
        out: dict[str, Any] = {"personality": to_json(people[0])}
        if len(people) > 1:
            out["personalities"] = [to_json(p) for p in people]
        if history:
            out["history"] = to_json(changes)
        print_json(out)
        return
    for personality in people:
        table = Table(title=f"{person.handle}: personality of agent {personality.agent!r}")
        table.add_column("trait")
        table.add_column("value", justify="right")
        for name, value in personality.traits.items():
            table.add_row(name, f"{value:.2f}")
        console.print(table)
    if history:
        log = Table(title="history")
        for column in ("when", "agent", "trait", "old", "new", "reason"):
            log.add_column(column)
        for c in changes:
            old = "—" if c.old_value is None else f"{c.old_value:.2f}"
            log.add_row(c.changed_at.isoformat(timespec="seconds"), c.agent, c.name, old,
                        f"{c.new_value:.2f}", c.reason or "")  # fmt: skip
        console.print(log)
