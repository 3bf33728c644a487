"""The `memvault hook` process: one event on stdin, recorded, exit 0 — always.

It never blocks the agent: the store is opened with a short busy timeout, and when it is busy,
unreachable or not there, the event goes to the spool (`memvault.hook.spool`) and the next
call replays it first. An event the store refuses for good (a value memvault rejects) is set
aside in `<spool>.rejected` with the reason, not retried forever. Imports stay lean (no
Typer, no Rich; the Vault only when there is an event to store): this runs on every tool call.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

from memvault.hook.spool import Spool, default_dir

# `typing` only for the type checker: with --background this process exits before any heavy
# import (the detached child stores the event), so it loads no more than it must.
TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable
    from typing import Any, NoReturn

    from memvault.ownerview import OwnerView

BUSY_TIMEOUT = 0.5  # seconds a write waits for SQLite's lock before the event is spooled
CONNECT_TIMEOUT = "2"  # seconds to reach a PostgreSQL server (libpq's PGCONNECT_TIMEOUT)


# The hook's options: name -> (attribute, default, type; None: a flag setting `value`).
# Parsed by hand, not by argparse: argparse loads gettext, locale and shutil (with zlib, bz2
# and lzma) on every call, a third of what `--background` imports before the agent may go on.
def _options() -> dict[str, tuple[str, Any, Any]]:
    env = os.environ.get
    return {
        "--db": ("db", env("MEMVAULT_URL"), str),
        "--user": ("user", env("MEMVAULT_USER"), str),
        "--agent": ("agent", "claude-code", str),
        "--spool": ("spool", env("MEMVAULT_HOOK_SPOOL"), str),
        "--server": ("server", env("MEMVAULT_SERVER"), str),
        "--key": ("key", env("MEMVAULT_KEY"), str),
        "--no-context": ("context", True, None),
        "--busy-timeout": ("busy_timeout", BUSY_TIMEOUT, float),
        "--background": ("background", False, None),
        "--managed": ("managed", False, None),  # marks the entries `hook install` wrote
    }


def parse(argv: list[str], problems: list[str] | None = None) -> tuple[argparse.Namespace,
                                                                       list[str]]:  # fmt: skip
    """`argv`'s options (``--name value``, ``--name=value``, or a unique prefix of a name,
    as argparse took them) and the arguments it did not know. The options are a plain
    namespace with argparse's type for the type checker (`memvault hook replay` and the
    `--server` path take either). A missing or bad value raises ValueError, or, given
    `problems`, is listed there and the option keeps its default (the hook still keeps the
    event)."""
    spec = _options()
    opts: argparse.Namespace = SimpleNamespace(  # type: ignore[assignment]
        **{attr: default for attr, default, _ in spec.values()}
    )
    unknown: list[str] = []
    args = iter(argv)
    for arg in args:
        if arg == "-u":  # the short form `memvault hook -h` shows for --user
            arg = "--user"
        name, eq, value = arg.partition("=")
        matches = [o for o in spec if o == name] or [o for o in spec if o.startswith(name)]
        if not name.startswith("--") or len(matches) != 1:
            unknown.append(arg)
            continue
        attr, default, kind = spec[matches[0]]
        if kind is None:  # a flag: --no-context clears `context`, --background sets its own
            setattr(opts, attr, not default)
            continue
        try:
            if not eq:
                value = next(args, None)  # type: ignore[assignment]
                if value is None:
                    raise ValueError(f"{matches[0]} needs a value")
            setattr(opts, attr, kind(value))
        except ValueError as exc:
            if problems is None:
                raise
            problems.append(f"{matches[0]}: {exc}")
    return opts, unknown


def _sha256(data: bytes) -> Any:
    """hashlib's sha256 without hashlib: it loads OpenSSL (and blake2), the slowest import
    left on the path of `--background`; CPython's own sha256 gives the same digest (the
    spool's file name, which must not change: spooled events are replayed by that name)."""
    try:
        from _sha2 import sha256  # type: ignore[import-not-found]  # CPython 3.12+
    except ImportError:
        try:
            from _sha256 import sha256  # type: ignore[import-not-found]  # 3.11
        except ImportError:
            from hashlib import sha256
    return sha256(data)


def default_user() -> str:
    import getpass  # only when no --user is given

    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name (a bare container): one fixed user
        return "me"


def spool_for(opts: argparse.Namespace) -> Spool:
    """The spool of this target (store or server, and user): replays go where they were
    meant to go, even when several stores are hooked."""
    if opts.spool:
        return Spool(Path(opts.spool))
    target = f"{opts.server or opts.db or 'memvault.db'}|{opts.user}|{opts.agent}"
    if not opts.server and not opts.db:
        target += "|" + os.getcwd()  # ./memvault.db is relative to where the agent runs
    digest = _sha256(target.encode()).hexdigest()[:16]
    return Spool(default_dir() / f"hook-{digest}.jsonl")


def warn(message: str) -> None:
    """One line on stderr (the agent shows it in its debug output, never as a failure)."""
    with contextlib.suppress(OSError, ValueError):
        sys.stderr.write(f"memvault hook: {message}\n")


def reason(exc: BaseException) -> str:
    """Why an event was set aside: memvault's message, or the exception's type and text."""
    from memvault.errors import MemvaultError

    return str(exc) if isinstance(exc, MemvaultError) else f"{type(exc).__name__}: {exc}"


def set_aside(spool: Spool, entry: dict[str, Any], error: str) -> None:
    """Keep an event the store refused for good, with why, in `<spool>.rejected`."""
    Spool(spool.path.with_name(spool.path.name + ".rejected")).append({**entry, "error": error})
    warn(f"event set aside ({error}) in {spool.path}.rejected")


def keep(entry: dict[str, Any] | None, spool: Spool, why: str, *, fix: str | None = None,
         opts: argparse.Namespace | None = None) -> None:  # fmt: skip
    """Spool `entry` (None: nothing new) because of `why`, and say so. `fix`: the hook's own
    option is wrong (a refused --user or --db), so the next calls cannot replay it either:
    say how to bring the events back once the option is corrected."""
    if entry is not None:
        spool.append(entry)
    if fix is None:
        warn(f"{why}; event spooled in {spool.path}")
        return
    hint = f"correct {fix} in the hook's command, then `memvault hook replay"
    if opts is not None and opts.db:
        hint += f" --db {opts.db}"
    hint += f" --user HANDLE --spool {spool.path}`"
    warn(f"{why}; event spooled in {spool.path} (nothing is stored until then): {hint}")


def store_entry(view: OwnerView, entry: dict[str, Any], opts: argparse.Namespace,
                *, context: bool) -> dict[str, Any] | None:  # fmt: skip
    from memvault.hook.record import record

    when = datetime.fromisoformat(entry["received_at"])
    event = entry.get("event")
    if not isinstance(event, dict):
        return None
    return record(view, event, when, agent=opts.agent, context=context)


def deliver_to_store(
    entry: dict[str, Any] | None, spool: Spool, opts: argparse.Namespace, *, wait: bool = False
) -> None:
    """Replay the spool, then store `entry` (None: replay only). A store that cannot be
    reached or stays busy spools the event; an event it refuses is set aside. `wait`: wait
    for a replay running in another process, then replay until the spool is empty (the
    background writer, which nobody waits for)."""
    os.environ.setdefault("PGCONNECT_TIMEOUT", CONNECT_TIMEOUT)
    from memvault.errors import StoreError
    from memvault.ownerview import OwnerView
    from memvault.vault import Vault

    try:
        vault = Vault(opts.db, create=False, auto_upgrade=False, busy_timeout=opts.busy_timeout,
                      pool_size=1, embed_memories=False)  # fmt: skip
    except StoreError as exc:
        keep(entry, spool, f"store not available ({exc})")
        return
    except Exception as exc:  # a --db memvault refuses: the hook's setting, not the event
        keep(entry, spool, f"--db refused ({reason(exc)})", fix="--db")
        return
    with vault:
        try:
            view = OwnerView.for_handle(vault, opts.user)
        except StoreError as exc:
            keep(entry, spool, f"store busy or unavailable ({exc})")
            return
        except Exception as exc:  # a handle memvault refuses: the setting, not the event
            keep(entry, spool, f"--user {opts.user!r} refused ({reason(exc)})", fix="--user",
                 opts=opts)  # fmt: skip
            return
        context = opts.context
        if context and entry is not None and starts_session(entry):
            give_context(view, entry)  # before any write: it needs no write lock
            context = False
        deliver(
            entry,
            spool,
            lambda event, new: store_entry(view, event, opts, context=context if new else False),
            StoreError,
            "store busy or unavailable",
            wait=wait,
        )


def starts_session(entry: dict[str, Any]) -> bool:
    event = entry.get("event")
    return isinstance(event, dict) and event.get("hook_event_name") == "SessionStart"


def give_context(view: OwnerView, entry: dict[str, Any]) -> None:
    """Print SessionStart's memories, read before the event is written: while another
    process holds the write lock, the write waits and is spooled, but the agent still gets
    its context. A failed read costs the context only; the event is still delivered."""
    from memvault.hook.record import context_output

    try:
        out = context_output(view, entry["event"])
    except Exception as exc:
        warn(f"no context for the session ({reason(exc)})")
        return
    if out is not None:
        sys.stdout.write(json.dumps(out, ensure_ascii=False) + "\n")


def deliver(
    entry: dict[str, Any] | None,
    spool: Spool,
    send: Callable[[dict[str, Any], bool], Any],
    transient: type[Exception],
    unavailable: str,
    *,
    wait: bool = False,
) -> None:
    """Replay the spool through `send(event, False)`, then `send(entry, True)` and print
    what it answers. An event refused (any error but `transient`) is set aside, never
    retried forever; `transient` (the store or service not available now) spools `entry`.
    `wait`: wait for a replay running in another process, then replay until the spool is
    empty. The one delivery loop of the direct and the `--server` paths."""
    try:
        while True:
            with spool.replaying(wait=wait) as replay:
                if replay is not None:
                    for old in replay.entries:
                        try:
                            send(old, False)
                        except transient:
                            raise
                        except Exception as exc:  # refused, or a bug: never retried forever
                            set_aside(spool, old, reason(exc))
                        replay.done()
            if not wait or replay is None or not spool.path.exists():
                break
        if entry is not None:
            try:
                out = send(entry, True)
            except transient:
                raise
            except Exception as exc:  # refused, or a bug: kept, not lost
                set_aside(spool, entry, reason(exc))
                return
            if out is not None:
                sys.stdout.write(json.dumps(out, ensure_ascii=False) + "\n")
    except transient as exc:
        # `headline`: a transient error's own cause (a refused key), else `unavailable`
        keep(entry, spool, f"{getattr(exc, 'headline', unavailable)} ({exc})")


def background(entry: dict[str, Any] | None, spool: Spool, opts: argparse.Namespace) -> bool:
    """`--background`: spool the event durably, leave a detached child to store it, and let
    the agent go on (DCM's hook ran as `(nohup … &)` for the same reason). SessionStart stays
    in the foreground: its output is the memories for the session. True: nothing left to do."""
    if not opts.background or opts.server or entry is None or not hasattr(os, "fork"):
        return False
    if entry["event"].get("hook_event_name") == "SessionStart" and opts.context:
        return False
    spool.append(entry)
    sys.stdout.flush()
    sys.stderr.flush()
    ready, told = os.pipe()
    if os.fork() != 0:
        # The agent reads our stdout and stderr until every copy is closed: wait until the
        # child has let go of its copies, so that it never waits for the child's turn.
        os.close(told)
        os.read(ready, 1)
        os.close(ready)
        return True
    try:
        os.close(ready)
        os.setsid()
        devnull = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(devnull, fd)
        os.write(told, b".")
        os.close(told)
        deliver_to_store(None, spool, opts, wait=True)
    finally:
        os._exit(0)


def read_event(raw: bytes) -> dict[str, Any] | None:
    try:
        event = json.loads(raw.decode("utf-8", "replace")) if raw.strip() else None
    except ValueError:
        return None
    return event if isinstance(event, dict) else None


def main(argv: list[str] | None = None) -> int:
    """Run the hook on `argv` (without `memvault hook`); always returns 0."""
    try:
        problems: list[str] = []
        opts, unknown = parse(sys.argv[2:] if argv is None else argv, problems)
        if unknown:
            warn(f"ignoring unknown arguments {unknown}")
        for problem in problems:
            warn(f"ignoring {problem}")
        opts.user_given = bool(opts.user)  # --server checks a given --user against --key
        opts.user = opts.user or default_user()
        raw = sys.stdin.buffer.read() if not sys.stdin.isatty() else b""
        event = read_event(raw)
        if event is None and raw.strip():
            warn("stdin is not a JSON object; nothing recorded")
        entry = None
        if event is not None:
            entry = {"received_at": datetime.now(UTC).isoformat(), "event": event}
        spool = spool_for(opts)
        if event is not None:
            from memvault.hook.starts import handle

            if handle(spool, event):  # PreToolUse: its call's start noted, nothing to store
                return 0
        if background(entry, spool, opts):
            return 0
        if opts.server:
            from memvault.hook.remote import deliver_to_server

            deliver_to_server(entry, spool, opts)
        elif entry is not None or spool.path.exists():
            deliver_to_store(entry, spool, opts)
    except BaseException as exc:  # never fail the agent, whatever happened
        if isinstance(exc, KeyboardInterrupt):
            return 0
        warn(f"{type(exc).__name__}: {exc}")
    finally:
        with contextlib.suppress(OSError, ValueError):
            sys.stdout.flush()
    return 0


def exit_now(code: int) -> NoReturn:
    """End the hook's process once `main` returned: flush stdout and stderr, then `os._exit`.
    By then the store is closed and every event stored or spooled (fsynced), so the
    interpreter's shutdown (tearing down every module, ~10-30 ms) is time the agent waits
    for and nothing else."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(code)


def timed_main() -> None:
    """`python -m memvault.hook.run`: the hook, with its process time on stderr when
    MEMVAULT_HOOK_TIMING is set (bench/hook_bench.py reads it)."""
    start = time.perf_counter()
    code = main()
    if os.environ.get("MEMVAULT_HOOK_TIMING"):
        warn(f"took {1000 * (time.perf_counter() - start):.1f} ms")
    exit_now(code)


if __name__ == "__main__":
    timed_main()
