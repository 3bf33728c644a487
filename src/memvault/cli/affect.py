"""Affect commands: `memvault emotions USER` (patterns, optional chart), `memvault traits USER`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from memvault.cli.app import DbOption, JsonOption, app, console, fail, open_vault, print_json
from memvault.records import EmotionalPatterns, EmotionEvent, EmotionPattern, to_json

if TYPE_CHECKING:
    from memvault.vault import Vault

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
        events: list[EmotionEvent] = []
        if plot is not None:
            if report.total == 0:
                fail(f"{person.handle} has no emotion events in this range: no chart written")
            events = recent_events(vault, person.id, since=since, until=until)
    if plot is not None:
        figure = patterns_figure(report, events, title=f"{person.handle}: emotional patterns")
        save_figure(figure, plot)
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
        table.add_row(
            p.emotion,
            f"{p.count:,}",
            f"{p.frequency:.0%}",
            f"{p.avg_intensity:.2f}",
            f"{p.max_intensity:.2f}",
            ", ".join(f"{t.trigger} ({t.count})" for t in p.top_triggers),
            f"{peak_hour:02d}h",
            trend_label(p),
        )
    console.print(table)
    if plot is not None:
        console.print(f"chart written: {plot}")


MAX_PLOTTED = 100_000  # events drawn on the time axis: the most recent ones
TREND_SYMBOL = {"increasing": "↑", "decreasing": "↓"}


def trend_label(p: EmotionPattern) -> str:
    delta = "" if p.trend_delta is None else f" ({p.trend_delta:+.2f})"
    return f"{TREND_SYMBOL.get(p.trend, '→')} {p.trend}{delta}"


def recent_events(
    vault: Vault, user_id: str, *, since: datetime | None, until: datetime | None
) -> list[EmotionEvent]:
    """The user's events in [since, until), oldest first (at most the MAX_PLOTTED newest)."""
    found: list[EmotionEvent] = []
    while len(found) < MAX_PLOTTED:
        batch = vault.emotions.list(user_id, since=since, until=until, newest_first=True,
                                    limit=min(10_000, MAX_PLOTTED - len(found)),
                                    offset=len(found))  # fmt: skip
        found += batch
        if len(batch) < 10_000:
            break
    found.reverse()
    return found


def _pyplot() -> Any:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        fail("--plot needs matplotlib: pip install 'memvault[plot]'")
    return plt


def patterns_figure(
    report: EmotionalPatterns, events: Sequence[EmotionEvent], *, title: str = ""
) -> Any:
    """The chart of `memvault emotions --plot` as a matplotlib Figure (not saved).

    Top: intensity over time, one colour per emotion — every event as a faint point, the
    daily (or hourly, for a short range) mean as a line, and the trend the table reports:
    the mean of the earlier and of the recent half of the trend window (shaded), with the
    arrow and delta in the legend. Bottom: the top triggers per emotion, events and average
    intensity per emotion, and the hour-of-day profile. Each axes carries a `gid` ("timeline",
    "triggers", "counts", "hours") and each drawn series a `gid` naming what it shows.
    """
    plt = _pyplot()
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter

    fig = plt.figure(figsize=(14, 9), layout="constrained")
    grid = fig.add_gridspec(2, 3, height_ratios=[1.25, 1])
    timeline = fig.add_subplot(grid[0, :], gid="timeline")
    triggers = fig.add_subplot(grid[1, 0], gid="triggers")
    counts = fig.add_subplot(grid[1, 1], gid="counts")
    hours = fig.add_subplot(grid[1, 2], gid="hours")
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    colour = {p.emotion: colours[i % len(colours)] for i, p in enumerate(report.patterns)}
    drawn = list(report.patterns[:8])  # the most frequent: more would be unreadable

    by_emotion: dict[str, list[EmotionEvent]] = {}
    for e in events:
        by_emotion.setdefault(e.emotion, []).append(e)
    span = (events[-1].occurred_at - events[0].occurred_at) if events else timedelta(0)
    bucket = timedelta(hours=1) if span <= timedelta(days=3) else timedelta(days=1)
    end = report.until or datetime.now(UTC)
    w_start = end - timedelta(days=report.window_days)
    w_mid = w_start + timedelta(days=report.window_days / 2)
    if any(p.trend_delta is not None for p in drawn):
        timeline.axvspan(w_start, end, color="#999999", alpha=0.12, lw=0,
                         label=f"trend window ({report.window_days:g} days)")  # fmt: skip
    for p in drawn:
        mine = by_emotion.get(p.emotion, [])
        c = colour[p.emotion]
        timeline.scatter([e.occurred_at for e in mine], [e.intensity for e in mine], s=9,
                         color=c, alpha=0.25, lw=0, gid=f"events:{p.emotion}")  # fmt: skip
        xs, ys = _means(mine, bucket)
        timeline.plot(xs, ys, color=c, lw=1.6, marker="o", ms=3, gid=f"mean:{p.emotion}",
                      label=f"{p.emotion}  {trend_label(p)}")  # fmt: skip
        if p.trend_delta is not None:
            early = [e.intensity for e in mine if w_start <= e.occurred_at < w_mid]
            late = [e.intensity for e in mine if w_mid <= e.occurred_at < end]
            if early and late:
                timeline.plot([w_start, w_mid, w_mid, end],
                              [_mean(early), _mean(early), _mean(late), _mean(late)],
                              color=c, lw=3.2, alpha=0.9, gid=f"trend:{p.emotion}")  # fmt: skip
    timeline.set_ylim(-0.03, 1.03)
    timeline.set_ylabel("intensity (0–1)")
    what = "hourly" if bucket == timedelta(hours=1) else "daily"
    timeline.set_title(f"intensity over time: each event, the {what} mean, and the trend "
                       "(earlier vs recent half of the window)", loc="left")  # fmt: skip
    locator = AutoDateLocator()  # type: ignore[no-untyped-call]
    timeline.xaxis.set_major_locator(locator)
    timeline.xaxis.set_major_formatter(ConciseDateFormatter(locator))  # type: ignore[no-untyped-call]
    timeline.legend(loc="upper left", fontsize="small", ncols=2, framealpha=0.85)

    rows = [(p.emotion, t.trigger, t.count) for p in drawn for t in p.top_triggers]
    if rows:
        labels = [f"{trigger}  ({emotion})" for emotion, trigger, _ in rows]
        shades = [colour[emotion] for emotion, *_ in rows]
        triggers.barh(range(len(rows)), [n for *_, n in rows], color=shades, gid="trigger-bars")
        triggers.set_yticks(range(len(rows)), labels, fontsize="small")
        triggers.invert_yaxis()
        triggers.set_xlabel("events")
    else:
        triggers.text(0.5, 0.5, "no triggers recorded", ha="center", va="center",
                      transform=triggers.transAxes, color="#666666")  # fmt: skip
        triggers.set_yticks([])
    triggers.set_title("top triggers", loc="left")

    names = [p.emotion for p in report.patterns]
    counts.bar(names, [p.count for p in report.patterns],
               color=[colour[n] for n in names], gid="count-bars")  # fmt: skip
    for i, p in enumerate(report.patterns):
        counts.annotate(f"{p.avg_intensity:.2f}", (i, p.count), ha="center", va="bottom",
                        fontsize="small")  # fmt: skip
    counts.set_ylabel("events")
    counts.set_title("events per emotion (label: average intensity)", loc="left")
    counts.tick_params(axis="x", rotation=30)

    for p in drawn:
        hours.plot(range(24), p.hours, marker="o", markersize=3, color=colour[p.emotion],
                   label=p.emotion, gid=f"hours:{p.emotion}")  # fmt: skip
    hours.set_xticks(range(0, 24, 3))
    hours.set_xlabel("hour of day (UTC)")
    hours.set_ylabel("events")
    hours.set_title("time-of-day profile", loc="left")
    subtitle = f"{report.total:,} events"
    if len(events) < report.total:
        subtitle += f"; the time axis shows the {len(events):,} most recent"
    fig.suptitle(f"{title}\n{subtitle}" if title else subtitle)
    return fig


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values)


def _means(events: Sequence[EmotionEvent], bucket: timedelta) -> tuple[list[datetime], list[float]]:
    """The mean intensity per time bucket (at the bucket's middle), in time order."""
    groups: dict[datetime, list[float]] = {}
    for e in events:
        at = e.occurred_at.astimezone(UTC)
        start = at.replace(minute=0, second=0, microsecond=0)
        if bucket >= timedelta(days=1):
            start = start.replace(hour=0)
        groups.setdefault(start, []).append(e.intensity)
    keys = sorted(groups)
    return [k + bucket / 2 for k in keys], [_mean(groups[k]) for k in keys]


def save_figure(figure: Any, path: Path) -> None:
    """Write `figure` as a PNG at `path`, creating its folder; a clear error if it cannot."""
    plt = _pyplot()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        figure.savefig(path, dpi=110)
    except OSError as exc:
        fail(f"cannot write the chart to {path}: {exc.strerror or exc}")
    finally:
        plt.close(figure)


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
