"""The reporter's client as a distribution of its own (clients/reporter): built offline, holding
only the client and the protocol library, and filing a report against a live server from an
interpreter in which the server's code and its dependencies cannot be imported."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest
from flask import Flask

from app.extensions import db
from app.models import Case
from app.roles import Role
from app.services.directory import current_fingerprint
from tests.support.staff import StaffLogin

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "clients" / "reporter" / "build.py"

# Run before the client: any import of the server or of what only the server needs fails.
NO_SERVER = """
import importlib.abc, sys
class NoServer(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {"app", "flask", "sqlalchemy", "werkzeug", "jinja2",
                                  "apscheduler", "psycopg", "flask_wtf", "babel", "flask_babel"}:
            raise ImportError(f"the client imported {name}")
        return None
sys.meta_path.insert(0, NoServer())
sys.path.insert(0, sys.argv[1])
import candor_reporter, crypto
for module in (candor_reporter, crypto):
    assert module.__file__.startswith(sys.argv[1]), module.__file__
from candor_reporter.cli import report_group
report_group(sys.argv[2:], prog_name="candor-report")
"""


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    spec = importlib.util.spec_from_file_location("client_build", BUILD)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    built: Path = module.build(tmp_path_factory.mktemp("dist"))
    return built


def test_the_wheel_holds_the_client_and_the_protocol_only(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        metadata = Parser().parsestr(archive.read(
            next(n for n in names if n.endswith(".dist-info/METADATA"))).decode())
        entry_points = archive.read(
            next(n for n in names if n.endswith(".dist-info/entry_points.txt"))).decode()
    assert {name.split("/")[0] for name in names} == {
        "candor_reporter", "crypto", wheel.name.split("-")[0] + "-0.1.0.dist-info"}
    assert "crypto/SPEC.md" in names and "candor_reporter/cli.py" in names
    requires = sorted(r.split(">")[0].split("<")[0] for r in metadata.get_all("Requires-Dist"))
    assert requires == ["click", "lxml", "pikepdf", "pynacl"]
    assert "candor-report = candor_reporter.cli:report_group" in entry_points


def test_the_installed_client_files_a_report_without_the_server_code(
        wheel: Path, app: Flask, live_server: str, staff: StaffLogin, tmp_path: Path) -> None:
    staff.create("rso1", Role.RSO)
    with app.app_context():
        fingerprint = current_fingerprint(db.session)
    assert fingerprint
    installed = tmp_path / "site"
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(installed)
    (tmp_path / "report.txt").write_text("The evaluation was skipped.", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CANDOR_", "FLASK_"))}
    result = subprocess.run(
        [sys.executable, "-I", "-c", NO_SERVER, str(installed), "submit", "--server",
         live_server, "--fingerprint", fingerprint, "--category", "capability-cbrn",
         "--text-file", str(tmp_path / "report.txt")],
        input="y\n", capture_output=True, text=True, timeout=300, cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    assert "Codename: " in result.stdout
    with app.app_context():
        case = db.session.scalars(db.select(Case)).one()
        assert case.number in result.stdout


def test_the_installed_client_speaks_the_shipped_languages(wheel: Path, tmp_path: Path) -> None:
    """Its catalogues travel in the wheel and are read without Babel."""
    installed = tmp_path / "site"
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(installed)
    result = subprocess.run(
        [sys.executable, "-I", "-c", NO_SERVER, str(installed), "--language", "de", "submit",
         "--server", "ftp://candor.example", "--fingerprint", "x"],
        capture_output=True, text=True, timeout=60, cwd=tmp_path,
        env={"PATH": os.environ.get("PATH", ""), "LANG": "C.UTF-8"})
    assert result.returncode == 2, result.stderr
    assert "geben Sie den Server als http://- oder https://-Adresse an" in result.stderr
