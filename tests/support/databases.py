"""Throwaway databases for tests: SQLite files, or a PostgreSQL cluster in a temporary directory.

As root, ``initdb`` refuses to run, so the cluster is created and started as the ``postgres``
user in a directory that user owns; it is stopped and removed when the test session ends.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import sqlite3
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

import psycopg

SUPERUSER = "candor"


def backend() -> str:
    return os.environ.get("CANDOR_TEST_DATABASE", "sqlite")


class Server(Protocol):
    def create_database(self, name: str, template: str | None = None) -> str: ...


class SQLiteServer:
    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def create_database(self, name: str, template: str | None = None) -> str:
        path = self.directory / f"{name}.sqlite3"
        for stale in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            stale.unlink(missing_ok=True)
        if template is not None:
            # SQLite's backup API, not a file copy: in WAL mode, committed pages may still be in
            # the template's -wal file
            source = template.removeprefix("sqlite:///")
            with contextlib.closing(sqlite3.connect(source)) as original, \
                    contextlib.closing(sqlite3.connect(path)) as copy:
                original.backup(copy)
        return f"sqlite:///{path}"


class PostgresServer:
    def __init__(self, port: int) -> None:
        self.port = port

    def url(self, name: str) -> str:
        return f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{self.port}/{name}"

    def execute(self, sql: str) -> None:
        with psycopg.connect(f"host=127.0.0.1 port={self.port} user={SUPERUSER} dbname=postgres",
                             autocommit=True) as connection:
            connection.execute(sql)  # type: ignore[arg-type]

    def create_database(self, name: str, template: str | None = None) -> str:
        self.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        clause = f' TEMPLATE "{template.rsplit("/", 1)[1]}"' if template else ""
        self.execute(f'CREATE DATABASE "{name}"{clause}')
        return self.url(name)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _as_postgres(args: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return args
    return ["su", "postgres", "-s", "/bin/sh", "-c", " ".join(f"'{a}'" for a in args)]


@contextlib.contextmanager
def start(directory: Path) -> Iterator[Server]:
    if backend() == "sqlite":
        yield SQLiteServer(directory)
        return
    if backend() != "postgresql":
        raise RuntimeError("CANDOR_TEST_DATABASE must be sqlite or postgresql")
    # pytest's own temporary tree is private to root, so the cluster gets a directory of its own.
    directory = Path(tempfile.mkdtemp(prefix="candor-pg-"))
    data = directory / "pgdata"
    if os.geteuid() == 0:
        shutil.chown(directory, "postgres")
    port = _free_port()
    subprocess.run(_as_postgres(["initdb", "-D", str(data), "-U", SUPERUSER, "--auth=trust",
                                 "--encoding=UTF8", "--locale=C.UTF-8"]),
                   check=True, capture_output=True)
    options = f"-c listen_addresses=127.0.0.1 -p {port} -k {directory} -c fsync=off"
    subprocess.run(_as_postgres(["pg_ctl", "-D", str(data), "-o", options, "-l",
                                 str(directory / "postgres.log"), "-w", "start"]),
                   check=True, capture_output=True)
    try:
        server = PostgresServer(port)
        for _ in range(50):
            try:
                server.execute("SELECT 1")
                break
            except psycopg.OperationalError:
                time.sleep(0.1)
        yield server
    finally:
        subprocess.run(_as_postgres(["pg_ctl", "-D", str(data), "-m", "immediate", "stop"]),
                       check=False, capture_output=True)
        shutil.rmtree(directory, ignore_errors=True)
