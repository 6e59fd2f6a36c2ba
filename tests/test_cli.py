"""The ``candor`` command."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta

from flask import Flask
from flask.testing import FlaskCliRunner

from app.extensions import db
from app.models import StaffSession, utcnow
from app.roles import Role
from tests.support.staff import StaffLogin


def test_help_lists_every_command() -> None:
    result = subprocess.run([sys.executable, "-m", "app.cli", "--help"], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    for command in ("db", "keys", "staff", "tick", "scheduler", "seed-demo", "run"):
        assert f"  {command}" in result.stdout


def test_staff_create_from_stdin(runner: FlaskCliRunner, app: Flask) -> None:
    result = runner.invoke(args=["staff", "create", "--username", "ops", "--role", "admin",
                                 "--role", "auditor", "--password-stdin"],
                           input="a long enough password\n")
    assert result.exit_code == 0, result.output
    listing = runner.invoke(args=["staff", "list"]).output
    assert "ops\tadmin,auditor\tawaiting first sign-in" in listing


def test_staff_create_rejects_bad_input_without_traceback(runner: FlaskCliRunner) -> None:
    for args, stdin, message in [
        (["--username", "Bad Name", "--role", "rso"], "long enough password\n", "username"),
        (["--username", "ok", "--role", "rso"], "short\n", "12 characters"),
        (["--username", "ok", "--role", "emperor"], "long enough password\n", "emperor"),
    ]:
        result = runner.invoke(args=["staff", "create", *args, "--password-stdin"], input=stdin)
        assert result.exit_code != 0
        assert message in result.output
        assert "Traceback" not in result.output


def test_duplicate_username_is_refused(runner: FlaskCliRunner, staff: StaffLogin) -> None:
    staff.create("dup", Role.RSO)
    result = runner.invoke(args=["staff", "create", "--username", "dup", "--role", "rso",
                                 "--password-stdin"], input="long enough password\n")
    assert result.exit_code != 0 and "already exists" in result.output


def test_keys_init_refuses_to_replace_the_key(runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["keys", "init"])
    assert result.exit_code != 0 and "refusing to replace" in result.output
    fingerprint = runner.invoke(args=["keys", "fingerprint"]).output.strip()
    assert len(fingerprint.replace(" ", "")) == 24


def test_tick_purges_idle_sessions_and_is_idempotent(runner: FlaskCliRunner, app: Flask,
                                                     staff: StaffLogin) -> None:
    account = staff.create("sleepy", Role.RSO)
    staff.login(app.test_client(), account)
    later = (utcnow() + timedelta(hours=2)).isoformat()
    assert "idle_staff_sessions_purged: 1" in runner.invoke(args=["tick", "--now", later]).output
    assert "idle_staff_sessions_purged: 0" in runner.invoke(args=["tick", "--now", later]).output
    with app.app_context():
        assert db.session.scalars(db.select(StaffSession)).first() is None
    bad = runner.invoke(args=["tick", "--now", "yesterday"])
    assert bad.exit_code != 0 and "ISO-8601" in bad.output


def test_seed_demo_is_repeatable(runner: FlaskCliRunner) -> None:
    first = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0, first.output
    second = runner.invoke(args=["seed-demo"])
    assert second.output == first.output
    for role in Role:
        assert f"  {role.value}" in first.output
    assert runner.invoke(args=["totp-code", "rso"]).output.strip().isdigit()
    assert "Demonstration history: 480 case rows numbered DEMO-" in first.output


def test_seed_demo_history_shows_the_board_something(runner: FlaskCliRunner) -> None:
    """A newcomer's governance pages show what a Board sees, not a page of "<5"."""
    import json

    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    pack = json.loads(runner.invoke(args=["stats", "--format", "json"]).output)
    received = pack["tables"][0]["column_totals"]
    assert sum(isinstance(total, int) and total >= 5 for total in received) >= 3
    assert runner.invoke(args=["seed-demo", "--no-history"]).exit_code == 0
