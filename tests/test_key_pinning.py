"""The organisation key fingerprint is pinned outside the database: whoever can write the
database cannot swap the organisation key and re-sign the directory for a key of their own."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from app.extensions import db
from app.models import Case, OrganisationKey, StaffUser
from app.roles import Role
from app.services.directory import sign_staff_entry
from app.state import state_of
from crypto.directory import OrganisationSigningKey
from crypto.errors import SignatureInvalid
from crypto.keys import StaffKeyPair
from tests.support.reporting import ReporterClient
from tests.support.staff import StaffLogin
from tests.test_reporter_plain import NEW, report_form


@pytest.fixture
def swapped(app: Flask, staff: StaffLogin) -> None:
    """An attacker with database access replaces the organisation key and the RSO's key."""
    staff.create("rso1", Role.RSO)
    attacker_org = OrganisationSigningKey.generate()
    with app.app_context():
        db.session.execute(db.delete(OrganisationKey))
        db.session.add(OrganisationKey(verify_key=attacker_org.verify_key))
        rso = db.session.scalars(db.select(StaffUser)).one()
        rso.public_key = StaffKeyPair.generate().public_key
        sign_staff_entry(rso, attacker_org)
        db.session.commit()


def test_reporters_are_warned_and_nothing_is_encrypted(app: Flask, client: FlaskClient,
                                                       swapped: None) -> None:
    assert "does not match the fingerprint" in client.get("/").get_data(as_text=True)
    with pytest.raises(SignatureInvalid):
        ReporterClient(client).build_default()
    response = client.post(NEW, data=report_form(client))
    assert response.status_code == 400
    assert "could not be verified" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalars(db.select(Case)).first() is None


def test_the_operator_is_told(runner: FlaskCliRunner, swapped: None) -> None:
    result = runner.invoke(args=["keys", "fingerprint"])
    assert result.exit_code != 0 and "does NOT match" in result.output


def test_an_instance_without_a_pin_can_be_pinned_from_the_key_file(
        app: Flask, runner: FlaskCliRunner) -> None:
    from app.services.directory import FINGERPRINT_FILE, current_fingerprint

    config = state_of(app).config
    (config.instance_path / FINGERPRINT_FILE).unlink()
    assert runner.invoke(args=["keys", "fingerprint"]).exit_code != 0
    result = runner.invoke(args=["keys", "pin"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert current_fingerprint(db.session) in result.output
    assert runner.invoke(args=["keys", "fingerprint"]).exit_code == 0
