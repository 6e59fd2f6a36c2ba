"""``candor backup`` and ``candor restore``: one archive holding a consistent snapshot of the
database, the encrypted blob store and the instance files an operator must keep.

What goes in (``MANIFEST``, listed again in the archive's ``manifest.json``):

- the database: SQLite through its online backup API (consistent while the app runs), or
  PostgreSQL through ``pg_dump --format=custom`` (one consistent snapshot, taken inside a
  single transaction by pg_dump itself);
- ``blobs/``: attachment ciphertext, copied file by file (with ``CANDOR_BLOB_STORE=database``
  it is rows of the database, in its snapshot with everything else);
- ``secret_key``: the server secret. **A secret.** Every codename look-up hash and reporter
  cookie is keyed from it: restored without it, no reporter can find their case again;
- ``org-fingerprint``: the pinned organisation key fingerprint (public, but it must not change);
- ``audit-checkpoint.key`` and ``audit-checkpoint.pub``, the audit checkpoint key and its pinned
  public half, when the instance has them. **A secret**, but an online one (the tick signs with
  it every hour): restored without it, no new checkpoint is signed, and a new key would make
  every old checkpoint fail to verify;
- ``taxonomy.json`` when the instance has one.

Archives expire (``expire_archives``): each manifest carries ``expires_on``, its day of making
plus ``CANDOR_BACKUP_KEEP_DAYS`` (35 by default). Every ``candor backup`` deletes the Candor
archives in the folder it writes to whose day has come, and ``candor restore`` refuses an
expired archive unless told otherwise: what retention and a handler's destruction removed from
the database must not live on, or come back, from a copy kept forever.

What stays out unless asked: the organisation *signing* key (``--with-signing-key``), which
should live offline. Case content in the archive is ciphertext only, but the archive holds
the secret key and all metadata: keep it like the database itself, encrypted at rest.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess  # pg_dump and pg_restore, run without a shell  # nosec B404
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path, PurePosixPath
from typing import Any

import click
from flask.cli import with_appcontext
from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url

from app.config import SECRET_KEY_FILE, Config
from app.extensions import db
from app.services.audit import VERIFY_KEY_FILE
from app.state import candor

FORMAT = 1
FINGERPRINT_FILE = "org-fingerprint"
TAXONOMY_FILE = "taxonomy.json"
SIGNING_KEY_MEMBER = "org-signing.key"
AUDIT_KEY_MEMBER = "audit-checkpoint.key"
# Instance files kept with the database: name in the archive → whether it is a secret.
MANIFEST = {SECRET_KEY_FILE: True, FINGERPRINT_FILE: False, TAXONOMY_FILE: False,
            AUDIT_KEY_MEMBER: True, VERIFY_KEY_FILE: False}


class BackupError(click.ClickException):
    """A backup or restore cannot go on; the message says why and what to do."""




def _engine_name(url: str) -> str:
    return make_url(url).get_backend_name()


def _libpq(url: str) -> tuple[str, dict[str, str]]:
    """The SQLAlchemy URL as pg_dump and pg_restore take it (no ``+driver``, no password), and
    their environment: a password goes there, never on a command line others can list."""
    parsed = make_url(url)
    env = dict(os.environ)
    if parsed.password is not None:
        env["PGPASSWORD"] = str(parsed.password)
    # URL.set ignores a None (it would have kept the password): _replace removes it.
    bare = parsed.set(drivername="postgresql")._replace(password=None)
    hosts = parsed.query.get("host")
    if isinstance(hosts, tuple):
        # SQLAlchemy's several hosts (``?host=db1:5432&host=db2:5432``, a primary and its
        # standby) in libpq's form: comma-separated hosts and ports.
        names, ports = zip(*(host.rpartition(":")[::2] if ":" in host else (host, "")
                             for host in hosts), strict=True)
        query = {**parsed.query, "host": ",".join(names)}
        if any(ports):
            query["port"] = ",".join(ports)
        bare = bare.set(query=query)
    return bare.render_as_string(hide_password=False), env


def _pg_tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(f"{name} is not on PATH: install the PostgreSQL client programs "
                          f"(Debian: postgresql-client) of the server's major version")
    return found


def _run(command: list[str], what: str, env: dict[str, str]) -> None:
    # A program found on PATH with a list of arguments: no shell is involved.
    done = subprocess.run(command, capture_output=True, text=True, env=env,  # noqa: S603  # nosec B603
                          check=False)
    if done.returncode != 0:
        raise BackupError(f"{what} failed: {done.stderr.strip()[-2000:]}")


# --- backup -----------------------------------------------------------------------------------
def snapshot_database(config: Config, directory: Path) -> str:
    """A consistent copy of the database in ``directory``; returns its file name."""
    engine = _engine_name(config.database_url)
    if engine == "sqlite":
        source = make_url(config.database_url).database
        if not source or source == ":memory:":
            raise BackupError("an in-memory SQLite database cannot be backed up")
        target = directory / "database.sqlite3"
        with sqlite3.connect(source) as live, sqlite3.connect(target) as copy:
            live.backup(copy)  # SQLite's online backup: consistent even while the app writes
        live.close()
        copy.close()
        return target.name
    if engine == "postgresql":
        target = directory / "database.pgdump"
        url, env = _libpq(config.database_url)
        _run([_pg_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges",
              f"--file={target}", f"--dbname={url}"], "pg_dump", env)
        return target.name
    raise BackupError(f"backing up a {engine} database is not supported")


def _revision() -> str | None:
    with db.engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return None
        return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def write_backup(config: Config, output: Path, with_signing_key: bool) -> dict[str, Any]:
    """Write the archive; returns its manifest."""
    with tempfile.TemporaryDirectory(prefix="candor-backup-") as tmp:
        work = Path(tmp)
        os.chmod(work, 0o700)
        database = snapshot_database(config, work)
        files = {}
        for name, secret in MANIFEST.items():
            path = config.instance_path / name
            if name == SECRET_KEY_FILE:
                # The secret in force, whether it came from the file or CANDOR_SECRET_KEY.
                (work / name).write_text(config.secret_key, encoding="ascii")
                files[name] = secret
                continue
            if name == AUDIT_KEY_MEMBER:
                path = config.audit_key_path  # CANDOR_AUDIT_KEY_FILE may put it elsewhere
            if path.is_file():
                shutil.copyfile(path, work / name)
                files[name] = secret
        if with_signing_key:
            shutil.copyfile(config.org_signing_key_path, work / SIGNING_KEY_MEMBER)
            files[SIGNING_KEY_MEMBER] = True
        manifest = {"format": FORMAT, "created_on": datetime.now(UTC).date().isoformat(),
                    "engine": _engine_name(config.database_url), "database": database,
                    "alembic_revision": _revision(), "files": files,
                    "blobs": config.blob_path.is_dir(), "blob_store": config.blob_store,
                    "expires_on": expiry(datetime.now(UTC).date(), config).isoformat()}
        (work / "manifest.json").write_text(json.dumps(manifest, indent=2))
        partial = output.with_name(output.name + ".partial")
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as archive:
            for member in ["manifest.json", database, *files]:
                archive.add(work / member, arcname=member)
            if manifest["blobs"]:
                archive.add(config.blob_path, arcname="blobs")
        partial.replace(output)  # never a half-written archive under the final name
    return manifest


# --- expiry -----------------------------------------------------------------------------------
def expiry(made_on: date, config: Config) -> date:
    return made_on + timedelta(days=config.backup_keep_days)


def archive_expires_on(path: Path, config: Config) -> date | None:
    """The day a Candor archive expires, read from its manifest (its first member); None for a
    file that is not a Candor archive or cannot be read."""
    try:
        with tarfile.open(path, "r:gz") as archive:
            first = archive.next()
            if first is None or first.name != "manifest.json" or not first.isfile():
                return None
            handle = archive.extractfile(first)
            manifest = json.loads(handle.read(64 * 1024)) if handle else None
    except (OSError, tarfile.TarError, ValueError, EOFError):
        return None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        return None
    try:
        if isinstance(manifest.get("expires_on"), str):
            return date.fromisoformat(manifest["expires_on"])
        return expiry(date.fromisoformat(str(manifest.get("created_on"))), config)
    except ValueError:
        return None


def expire_archives(folder: Path, on: date, config: Config, keep: Path | None = None
                    ) -> list[Path]:
    """Delete the Candor archives in ``folder`` that expired by ``on`` (never ``keep``, never
    a link or a file that is not a Candor archive); returns what was deleted."""
    deleted = []
    for path in sorted(folder.glob("*.tar.gz")):
        if path.is_symlink() or not path.is_file() or (keep and path.samefile(keep)):
            continue
        expires_on = archive_expires_on(path, config)
        if expires_on is not None and expires_on <= on:
            path.unlink()
            deleted.append(path)
    return deleted


@click.command("backup")
@click.argument("output", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--keep-expired", is_flag=True,
              help="Do not delete the expired archives in OUTPUT's folder.")
@click.option("--with-signing-key", is_flag=True,
              help="Also include the organisation signing key (normally kept offline).")
@click.option("--force", is_flag=True, help="Replace OUTPUT if it exists.")
@with_appcontext
def backup_command(output: Path, with_signing_key: bool, force: bool,
                   keep_expired: bool) -> None:
    """Write the database, blobs and instance keys to one archive (mode 0600)."""
    config = candor().config
    if output.exists() and not force:
        raise BackupError(f"{output} exists; choose another name or pass --force")
    if with_signing_key and not config.org_signing_key_path.is_file():
        raise BackupError(f"the organisation signing key is not at "
                          f"{config.org_signing_key_path}")
    manifest = write_backup(config, output, with_signing_key)
    blobs = "included" if manifest["blobs"] else "none"
    if config.blob_store == "database":
        blobs = "in the database" + (" and files included" if manifest["blobs"] else "")
    click.echo(f"Backup written to {output} ({manifest['engine']}, schema "
               f"{manifest['alembic_revision']}, blobs {blobs}).")
    secrets_ = [name for name, secret in manifest["files"].items() if secret]
    click.echo(f"WARNING: it contains secrets ({', '.join(secrets_)}) and every case's metadata. "
               "Store it encrypted and as carefully as the database.")
    if not with_signing_key:
        click.echo("The organisation signing key is not included: keep it offline as before.")
    click.echo(f"It expires on {manifest['expires_on']} (CANDOR_BACKUP_KEEP_DAYS).")
    if not keep_expired:
        for path in expire_archives(output.parent, datetime.now(UTC).date(), config, output):
            click.echo(f"Deleted the expired archive {path}.")


# --- restore ----------------------------------------------------------------------------------
def _members(archive: tarfile.TarFile) -> Iterator[tarfile.TarInfo]:
    """Only regular files and directories with plain relative names: an archive cannot write
    outside the folder it is unpacked into, or through a link."""
    for member in archive.getmembers():
        name = PurePosixPath(member.name)
        if name.is_absolute() or ".." in name.parts or not (member.isfile() or member.isdir()):
            raise BackupError(f"refusing archive member {member.name!r}")
        yield member


@contextmanager
def unpacked(path: Path) -> Iterator[tuple[Path, dict[str, Any]]]:
    with tempfile.TemporaryDirectory(prefix="candor-restore-") as tmp:
        work = Path(tmp)
        try:
            with tarfile.open(path, "r:gz") as archive:
                archive.extractall(work, members=list(_members(archive)), filter="data")
            manifest = json.loads((work / "manifest.json").read_text())
        except (OSError, tarfile.TarError, ValueError, KeyError) as error:
            raise BackupError(f"{path} is not a Candor backup: {error}") from None
        if manifest.get("format") != FORMAT:
            raise BackupError(f"{path} has backup format {manifest.get('format')!r}; this "
                              f"version of Candor reads format {FORMAT}")
        yield work, manifest


def _database_is_empty() -> bool:
    with db.engine.connect() as connection:
        return not inspect(connection).get_table_names()


def _has_checkpoints() -> bool:
    with db.engine.connect() as connection:
        if not inspect(connection).has_table("audit_checkpoints"):
            return False
        return connection.execute(text("SELECT 1 FROM audit_checkpoints LIMIT 1")).first() \
            is not None


def restore_database(config: Config, work: Path, manifest: dict[str, Any]) -> None:
    engine = _engine_name(config.database_url)
    if engine != manifest["engine"]:
        raise BackupError(f"the backup holds a {manifest['engine']} database but "
                          f"CANDOR_DATABASE_URL names a {engine} one")
    if not _database_is_empty():
        raise BackupError("the database is not empty: restore only into a new, empty database")
    db.engine.dispose()  # nothing of ours holds the database while it is replaced
    source = work / manifest["database"]
    if engine == "sqlite":
        target = make_url(config.database_url).database
        assert target
        with sqlite3.connect(source) as copy, sqlite3.connect(target) as live:
            copy.backup(live)
        copy.close()
        live.close()
    else:
        url, env = _libpq(config.database_url)
        _run([_pg_tool("pg_restore"), "--no-owner", "--no-privileges", "--single-transaction",
              "--exit-on-error", f"--dbname={url}", str(source)], "pg_restore", env)


def restore_files(config: Config, work: Path, manifest: dict[str, Any]) -> list[str]:
    """Put the instance files and blobs in place; returns warnings for the operator."""
    warnings = []
    config.instance_path.mkdir(mode=0o700, parents=True, exist_ok=True)
    for name in manifest["files"]:
        source = work / name
        if name in (SIGNING_KEY_MEMBER, AUDIT_KEY_MEMBER):
            target = (config.org_signing_key_path if name == SIGNING_KEY_MEMBER
                      else config.audit_key_path)
            if target.exists():
                if target.read_bytes() != source.read_bytes():
                    warnings.append(f"{target} exists, holds another key, and was left as it "
                                    f"is; the backed-up one is {name} in the archive")
                continue
            target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        else:
            target = config.instance_path / name
        target.write_bytes(source.read_bytes())
        if manifest["files"][name]:
            os.chmod(target, 0o600)
    archived_secret = (work / SECRET_KEY_FILE).read_text(encoding="ascii")
    secret_file = config.instance_path / SECRET_KEY_FILE
    if not config.secret_key_from_environment:
        # Nothing here tells what the server's own environment sets: say it in any case.
        warnings.append(
            f"CANDOR_SECRET_KEY is not set here. The backed-up secret is now in {secret_file}; "
            "the server uses it only if its environment does not set CANDOR_SECRET_KEY. If it "
            "does, set it to that value, or no reporter can find their case")
    elif archived_secret != config.secret_key:
        warnings.append(
            f"CANDOR_SECRET_KEY differs from the backed-up secret, which is now in {secret_file}"
            ": unset CANDOR_SECRET_KEY or set it to that value, or no reporter can find their "
            "case")
    if not config.audit_key_path.exists() and _has_checkpoints():
        warnings.append(
            f"the trail has signed checkpoints but the backup holds no audit checkpoint key: "
            f"copy the old instance's {AUDIT_KEY_MEMBER} to {config.audit_key_path} and its "
            f"{VERIFY_KEY_FILE} into {config.instance_path}. Do not run `candor audit init`: "
            "under a new key every old checkpoint fails to verify")
    if config.org_fingerprint:
        warnings.append("CANDOR_ORG_FINGERPRINT is set and overrides the restored pin")
    stored_in = manifest.get("blob_store", "filesystem")
    if stored_in != config.blob_store:
        warnings.append(f"the backed-up instance kept attachments in its {stored_in} store and "
                        f"this one uses its {config.blob_store} store (CANDOR_BLOB_STORE): set "
                        f"CANDOR_BLOB_STORE={stored_in}, or the attachments cannot be read")
    if manifest["blobs"]:
        if config.blob_path.exists() and any(config.blob_path.iterdir()):
            raise BackupError(f"{config.blob_path} is not empty: restore into an empty instance")
        shutil.copytree(work / "blobs", config.blob_path, dirs_exist_ok=True)
    return warnings


@click.command("restore")
@click.argument("archive", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.option("--allow-expired", is_flag=True,
              help="Restore an archive past its expiry day (it may hold destroyed content).")
@with_appcontext
def restore_command(archive: Path, yes: bool, allow_expired: bool) -> None:
    """Restore a backup into an empty database and instance folder."""
    config = candor().config
    expires_on = archive_expires_on(archive, config)
    if expires_on is not None and expires_on <= datetime.now(UTC).date() and not allow_expired:
        raise BackupError(f"{archive} expired on {expires_on}: it may hold content that has "
                          "since been destroyed. Pass --allow-expired to restore it anyway.")
    with unpacked(archive) as (work, manifest):
        if not yes:
            click.confirm(f"Restore the {manifest['engine']} backup of {manifest['created_on']} "
                          f"into {make_url(config.database_url).render_as_string()} and "
                          f"{config.instance_path}?", abort=True)
        if config.blob_path.exists() and any(config.blob_path.iterdir()):
            raise BackupError(f"{config.blob_path} is not empty: restore into an empty instance")
        restore_database(config, work, manifest)
        warnings = restore_files(config, work, manifest)
    click.echo(f"Restored the database (schema {manifest['alembic_revision']}) and "
               f"{', '.join(manifest['files'])}{' and blobs' if manifest['blobs'] else ''}.")
    click.echo("Run `candor db upgrade` if this version of Candor is newer than the backup.")
    for warning in warnings:
        click.echo(f"WARNING: {warning}")


def init_app(app: Any) -> None:
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)
