"""The ``candor`` command: Flask's CLI for this app plus Candor's own commands."""

from __future__ import annotations

import getpass
import sys

import click
from flask import Flask
from flask.cli import FlaskGroup, with_appcontext

from app import backup
from app.config import ConfigError
from app.extensions import db
from app.quarters import Quarter
from app.roles import Role
from app.state import candor
from candor_reporter.cli import report_group

DEMO_PASSWORD_PREFIX = "candor-demo-"  # noqa: S105 - development-only demo accounts  # nosec B105


def _create_app() -> Flask:
    from app import create_app

    try:
        return create_app()
    except ConfigError as error:
        raise click.ClickException(str(error)) from None


@click.group(cls=FlaskGroup, create_app=_create_app, add_version_option=False)
def main() -> None:
    """Candor: anonymous, end-to-end encrypted reporting and case management."""


# A reporter's own machine has no server configuration: the group hangs on ``main`` itself,
# which FlaskGroup searches before it loads the app.
main.add_command(report_group)




# --- keys -------------------------------------------------------------------------------------
keys_group = click.Group("keys", help="The organisation signing key and the key directory.")


@keys_group.command("init")
@with_appcontext
def keys_init() -> None:
    """Create the organisation signing key and print its fingerprint."""
    from app.services.directory import DirectoryError, init_organisation_key
    from crypto.directory import fingerprint

    path = candor().config.org_signing_key_path
    try:
        row = init_organisation_key(db.session, path, candor().config.instance_path)
    except DirectoryError as error:
        raise click.ClickException(str(error)) from None
    db.session.commit()
    click.echo(f"Organisation signing key written to {path} (mode 0600).")
    click.echo(f"Fingerprint: {fingerprint(row.verify_key)}")
    click.echo("It is pinned in the instance folder (or set CANDOR_ORG_FINGERPRINT on every web "
               "server). Publish it where staff will see it; keep the key file offline.")


@keys_group.command("fingerprint")
@with_appcontext
def keys_fingerprint() -> None:
    """Print the pinned organisation key fingerprint (and check the database agrees)."""
    from app.services.directory import current_fingerprint, pinned_fingerprint

    pinned = pinned_fingerprint(candor().config)
    if pinned is None:
        raise click.ClickException("no organisation key fingerprint is pinned: run "
                                   "`candor keys init` or set CANDOR_ORG_FINGERPRINT")
    click.echo(pinned)
    if current_fingerprint(db.session) != pinned:
        raise click.ClickException("the organisation key in the database does NOT match this "
                                   "fingerprint: reporting refuses to encrypt until it does")


@keys_group.command("pin")
@with_appcontext
def keys_pin() -> None:
    """Pin the fingerprint of the organisation key file in the instance folder (for an
    instance made before pinning, or after moving the key); clients check against it."""
    from app.services.directory import DirectoryError, load_signing_key, pin_fingerprint

    config = candor().config
    try:
        value = pin_fingerprint(config.instance_path, load_signing_key(config.org_signing_key_path))
    except DirectoryError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Pinned {value}")


@keys_group.command("sign-directory")
@click.option("--yes", is_flag=True, help="Sign without asking about each entry.")
@with_appcontext
def keys_sign_directory(yes: bool) -> None:
    """Sign new and changed staff keys into the directory, and renew the others for a year.

    Each new or changed key is shown with its roles and fingerprint; compare the fingerprint
    with the one the person saw when they activated their account before you confirm.
    """
    from app.services.directory import (
        DirectoryError,
        entries_to_sign,
        load_signing_key,
        sign_staff_entry,
    )
    from crypto.directory import fingerprint

    try:
        signing_key = load_signing_key(candor().config.org_signing_key_path)
    except DirectoryError as error:
        raise click.ClickException(str(error)) from None
    signed = 0
    for staff, is_new in entries_to_sign(db.session, signing_key):
        roles = ",".join(sorted(role.value for role in staff.roles))
        if is_new and not yes and not click.confirm(
            f"Sign {staff.username} ({roles}) with key {fingerprint(staff.public_key)}?"
        ):
            click.echo(f"Skipped {staff.username}.")
            continue
        sign_staff_entry(staff, signing_key)
        signed += 1
    db.session.commit()
    click.echo(f"Signed {signed} directory entries.")


# --- staff ------------------------------------------------------------------------------------
staff_group = click.Group("staff", help="Staff accounts.")


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass("Password: ")
        if getpass.getpass("Repeat password: ") != password:
            raise click.ClickException("the passwords differ")
    if len(password) < 12:
        raise click.ClickException("a password must have at least 12 characters")
    return password


@staff_group.command("create")
@click.option("--username", required=True)
@click.option("--role", "roles", multiple=True, required=True,
              type=click.Choice([role.value for role in Role]), help="Repeat for several roles.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.option("--email", help="Where deadline notices go (content-free); optional.")
@with_appcontext
def staff_create(username: str, roles: tuple[str, ...], password_stdin: bool,
                 email: str | None) -> None:
    """Create a staff account; TOTP is enrolled at first sign-in."""
    import re

    from app.services.directory import DirectoryError, load_signing_key
    from app.services.staff_accounts import USERNAME_PATTERN, AccountError, create_staff

    if not re.fullmatch(USERNAME_PATTERN, username):
        raise click.ClickException(
            "a username is 2 to 64 lowercase letters, digits, dots, dashes or underscores"
        )
    from app.services.notifications import valid_email

    if email is not None and not valid_email(email):
        raise click.ClickException(f"{email!r} is not an email address like name@example.org")
    config = candor().config
    try:
        signing_key = load_signing_key(config.org_signing_key_path)
        staff = create_staff(
            db.session, username=username, roles=[Role(r) for r in roles],
            password=_read_password(password_stdin), config=config, signing_key=signing_key,
        )
    except (AccountError, DirectoryError) as error:
        raise click.ClickException(str(error)) from None
    staff.email = email
    db.session.commit()
    click.echo(f"Created {staff.username} ({', '.join(sorted(roles))}).")


@staff_group.command("list")
@with_appcontext
def staff_list() -> None:
    """List staff accounts with their roles and state."""
    from app.models import StaffUser

    for staff in db.session.scalars(db.select(StaffUser).order_by(StaffUser.username)):
        state = "disabled" if staff.disabled_at else (
            "active" if staff.totp_enrolled_at else "awaiting first sign-in")
        roles = ",".join(sorted(role.value for role in staff.roles))
        click.echo(f"{staff.username}\t{roles}\t{state}")


# --- demonstration data -----------------------------------------------------------------------
@click.command("seed-demo")
@click.option("--history/--no-history", default=True, show_default=True,
              help="Also add a demonstration history for the governance pages: case rows "
                   "numbered DEMO-..., metadata only, over the last six quarters.")
@with_appcontext
def seed_demo(history: bool) -> None:
    """Development only: an organisation key and one account per role, then print how to sign
    in; and a marked demonstration history so the governance pages show what a Board sees."""
    import pyotp

    from app.services.directory import (
        current_key,
        init_organisation_key,
        load_signing_key,
        pin_fingerprint,
        pinned_fingerprint,
    )
    from app.services.staff_accounts import create_staff, find_staff

    config = candor().config
    if config.environment == "production":
        raise click.ClickException("demonstration accounts are never created in production")
    if current_key(db.session) is None:
        init_organisation_key(db.session, config.org_signing_key_path, config.instance_path)
        db.session.commit()
    signing_key = load_signing_key(config.org_signing_key_path)
    if pinned_fingerprint(config) is None:  # an instance made before fingerprints were pinned
        pin_fingerprint(config.instance_path, signing_key)
    click.echo("Demonstration accounts (development only):")
    for role in Role:
        username = role.value
        staff = find_staff(db.session, username)
        if staff is None:
            staff = create_staff(
                db.session, username=username, roles=[role],
                password=DEMO_PASSWORD_PREFIX + role.value, config=config,
                signing_key=signing_key,
            )
            staff.totp_secret = pyotp.random_base32()
            staff.totp_enrolled_at = staff.created_at
            db.session.commit()
        click.echo(f"  {username:<11} password {DEMO_PASSWORD_PREFIX + role.value:<24} "
                   f"TOTP secret {staff.totp_secret}")
    click.echo("Current codes: `candor totp-code USERNAME` (development only).")
    if history:
        from datetime import UTC, datetime

        from app.demo_history import DEMO_PREFIX, add_history, history_size
        from app.services import packs, releases

        taxonomy = candor().taxonomy()
        today = datetime.now(UTC).date()
        add_history(db.session, taxonomy, today)
        db.session.commit()
        click.echo("Releasing the last four quarters' statistics...")
        # Release the Board's last four quarters now (each checked with the solver, a second
        # or so on this many small counts), so the first page opens at once.
        packs.pack(db.session, "board", Quarter.last_ended(today), today, taxonomy,
                   releases.Limits(config.statistics_min_cell, config.public_min_cell))
        click.echo(f"Demonstration history: {history_size(db.session)} case rows numbered "
                   f"{DEMO_PREFIX}..., metadata only, for the governance pages "
                   "(--no-history leaves them out).")


@click.command("totp-code")
@click.argument("username")
@with_appcontext
def totp_code(username: str) -> None:
    """Development only: print a demonstration account's current TOTP code."""
    import pyotp

    from app.services.staff_accounts import find_staff

    if candor().config.environment == "production":
        raise click.ClickException("not available in production")
    staff = find_staff(db.session, username)
    if staff is None or staff.totp_secret is None:
        raise click.ClickException(f"no TOTP secret for {username!r}")
    click.echo(pyotp.TOTP(staff.totp_secret).now())


def init_app(app: Flask) -> None:
    from app.governance import cli as governance_cli
    from app.scheduling import scheduler, tick

    for command in (keys_group, staff_group, seed_demo, totp_code, tick, scheduler):
        app.cli.add_command(command)
    backup.init_app(app)  # candor backup, candor restore
    governance_cli.init_app(app)  # candor audit ..., candor stats, candor retention run


if __name__ == "__main__":
    main()
