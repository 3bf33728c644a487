"""The `memvault` console script: `memvault hook` events go straight to `memvault.hook.run`,
everything else to the Typer app (`memvault.cli.main`).

A coding agent runs `memvault hook` on every tool call, so its start-up time is the agent's
latency: that path loads neither Typer nor Rich (nor the CLI package, which imports both).
"""

from __future__ import annotations

import sys

HOOK_SUBCOMMANDS = frozenset({"install", "uninstall", "replay"})


def is_hook_event_call(argv: list[str]) -> bool:
    """`memvault hook [options]` (an event on stdin), not a `hook` subcommand or --help."""
    return (
        argv[:1] == ["hook"]
        and not HOOK_SUBCOMMANDS.intersection(argv[1:2])
        and "--help" not in argv
        and "-h" not in argv
    )


def main() -> None:
    """Run `memvault` with `sys.argv`."""
    if is_hook_event_call(sys.argv[1:]):
        from memvault.hook.run import exit_now
        from memvault.hook.run import main as hook_main

        exit_now(hook_main(sys.argv[2:]))  # os._exit: no interpreter shutdown to wait for
    from memvault.cli import main as cli_main

    cli_main()
