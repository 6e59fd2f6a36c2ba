"""``candor audit ...``, ``candor stats`` and ``candor retention run``."""

from __future__ import annotations

import csv
import json
import sys
from datetime import UTC, datetime
from typing import Any

import click
from flask import Flask
from flask.cli import with_appcontext

from app.extensions import db
from app.quarters import Quarter
from app.services import audit, packs, releases, retention, statistics
from app.state import candor

audit_group = click.Group("audit", help="The audit trail: checkpoint key, checkpoints, "
                                        "verification.")




def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


@audit_group.command("init")
@with_appcontext
def audit_init() -> None:
    """Create the audit checkpoint key and pin its public half in the instance folder."""
    config = candor().config
    try:
        public = audit.init_checkpoint_key(config.audit_key_path, config.instance_path)
    except audit.AuditKeyError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Audit checkpoint key written to {config.audit_key_path} (mode 0600).")
    click.echo(f"Public key (pinned in {config.instance_path / audit.VERIFY_KEY_FILE}): "
               f"{public.hex()}")
    click.echo("Give the public key to the reviewer: `candor audit verify --verify-key HEX` "
               "checks every checkpoint against it.")


@audit_group.command("checkpoint")
@with_appcontext
def audit_checkpoint() -> None:
    """Sign a checkpoint of the trail's current head now and print it (keep a copy elsewhere:
    a checkpoint held outside the database also proves nothing before it was cut off)."""
    config = candor().config
    try:
        key = audit.load_checkpoint_key(config.audit_key_path)
    except audit.AuditKeyError as error:
        raise click.ClickException(str(error)) from None
    row = audit.checkpoint(db.session, key, _now())
    db.session.commit()
    if row is None:
        click.echo("Nothing new since the last checkpoint.")
        return
    click.echo(f"checkpoint {row.id}: entry {row.entry_id}, {row.entry_count} entries, "
               f"head {row.entry_hash.hex()}, signed {row.created_at.isoformat()}Z, "
               f"signature {row.signature.hex()}")
    click.echo("Keep this line outside the database (print it, mail it to the reviewer); "
               "`candor audit verify --checkpoint FILE` checks the trail against it:")
    click.echo(audit.held_checkpoint(row).line())


@audit_group.command("verify")
@click.option("--verify-key", metavar="HEX", help="The checkpoint public key to trust "
              "(default: the one pinned on this server).")
@click.option("--checkpoint", "held_files", metavar="FILE", multiple=True,
              type=click.File("r", encoding="utf-8"),
              help="A file with checkpoint lines kept outside the database (as printed by "
                   "`candor audit checkpoint`); may be given more than once.")
@with_appcontext
def audit_verify(verify_key: str | None, held_files: tuple[Any, ...]) -> None:
    """Check the whole chain and every checkpoint, and the trail against checkpoints held
    outside the database; exit 1 when anything was changed, deleted, inserted or reordered."""
    try:
        key = bytes.fromhex(verify_key) if verify_key else audit.pinned_verify_key(candor().config)
    except (ValueError, audit.AuditKeyError) as error:
        raise click.ClickException(f"the checkpoint key is unusable: {error}") from None
    if key is not None and len(key) != 32:
        raise click.ClickException("the checkpoint key must be 32 bytes (64 hex digits)")
    held: list[audit.HeldCheckpoint] = []
    for handle in held_files:
        try:
            found = audit.parse_held_checkpoints(handle.read())
        except (audit.HeldCheckpointError, UnicodeDecodeError) as error:
            raise click.ClickException(f"{handle.name}: {error}") from None
        if not found:
            raise click.ClickException(f"{handle.name} holds no `{audit.HELD_PREFIX}` line")
        held.extend(found)
    result = audit.verify(db.session, key, held)
    for problem in result.problems:
        click.echo(f"{problem.kind}: {problem.message}")
    if not result.signatures_checked:
        click.echo("warning: no checkpoint key pinned; signatures were not checked", err=True)
    click.echo(result.summary())
    if not result.ok:
        sys.exit(1)


@click.group("stats", invoke_without_command=True,
             help="A pack's figures as released (`candor stats ledger` lists the releases).")
@click.option("--format", "fmt", type=click.Choice(["json", "csv"]), default="json",
              show_default=True)
@click.option("--scope", type=click.Choice(list(statistics.SCOPES)), default="board",
              show_default=True, help="board, officers (SB 53: accused officers' cases left "
                                      "out) or public (k = CANDOR_PUBLIC_MIN_CELL).")
@click.option("--quarter", metavar="YYYY-Qn", help="The last quarter of the window "
              "(default: the last complete quarter).")
@click.pass_context
@with_appcontext
def stats(context: click.Context, fmt: str, scope: str, quarter: str | None) -> None:
    """Print a pack's figures, as released to its audience, as JSON or CSV."""
    if context.invoked_subcommand is not None:
        return

    config = candor().config
    today = _now().date()
    try:
        last = Quarter.parse(quarter) if quarter else \
            Quarter.last_ended(today)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--quarter") from None
    pack = packs.pack(db.session, scope, last, today,  # type: ignore[arg-type]
                      candor().taxonomy(),
                      releases.Limits(config.statistics_min_cell, config.public_min_cell))
    if fmt == "json":
        click.echo(json.dumps(pack.as_json(), indent=2))
    else:
        csv.writer(sys.stdout, lineterminator="\n").writerows(pack.csv_rows())


@stats.command("ledger")
@with_appcontext
def stats_ledger() -> None:
    """List every release: audience, kind, quarter, cases received before, day released, how
    many figures and how many of them withheld."""
    lines = releases.ledger(db.session)
    click.echo("audience\tkind\tquarter\tcases before\treleased on\tfigures\twithheld")
    for line in lines:
        click.echo(f"{line.audience}\t{line.kind}\t{line.period}\t"
                   f"{line.covers_until.isoformat()}\t{line.released_on.isoformat()}\t"
                   f"{line.figures}\t{line.withheld}")
    if not lines:
        click.echo("(nothing released yet)")


retention_group = click.Group("retention", help="Destroying content whose retention period "
                                                "has ended.")


@retention_group.command("run")
@click.option("--now", "now_text", metavar="ISO-8601", help="Run as if it were this day.")
@with_appcontext
def retention_run(now_text: str | None) -> None:
    """Destroy the content of every closed case past its retention period (legal holds
    excepted); the case rows stay for the statistics."""
    from app.scheduling import parse_now

    result = retention.apply(db.session, parse_now(now_text), candor().config)
    db.session.commit()
    click.echo(f"content destroyed: {len(result.destroyed)} cases"
               + (f" ({', '.join(result.destroyed[:20])}"
                  + (", ..." if len(result.destroyed) > 20 else "") + ")"
                  if result.destroyed else ""))
    click.echo(f"kept under legal hold although expired: {result.held}")


def init_app(app: Flask) -> None:
    for command in (audit_group, stats, retention_group):
        app.cli.add_command(command)
