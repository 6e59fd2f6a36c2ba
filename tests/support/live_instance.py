"""A real Candor deployment on this machine for benchmarks and soak tests: a migrated database
with an organisation key and one recipient per route, Candor's server (``app/server.py``) with
two processes on loopback, and a throwaway PostgreSQL cluster that can be restarted under load.

The server runs Candor's own settings and the production environment, with two changes made through
the configuration only: the reporter key derivation uses the cheapest parameters
(``fast_kdf_for_tests``, see ``tests/support/fast_kdf_wsgi.py``), so that clients can prebuild
thousands of submissions, and the rate limits are lifted so that they do not cap what is being
measured.
"""

from __future__ import annotations

import base64
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
SECRET = "live-instance-secret-key-long-enough-for-production-checks"
RECIPIENTS = (("rso", "rso"), ("executive", "executive"), ("board", "board"))
PG_SUPERUSER = "candor"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- PostgreSQL -------------------------------------------------------------------------------
def _as_postgres(args: list[str]) -> list[str]:
    # As root, initdb refuses to run: the cluster belongs to the postgres user.
    if os.geteuid() != 0:
        return args
    return ["su", "postgres", "-s", "/bin/sh", "-c", " ".join(f"'{a}'" for a in args)]


class PostgresCluster:
    """A cluster in a temporary directory, started and stopped with pg_ctl."""

    def __init__(self, initialise: bool = True) -> None:
        """``initialise`` False: an empty data directory, for ``pg_basebackup`` to fill."""
        self.directory = Path(tempfile.mkdtemp(prefix="candor-pg-"))
        self.data = self.directory / "pgdata"
        self.log = self.directory / "postgres.log"
        self.port = free_port()
        if os.geteuid() == 0:
            shutil.chown(self.directory, "postgres")
        if initialise:
            subprocess.run(_as_postgres(["initdb", "-D", str(self.data), "-U", PG_SUPERUSER,
                                         "--auth=trust", "--encoding=UTF8",
                                         "--locale=C.UTF-8"]),
                           check=True, capture_output=True)

    def _pg_ctl(self, *args: str) -> None:
        options = (f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.directory} "
                   "-c max_connections=200")
        subprocess.run(_as_postgres(["pg_ctl", "-D", str(self.data), "-o", options, "-l",
                                     str(self.log), "-w", *args]),
                       check=True, capture_output=True)

    def start(self) -> None:
        self._pg_ctl("start")
        self.wait_ready()

    def restart(self) -> None:
        """``pg_ctl restart -m fast``: every open connection is cut."""
        self._pg_ctl("-m", "fast", "restart")
        self.wait_ready()

    def stop(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self._pg_ctl("-m", "immediate", "stop")

    def kill(self) -> None:
        """kill -9 of the postmaster and every process it started, as when its machine dies:
        nothing is flushed, no client is told."""
        pid = int((self.data / "postmaster.pid").read_text().split()[0])
        children = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True,
                                  check=False).stdout.split()
        for victim in [pid, *map(int, children)]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(victim, signal.SIGKILL)

    def promote(self) -> None:
        """``pg_ctl promote`` of a standby; returns once it accepts writes."""
        self._pg_ctl("promote")

    def wait_ready(self) -> None:
        for _ in range(100):
            try:
                self.execute("SELECT 1")
                return
            except psycopg.OperationalError:
                time.sleep(0.1)
        raise RuntimeError("PostgreSQL did not start")

    def execute(self, sql: str) -> None:
        with psycopg.connect(f"host=127.0.0.1 port={self.port} user={PG_SUPERUSER} "
                             "dbname=postgres", autocommit=True) as connection:
            connection.execute(sql)  # type: ignore[arg-type]

    def create_database(self, name: str) -> str:
        self.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.execute(f'CREATE DATABASE "{name}"')
        return f"postgresql+psycopg://{PG_SUPERUSER}@127.0.0.1:{self.port}/{name}"

    def version(self) -> str:
        out = subprocess.run(["postgres", "--version"], capture_output=True, text=True,
                             check=False, env={**os.environ, "PATH": _pg_path()})
        return out.stdout.strip()

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)


def synchronous_standby(primary: PostgresCluster, name: str = "standby") -> PostgresCluster:
    """A standby of ``primary`` made with ``pg_basebackup -R``, started, and named in the
    primary's ``synchronous_standby_names``: from the return on, a commit on the primary is
    acknowledged only once the standby has it."""
    standby = PostgresCluster(initialise=False)
    subprocess.run(_as_postgres(["pg_basebackup", "-D", str(standby.data), "-h", "127.0.0.1",
                                 "-p", str(primary.port), "-U", PG_SUPERUSER, "-R",
                                 "-X", "stream", "-c", "fast"]),
                   check=True, capture_output=True)
    with (standby.data / "postgresql.auto.conf").open("a") as conf:  # the last setting wins
        conf.write(f"primary_conninfo = 'host=127.0.0.1 port={primary.port} "
                   f"user={PG_SUPERUSER} application_name={name}'\n")
    standby.start()
    primary.execute(f"ALTER SYSTEM SET synchronous_standby_names = '{name}'")
    primary.execute("SELECT pg_reload_conf()")
    with psycopg.connect(f"host=127.0.0.1 port={primary.port} user={PG_SUPERUSER} "
                         "dbname=postgres", autocommit=True) as connection:
        for _ in range(300):
            row = connection.execute("SELECT sync_state FROM pg_stat_replication "
                                     "WHERE application_name = %s", (name,)).fetchone()
            if row and row[0] == "sync":
                return standby
            time.sleep(0.1)
    raise RuntimeError("the standby did not become synchronous")


def _pg_path() -> str:
    path = os.environ.get("PATH", "")
    for candidate in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        path += os.pathsep + str(candidate)
    return path


@contextlib.contextmanager
def postgres_cluster() -> Iterator[PostgresCluster]:
    cluster = PostgresCluster()
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.remove()


# --- a Candor instance ------------------------------------------------------------------------
@dataclass
class Recipient:
    staff_id: int
    username: str
    password: str


@dataclass
class Instance:
    """An instance folder and a migrated database, with the recipients' passwords (so tests can
    unwrap their private keys and check that what was stored decrypts)."""

    path: Path
    database_url: str
    recipients: list[Recipient] = field(default_factory=list)
    blob_store: str = "filesystem"  # CANDOR_BLOB_STORE

    def environment(self, **extra: str) -> dict[str, str]:
        env = {
            **os.environ,
            "CANDOR_ENV": "production",
            "CANDOR_HTTPS": "false",  # loopback, plain http: cookies must not be Secure-only
            "CANDOR_SECRET_KEY": SECRET,
            "CANDOR_DATABASE_URL": self.database_url,
            "CANDOR_INSTANCE_PATH": str(self.path),
            "CANDOR_SUBMISSIONS_PER_MINUTE": "100000000",
            "CANDOR_CODENAME_ATTEMPTS_PER_MINUTE": "100000000",
            "CANDOR_PROOF_OF_WORK_BITS": "0",
            "CANDOR_BLOB_STORE": self.blob_store,
            "PYTHONPATH": str(ROOT),
        }
        env.update(extra)
        return env

    def config(self) -> Any:
        from app.config import Config

        return Config(environment="testing", secret_key=SECRET, database_url=self.database_url,
                      instance_path=self.path, fast_kdf_for_tests=True, proof_of_work_bits=0,
                      blob_store=self.blob_store)

    def app(self) -> Any:
        from app import create_app

        return create_app(self.config())

    def private_keys(self) -> dict[int, Any]:
        """Staff id → unwrapped key pair of every recipient."""
        from app.extensions import db
        from app.models import StaffUser
        from crypto import kdf, keys

        app = self.app()
        result = {}
        with app.app_context():
            for recipient in self.recipients:
                staff = db.session.get(StaffUser, recipient.staff_id)
                assert staff is not None
                derived = kdf.derive_staff_secrets(recipient.password, staff.kdf_salt,
                                                   kdf.params_by_version(staff.kdf_version))
                result[staff.id] = keys.unwrap_private_key(
                    staff.wrapped_private_key, derived.unwrap_key, str(staff.id))
            db.session.remove()
            db.engine.dispose()
        return result


def prepare_instance(path: Path, database_url: str, blob_store: str = "filesystem") -> Instance:
    """Migrate the database, create and pin the organisation key, and one recipient per route
    whose key is signed into the directory."""
    import flask_migrate

    from app.extensions import db
    from app.roles import Role
    from app.services.directory import init_organisation_key, load_signing_key
    from app.services.staff_accounts import create_staff

    path.mkdir(parents=True, exist_ok=True)
    instance = Instance(path, database_url, blob_store=blob_store)
    app = instance.app()
    config = instance.config()
    with app.app_context():
        flask_migrate.upgrade()
        init_organisation_key(db.session, config.org_signing_key_path, config.instance_path)
        signing_key = load_signing_key(config.org_signing_key_path)
        for username, role in RECIPIENTS:
            password = f"password-of-{username}-for-load"
            staff = create_staff(db.session, username=username, roles=[Role(role)],
                                 password=password, config=config, signing_key=signing_key)
            db.session.flush()
            instance.recipients.append(Recipient(staff.id, username, password))
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return instance


# --- Candor's server -------------------------------------------------------------------------
class Server:
    """``python -m app.server`` (uvicorn in front, the WSGI app in threads behind) serving
    ``target`` on a loopback port with ``workers`` processes; its output goes to ``log``."""

    def __init__(self, target: str, env: dict[str, str], log: Path, workers: int = 2,
                 port: int | None = None) -> None:
        self.target = target
        self.env = env
        self.log = log
        self.workers = workers
        self.port = port or free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, ready_path: str = "/api/v1/session") -> None:
        env = {**self.env, "HOST": "127.0.0.1", "PORT": str(self.port),
               "WEB_CONCURRENCY": str(self.workers)}
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [str(BIN / "python"), "-m", "app.server", self.target],
                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited with {self.process.returncode}: "
                                   f"see {self.log}")
            try:
                with urllib.request.urlopen(self.url + ready_path, timeout=5):
                    if len(self.worker_pids()) >= (self.workers if self.workers > 1 else 0):
                        return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"the server did not answer within 60 s: see {self.log}")

    def worker_pids(self) -> list[int]:
        """The worker processes (none when one process serves alone)."""
        assert self.process is not None
        if self.workers <= 1:
            return []
        out = subprocess.run(["ps", "-o", "pid=,args=", "--ppid", str(self.process.pid)],
                             capture_output=True, text=True, check=False).stdout
        # uvicorn's workers are spawned by multiprocessing; anything else it starts is not one.
        return [int(line.split()[0]) for line in out.splitlines()
                if "multiprocessing" in line and "resource_tracker" not in line]

    def kill(self) -> None:
        """kill -9 of the supervisor and its workers: no shutdown code runs anywhere."""
        if self.process is None:
            return
        pids = self.worker_pids()
        for pid in [self.process.pid, *pids]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.process.wait()
        self.process = None

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=40)
        except subprocess.TimeoutExpired:
            self.kill()
        self.process = None


@contextlib.contextmanager
def server(target: str, env: dict[str, str], log: Path, workers: int = 2) -> Iterator[Server]:
    running = Server(target, env, log, workers)
    running.start()
    try:
        yield running
    finally:
        running.stop()


CANDOR_TARGET = "tests.support.fast_kdf_wsgi:app"


def b64decode(text: str) -> bytes:
    return base64.b64decode(text, validate=True)
