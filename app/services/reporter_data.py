"""The reporter's data (GDPR Arts. 15-17; EU Directive 2019/1937 Art. 17): destroying one record
or attachment that is manifestly irrelevant to the case, and recording and answering the
reporter's requests to access or correct their personal data.

Destruction is crypto-shredding as far as one record allows. A record's ciphertext is deleted;
the case key that encrypted it stays, because it protects the rest of the case, but without the
ciphertext there is nothing for it to open. An attachment loses its blob and the ``FILE_KEY``
record that held its own key, so a stray copy of the blob can no longer be opened by anyone
who reads the case. Copies in backups last until those archives expire (README, Backup and
restore). The reporter is told (a sentence on their timeline), the step is audited, and the
case keeps a ``RecordDestruction`` row saying what kind of thing went, whose it was and why.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import or_, select

from app.extensions import DbSession
from app.models import (
    Attachment,
    Case,
    CaseDisclosure,
    CaseIntake,
    CaseRecord,
    DataRequest,
    RecordDestruction,
    StaffUser,
    today,
)
from app.services import attachments, cases
from app.services.blobs import Blobs
from app.services.cases import EncryptedRecord, require
from candor_reporter.languages import N_
from crypto.envelope import RecordKind

DESTRUCTION_REASONS = {
    "manifestly_irrelevant": "Manifestly irrelevant to the handling of this report",
    "third_party_data": "Personal data of someone else that the case does not need",
}
# The report, findings and corrective action document the case (RSP v3 §4): never destroyed
# one by one. Retention destroys everything at the end of the case's period.
DESTROYABLE_KINDS = ("message", "note", "identity")
REQUEST_KINDS = {"access": "Access to their personal data",
                 "correction": "Correction of their personal data"}
# GDPR Art. 12(3): one month from receipt, extendable by the controller (recorded outside).
ANSWER_WITHIN_DAYS = 30
# What the reporter's timeline says of a destroyed record, whole sentences for the catalogues.
_DELETED = {
    "message": N_("A recipient deleted a message that was not relevant to your report."),
    "note": N_("A recipient deleted an internal note that was not relevant to your report."),
    "identity": N_("A recipient deleted the identity details that were not relevant to your "
                   "report."),
    "attachment": N_("A recipient deleted a file that was not relevant to your report."),
}


def destructions(session: DbSession, case: Case) -> list[RecordDestruction]:
    return list(session.scalars(select(RecordDestruction)
                                .where(RecordDestruction.case_id == case.id)
                                .order_by(RecordDestruction.id)))


def requests(session: DbSession, case: Case) -> list[DataRequest]:
    return list(session.scalars(select(DataRequest).where(DataRequest.case_id == case.id)
                                .order_by(DataRequest.id)))


def _referenced(session: DbSession, case: Case, record_ref: str) -> bool:
    """Whether the register of disclosures or of requests points to this record: those
    records are the proof that the reporter was told, or answered, and are kept."""
    disclosed = session.scalar(select(CaseDisclosure.id).where(
        CaseDisclosure.case_id == case.id,
        or_(CaseDisclosure.notice_record_ref == record_ref,
            CaseDisclosure.withheld_note_ref == record_ref)).limit(1))
    asked = session.scalar(select(DataRequest.id).where(
        DataRequest.case_id == case.id,
        or_(DataRequest.request_record_ref == record_ref,
            DataRequest.answer_record_ref == record_ref)).limit(1))
    return disclosed is not None or asked is not None


def _tell(session: DbSession, case: Case, staff: StaffUser, kind: str, author: str,
          reason: str) -> RecordDestruction:
    entry = RecordDestruction(case_id=case.id, destroyed_on=today(), staff_id=staff.id,
                              kind=kind, author=author, reason=reason)
    session.add(entry)
    cases.record_event(
        session, case, staff, "record_destroyed", {"kind": kind, "author": author,
                                                   "reason": reason},
        reporter_sentence=(_DELETED[kind] if case.origin == "reporter" else None))
    return entry


def destroy_record(session: DbSession, case: Case, staff: StaffUser, record_ref: str,
                   reason: str) -> RecordDestruction:
    """Delete one message, note or the identity of ``case`` (in the caller's transaction)."""
    require(reason in DESTRUCTION_REASONS, "Say why the record is to be destroyed.")
    require(not case.legal_hold, "This case is under legal hold: nothing of it is destroyed.")
    record = next((r for r in case.records if r.record_ref == record_ref), None)
    require(record is not None and record.kind in DESTROYABLE_KINDS,
            "Only a message, a note or the identity can be destroyed one by one.")
    assert record is not None
    require(not _referenced(session, case, record_ref),
            "This record is the proof that the reporter was told or answered; it is kept.")
    kind, author = record.kind, record.author
    case.records.remove(record)  # delete-orphan: the row and its ciphertext go
    if kind == "identity":
        case.identity_given = False
    return _tell(session, case, staff, kind, author, reason)


def destroy_attachment(session: DbSession, store: Blobs, case: Case, staff: StaffUser,
                       attachment_ref: str, reason: str) -> RecordDestruction:
    """Delete one attachment: its file key and name records, its row and, last, its blob
    (which cannot be rolled back, so it goes after everything that can)."""
    require(reason in DESTRUCTION_REASONS, "Say why the file is to be destroyed.")
    require(not case.legal_hold, "This case is under legal hold: nothing of it is destroyed.")
    attachment = attachments.find(session, case, attachment_ref)
    require(attachment is not None and attachment.state == "complete", "There is no such file.")
    assert attachment is not None
    doomed: list[CaseRecord | None] = [attachment.key_record, attachment.name_record]
    author = attachment.author
    entry = _tell(session, case, staff, "attachment", author, reason)
    attachment.key_record_id = attachment.name_record_id = None
    session.flush()
    for record in doomed:
        if record is not None and record in case.records:
            case.records.remove(record)
    session.flush()
    attachments.discard(session, store, attachment)
    return entry


def record_request(session: DbSession, case: Case, staff: StaffUser, kind: str,
                   received_on: date, request_record_ref: str | None) -> DataRequest:
    """Record a request to access or correct personal data, received on ``received_on`` (in a
    message of the case, named by ``request_record_ref``, or otherwise); it is due a month on."""
    require(kind in REQUEST_KINDS, "Say whether the request is for access or for correction.")
    require(case.origin == "reporter", "This case has no reporter.")
    require(received_on <= today() and received_on >= case.received_on,
            "The request was received between the report and today.")
    if request_record_ref is not None:
        asked = next((r for r in case.records if r.record_ref == request_record_ref), None)
        require(asked is not None and asked.kind == "message" and asked.author == "reporter",
                "The request refers to one of the reporter's messages.")
    entry = DataRequest(case_id=case.id, kind=kind, received_on=received_on,
                        due_on=received_on + timedelta(days=ANSWER_WITHIN_DAYS),
                        recorded_by_id=staff.id, request_record_ref=request_record_ref)
    session.add(entry)
    cases.record_event(session, case, staff, "data_request", {"kind": kind})
    return entry


def answer_request(session: DbSession, case: Case, staff: StaffUser, request_id: int,
                   answer: EncryptedRecord) -> DataRequest:
    """Answer a recorded request with a message to the reporter (encrypted in the browser)."""
    entry = session.scalar(select(DataRequest).where(DataRequest.id == request_id,
                                                     DataRequest.case_id == case.id))
    require(entry is not None, "There is no such request on this case.")
    assert entry is not None
    require(entry.answered_on is None, "This request was already answered.")
    require(case.reporter_public_key is not None, "This case has no reporter to answer.")
    stored = cases.store_record(case, staff, RecordKind.MESSAGE, answer, visible_to_reporter=True)
    entry.answered_on, entry.answered_by_id = today(), staff.id
    entry.answer_record_ref = stored.record_ref
    cases.record_event(session, case, staff, "data_request_answered", {"kind": entry.kind},
                       reporter_sentence=N_("You have an answer to your request about your data."))
    return entry


def reduce_metadata(session: DbSession, case: Case) -> None:
    """What retention leaves of a case once its content is destroyed: the metadata the
    statistics count (route, category, flags, dates, outcome, severity, event kinds and days)
    and nothing that names a person or could find the reporter again."""
    case.reporter_salt = case.reporter_kdf_version = None
    case.assignee_id = case.approver_id = case.opened_by_id = None
    case.identity_given = False
    for event in case.events:
        event.actor_staff_id, event.detail = None, None
    for destruction in destructions(session, case):
        destruction.staff_id = None
    for request in requests(session, case):
        request.recorded_by_id = request.answered_by_id = None
        request.request_record_ref = request.answer_record_ref = None
    for disclosure in session.scalars(select(CaseDisclosure)
                                      .where(CaseDisclosure.case_id == case.id)):
        disclosure.staff_id = None
        disclosure.notice_record_ref = disclosure.withheld_note_ref = None
    for attachment in session.scalars(select(Attachment).where(Attachment.case_id == case.id)):
        attachment.author_staff_id = None
    for taken in session.scalars(select(CaseIntake).where(CaseIntake.case_id == case.id)):
        taken.taken_by_id = None
