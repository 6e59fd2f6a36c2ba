"""A small organisation for deadline tests: an RSO (assignee), an executive, a Board member
holding escrow copies, and cases whose life is moved through the real case service on dates
the test chooses.

Time travel: the case service and the deadline module stamp actions with ``today()``; the
``Clock`` replaces that function in those modules with one that returns the test's date, the
way an operator's clock would read on that day. The tick itself takes ``now`` as a parameter
(``candor tick --now``), exactly as cron would call it on that day.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from app.config import Config
from app.extensions import db
from app.models import (
    AuditEntry,
    Case,
    CaseEvent,
    CaseGrant,
    CaseRecord,
    EscalationStep,
    OutboxMessage,
    StaffUser,
)
from app.roles import Role
from app.services import cases, deadlines
from app.services.periodic import run_tick
from app.services.reports import new_number
from app.state import state_of
from crypto.envelope import CaseKey, RecordKind, encrypt_record
from tests.support.staff import StaffLogin

GRANT = b"\x01" * 80  # opaque to the server; the tick never opens a grant


# The first day of every deadline test (a Monday), and the day ``n`` days after it.
D0 = date(2031, 3, 3)


def days(n: int) -> date:
    return D0 + timedelta(days=n)


class Clock:
    def __init__(self, monkeypatch: pytest.MonkeyPatch, start: date) -> None:
        self.day = start
        from app.staff import deadlines as deadline_pages

        for module in (cases, deadlines, deadline_pages):
            monkeypatch.setattr(module, "today", self.today)

    def today(self) -> date:
        return self.day

    def at(self, day: date, hour: int = 9) -> datetime:
        return datetime.combine(day, time(hour))


@dataclass
class People:
    rso: int
    executive: int
    board: int


class World:
    def __init__(self, app: Flask, staff: StaffLogin, clock: Clock) -> None:
        self.app = app
        self.clock = clock
        self.accounts = {name: staff.create(name, role) for name, role in (
            ("rso1", Role.RSO), ("exec1", Role.EXECUTIVE), ("board1", Role.BOARD))}
        self.people = People(rso=self.accounts["rso1"].id, executive=self.accounts["exec1"].id,
                             board=self.accounts["board1"].id)
        with app.app_context():
            for staff_id, address in ((self.people.rso, "rso1@example.org"),
                                      (self.people.executive, "exec1@example.org"),
                                      (self.people.board, "board1@example.org")):
                db.session.get(StaffUser, staff_id).email = address  # type: ignore[union-attr]
            db.session.commit()

    # --- cases ---------------------------------------------------------------------------------
    def new_case(self, received_on: date, *, route: str = "rso", origin: str = "reporter",
                 assignee: bool = True, readers: tuple[int, ...] | None = None) -> str:
        """A filed case, as report submission stores it (grants, first event, deadlines)."""
        readers = readers if readers is not None else (self.people.rso,)
        with self.app.app_context():
            case = Case(
                case_ref="c-" + secrets.token_hex(16), number=new_number(db.session),
                route=route, category="other", taxonomy_version="rsp-v3.0",
                status="received", received_on=received_on, origin=origin,
                assignee_id=self.people.rso if assignee else None,
            )
            case.grants = [CaseGrant(kind="recipient", staff_id=s, grant=GRANT) for s in readers]
            if route != "board":
                case.grants.append(CaseGrant(kind="escrow", staff_id=self.people.board,
                                             grant=GRANT))
            if origin == "reporter":
                case.grants.append(CaseGrant(kind="reporter", staff_id=None, grant=GRANT))
            case.events = [CaseEvent(kind="received", occurred_on=received_on,
                                     visible_to_reporter=True, detail="received")]
            deadlines.refresh_due(case, on=received_on)
            db.session.add(case)
            db.session.commit()
            return case.number

    def case(self, number: str) -> Case:
        found = db.session.scalar(select(Case).where(Case.number == number))
        assert found is not None
        return found

    def act(self, number: str, action: str, on: date, **extra: Any) -> None:
        """Move the case through the real case service on the day ``on``."""
        self.clock.day = on
        with self.app.app_context():
            case = self.case(number)
            actor = db.session.get(StaffUser, self.people.rso)
            assert actor is not None
            if action in ("findings", "corrective_action"):
                ref = "r-" + secrets.token_hex(16)
                record = cases.EncryptedRecord(ref, case.key_epoch, encrypt_record(
                    CaseKey.generate(), RecordKind.NOTE, case.case_ref, ref, b"x"))
                if action == "findings":
                    cases.record_findings(db.session, case, actor, summary=record,
                                          outcome=extra.get("outcome", "not_substantiated"),
                                          material_risk_found=extra.get("material", False))
                else:
                    cases.record_corrective_action(db.session, case, actor, record)
            elif action == "triage":
                from app.taxonomy import RSP_V3

                cases.triage(db.session, case, actor, category="other", severity="low",
                             retaliation_risk="low", taxonomy=RSP_V3)
            elif action == "close":
                cases.close(db.session, case, actor, self.people.rso,
                            self.message(case) if case.origin == "reporter" else None)
            elif action == "wait":
                deadlines.wait_for_reporter(db.session, case, actor)
            elif action == "checkin":
                deadlines.record_checkin(db.session, case, actor)
            elif action == "board_notice":
                deadlines.record_board_notice(db.session, case, actor)
            else:
                getattr(cases, action)(db.session, case, actor)
            db.session.commit()

    @staticmethod
    def message(case: Case) -> cases.EncryptedRecord:
        ref = "r-" + secrets.token_hex(16)
        return cases.EncryptedRecord(ref, case.key_epoch, encrypt_record(
            CaseKey.generate(), RecordKind.MESSAGE, case.case_ref, ref, b"x"))

    def write(self, number: str, on: date, purpose: str | None = None) -> None:
        """A message to the reporter through the real case service: plain, an update or
        feedback."""
        self.clock.day = on
        with self.app.app_context():
            case = self.case(number)
            actor = db.session.get(StaffUser, self.people.rso)
            assert actor is not None
            cases.add_record(db.session, case, actor, "message", self.message(case), purpose)
            db.session.commit()

    def reporter_writes(self, number: str, on: date) -> None:
        """A message from the reporter, stored as the reporter's API stores one."""
        with self.app.app_context():
            case = self.case(number)
            ref = "r-" + secrets.token_hex(16)
            case.records.append(CaseRecord(
                record_ref=ref, kind="message", author="reporter", visible_to_reporter=True,
                created_on=on, key_epoch=case.key_epoch, ciphertext=encrypt_record(
                    CaseKey.generate(), RecordKind.MESSAGE, case.case_ref, ref, b"x")))
            db.session.commit()

    def open_to_investigating(self, number: str, on: date) -> None:
        for action in ("acknowledge", "triage", "investigate"):
            self.act(number, action, on)

    # --- the tick and what it left -------------------------------------------------------------
    def tick(self, day: date, hour: int = 9, minute: int = 0,
             config: Config | None = None) -> dict[str, int]:
        with self.app.app_context():
            config = config or state_of(self.app).config
            return run_tick(db.session, config,
                            self.clock.at(day, hour) + timedelta(minutes=minute),
                            state_of(self.app).policy_source)

    def steps(self, number: str) -> list[tuple[str, str]]:
        with self.app.app_context():
            case = self.case(number)
            return [(s.clock, s.step) for s in db.session.scalars(
                select(EscalationStep).where(EscalationStep.case_id == case.id)
                .order_by(EscalationStep.id))]

    def outbox(self) -> list[tuple[int, str, str]]:
        with self.app.app_context():
            return [(m.staff_id, m.status, m.subject) for m in db.session.scalars(
                select(OutboxMessage).order_by(OutboxMessage.id))]

    def audit_actions(self, number: str) -> list[str]:
        with self.app.app_context():
            return list(db.session.scalars(select(AuditEntry.action).where(
                AuditEntry.case_number == number).order_by(AuditEntry.id)))

    def due(self, number: str) -> tuple[date | None, str | None, date | None]:
        with self.app.app_context():
            case = self.case(number)
            return case.next_due_on, case.next_due_clock, case.next_escalation_on

    def deadlines(self, number: str, on: date) -> list[deadlines.Deadline]:
        with self.app.app_context():
            case = self.case(number)
            return deadlines.case_deadlines(db.session, case, on)

    def visible_to(self, staff_id: int, number: str) -> bool:
        with self.app.app_context():
            person = db.session.get(StaffUser, staff_id)
            assert person is not None
            return db.session.scalar(cases.visible_cases_query(person)
                                     .where(Case.number == number)) is not None
