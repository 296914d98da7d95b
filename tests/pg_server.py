"""A throw-away PostgreSQL server for the tests.

`shared_server()` starts one cluster per test process on first use (initdb
into a temporary directory, `pg_ctl start` listening only on a unix socket in
that directory) and stops and removes it when the process exits.  Each test
gets its own database from `new_database_url()`, so tests never see each
other's rows.

* Run as root (CI), the server runs as the `postgres` user (PostgreSQL refuses
  to run as root): the temporary directory is chown'ed to it and the
  commands go through `runuser -u postgres --`.
* `STORYLINE_TEST_PG_URL` (a superuser or CREATEDB role) replaces the
  throw-away cluster: test databases are created on that server instead.
* Without PostgreSQL binaries (and without that variable) the PostgreSQL
  tests skip with a message saying so; nothing else is required.

The cluster is tuned for speed, not durability (fsync off, in /dev/shm when
there is room): it only lives for one test session.
"""

from __future__ import annotations

import atexit
import contextlib
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

ENV_URL = "STORYLINE_TEST_PG_URL"
_DIR_PREFIX = "storyline-pg-"
_OWNER_FILE = "owner.pid"

NO_SERVER_MESSAGE = (
    "PostgreSQL tests skipped: no PostgreSQL server binaries (initdb, pg_ctl) under "
    "/usr/lib/postgresql/*/bin or on PATH, and STORYLINE_TEST_PG_URL is not set"
)


class NoPostgres(RuntimeError):
    """There are no PostgreSQL binaries (and no STORYLINE_TEST_PG_URL): the tests skip."""


class PostgresStartError(RuntimeError):
    """The binaries exist but the server would not start: the tests fail, loudly."""


def find_bin_dir() -> Path | None:
    """The directory holding initdb and pg_ctl, newest major version first."""
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"),
        key=lambda p: int(Path(p).parent.name) if Path(p).parent.name.isdigit() else 0,
        reverse=True,
    )
    for directory in candidates:
        if (Path(directory) / "initdb").exists() and (Path(directory) / "pg_ctl").exists():
            return Path(directory)
    initdb = shutil.which("initdb")
    if initdb and shutil.which("pg_ctl"):
        return Path(initdb).parent
    return None


def _free_port() -> int:
    # The server listens on no TCP port, but the port number names its socket
    # file; a free TCP port is an easy way to avoid clashing with another one.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _cluster_parent() -> str | None:
    """Where the cluster goes: /dev/shm (memory) when it has room, else the temp dir.

    Creating and dropping a database per test is file-system work; on tmpfs
    it costs nothing, on a busy disk it dominated the run.
    """
    shm = Path("/dev/shm")
    try:
        if shm.is_dir() and os.access(shm, os.W_OK) and shutil.disk_usage(shm).free > 1 << 30:
            return str(shm)
    except OSError:
        pass
    return None


def _remove_stale_clusters(bin_dir: Path) -> None:
    """Stop and remove clusters left by test runs that were killed before cleaning up."""
    parents = {Path(tempfile.gettempdir()), Path(_cluster_parent() or tempfile.gettempdir())}
    stale = [d for parent in parents for d in parent.glob(f"{_DIR_PREFIX}*")]
    for directory in stale:
        owner = directory / _OWNER_FILE
        try:
            pid = int(owner.read_text().strip())
        except (OSError, ValueError):
            continue
        try:
            os.kill(pid, 0)
            continue  # its test run is still going
        except ProcessLookupError:
            pass
        except PermissionError:
            continue
        postmaster = directory / "data" / "postmaster.pid"
        with contextlib.suppress(OSError, ValueError, ProcessLookupError, PermissionError):
            os.kill(int(postmaster.read_text().split()[0]), signal.SIGQUIT)
        shutil.rmtree(directory, ignore_errors=True)


@dataclass
class PostgresServer:
    """A running cluster (started here) or an external server (from STORYLINE_TEST_PG_URL)."""

    admin_url: str  # connects to an existing database with the right to CREATE DATABASE
    base_url: str  # URL with "{db}" where the database name goes
    bin_dir: Path | None = None
    directory: Path | None = None
    run_as: str | None = None
    created: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def new_database_url(self) -> str:
        """Create an empty database and return its URL.

        Databases of earlier tests that nobody uses any more are dropped
        first, so a run never holds more than a few (each is ~8 MB).
        """
        import psycopg

        name = f"storyline_test_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            with self._lock:
                earlier = list(self.created)
            for old in earlier:
                try:  # no FORCE: a database still in use (a store left open) stays
                    conn.execute(f'DROP DATABASE IF EXISTS "{old}"')
                except psycopg.Error:
                    continue
                with self._lock:
                    self.created.remove(old)
            # FILE_COPY (PostgreSQL 15+) copies the small template directly instead
            # of through the WAL: ~30 ms instead of ~300 ms a database.
            strategy = " STRATEGY = FILE_COPY" if conn.info.server_version >= 150000 else ""
            conn.execute(f'CREATE DATABASE "{name}"{strategy}')
        with self._lock:
            self.created.append(name)
        return self.base_url.format(db=name)

    def stop(self) -> None:
        if self.directory is None:  # an external server: drop what we created
            self._drop_created()
            return
        data = self.directory / "data"
        if (data / "postmaster.pid").exists() and self.bin_dir is not None:
            subprocess.run(
                [*self._as_owner(), str(self.bin_dir / "pg_ctl"), "-D", str(data),
                 "-m", "immediate", "-w", "stop"],
                capture_output=True, check=False, timeout=60,
            )
        shutil.rmtree(self.directory, ignore_errors=True)
        self.directory = None

    def _drop_created(self) -> None:
        try:
            import psycopg

            with psycopg.connect(self.admin_url, autocommit=True) as conn:
                for name in self.created:
                    with contextlib.suppress(psycopg.Error):
                        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        except Exception:  # cleanup at exit must never fail the run
            pass
        self.created.clear()

    def _as_owner(self) -> list[str]:
        return ["runuser", "-u", self.run_as, "--"] if self.run_as else []


def start_server(bin_dir: Path) -> PostgresServer:
    """initdb a cluster in a new temporary directory and start it on a unix socket there."""
    run_as = None
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError as exc:
            raise PostgresStartError("running as root and there is no 'postgres' user to run the "
                             "server as (PostgreSQL refuses to run as root)") from exc
        run_as = "postgres"
    _remove_stale_clusters(bin_dir)
    directory = Path(tempfile.mkdtemp(prefix=_DIR_PREFIX, dir=_cluster_parent()))
    (directory / _OWNER_FILE).write_text(str(os.getpid()))
    data = directory / "data"
    if run_as:
        entry = pwd.getpwnam(run_as)
        os.chown(directory, entry.pw_uid, entry.pw_gid)
    directory.chmod(0o755)
    prefix = ["runuser", "-u", run_as, "--"] if run_as else []
    user = run_as or pwd.getpwuid(os.geteuid()).pw_name
    server = PostgresServer(admin_url="", base_url="", bin_dir=bin_dir, directory=directory,
                            run_as=run_as)
    try:
        subprocess.run(
            [*prefix, str(bin_dir / "initdb"), "-D", str(data), "-U", user, "--auth=trust",
             "--encoding=UTF8", "--locale=C", "--no-sync", "--no-instructions"],
            capture_output=True, check=True, timeout=120,
        )
        port = _free_port()
        options = (
            f"-c port={port} -c listen_addresses='' -c unix_socket_directories='{directory}' "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
            "-c max_connections=200 -c shared_buffers=32MB -c max_locks_per_transaction=128"
        )
        subprocess.run(
            [*prefix, str(bin_dir / "pg_ctl"), "-D", str(data), "-l",
             str(directory / "server.log"), "-o", options, "-w", "-t", "60", "start"],
            capture_output=True, check=True, timeout=90,
        )
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as exc:
        log = directory / "server.log"
        detail = getattr(exc, "stderr", b"") or b""
        tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
        server.stop()
        raise PostgresStartError(
            f"could not start a test PostgreSQL from {bin_dir}: {exc}\n"
            f"{detail.decode(errors='replace')}\n{tail}"
        ) from exc
    host = quote(str(directory), safe="")
    server.base_url = f"postgresql://{quote(user)}@/{{db}}?host={host}&port={port}"
    server.admin_url = server.base_url.format(db="postgres")
    return server


def external_server(url: str) -> PostgresServer:
    """Test databases on the server at `url`, a postgresql:// URL (the role needs CREATEDB)."""
    parts = urlsplit(url)
    if parts.scheme not in ("postgresql", "postgres"):
        raise PostgresStartError(f"{ENV_URL} must be a postgresql:// URL, not {url!r}")
    return PostgresServer(admin_url=url, base_url=urlunsplit(parts._replace(path="/{db}")))


_shared: PostgresServer | None = None
_shared_error: RuntimeError | None = None
_shared_lock = threading.Lock()


def shared_server() -> PostgresServer:
    """The session's server, started on first use and stopped when the process exits.

    Raises NoPostgres when there are no binaries, PostgresStartError when the
    server would not start.
    """
    global _shared, _shared_error
    with _shared_lock:
        if _shared is not None:
            return _shared
        if _shared_error is not None:
            raise _shared_error
        url = os.environ.get(ENV_URL, "").strip()
        try:
            if url:
                _shared = external_server(url)
            else:
                bin_dir = find_bin_dir()
                if bin_dir is None:
                    raise NoPostgres(NO_SERVER_MESSAGE)
                _shared = start_server(bin_dir)
        except (NoPostgres, PostgresStartError) as exc:
            _shared_error = exc
            raise
        atexit.register(_shared.stop)
        return _shared


if __name__ == "__main__":  # a server for trying things by hand: prints a URL, runs until ^C
    import time

    bin_dir = find_bin_dir()
    if bin_dir is None:
        raise SystemExit(NO_SERVER_MESSAGE)
    manual = start_server(bin_dir)
    try:
        print(f"STORYLINE_DB={manual.new_database_url()}  (Ctrl-C stops and removes the server)",
              flush=True)
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        manual.stop()
