"""Who was given the reporter's identity, and what left the case: the disclosure register
(EU Directive 2019/1937 Art. 16(2)-(3)).

Three kinds of entry, each audited and listed on the case page:

- ``reveal``: a reader of the case opens the identity the reporter gave, for a reason chosen
  from :data:`REVEAL_REASONS`. The reporter's timeline says a recipient opened it.
- ``handover``: material of the case is passed beyond its readers (to an authority, a court,
  outside counsel). When it includes the identity, the handler must either tell the reporter
  beforehand in writing (a message, stored in the same transaction and so before the entry
  exists) or record in an internal note why telling them would jeopardise the investigation.
  The handler records the handover before handing anything over; the page says so.
- ``export``: a decrypted export made in a reader's browser, recorded before the file is
  offered, with whether it holds the identity (only if that reader revealed it).

The words (the notice, the justification) are encrypted records of the case like any other;
the register holds their references, a reason code, the recipient's kind and dates.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from app.extensions import DbSession
from app.models import Case, CaseDisclosure, CaseRecord, StaffUser, today
from app.services import cases
from app.services.cases import CaseActionRejected, EncryptedRecord, require
from candor_reporter.languages import N_
from crypto.envelope import RecordKind

# Why a reader opens the identity (Art. 16(1) allows it only where needed).
REVEAL_REASONS = {
    "contact_reporter": "To contact the reporter outside this channel",
    "protect_reporter": "To protect the reporter from retaliation",
    "assess_conflict": "To check a conflict of interest in handling the case",
    "investigation_need": "The investigation cannot proceed without it",
    "reporter_asked": "The reporter asked us to use it",
}
# Why material leaves the case (Art. 16(2): a necessary and proportionate legal obligation).
HANDOVER_REASONS = {
    "legal_obligation": "A legal obligation to pass it on",
    "authority_investigation": "An investigation by a competent authority",
    "judicial_proceedings": "Judicial proceedings",
    "reporter_consented": "The reporter agreed to it explicitly",
}
HANDOVER_RECIPIENTS = {
    "competent_authority": "A competent authority",
    "law_enforcement": "Law enforcement",
    "court": "A court",
    "outside_counsel": "Outside counsel or investigators",
    "other": "Someone else (say who in the note or notice)",
}
EXPORT_REASON = "investigation_file"


@dataclass(frozen=True)
class Handover:
    """Material of the case passed beyond its readers. ``notice`` is a message to the
    reporter (kind MESSAGE); ``withheld`` an internal note (kind NOTE) saying why telling the
    reporter would jeopardise the investigation. Exactly one of them when the identity goes."""

    recipient: str
    reason: str
    includes_identity: bool
    notice: EncryptedRecord | None = None
    withheld: EncryptedRecord | None = None


def register(session: DbSession, case: Case) -> list[CaseDisclosure]:
    return list(session.scalars(select(CaseDisclosure).where(CaseDisclosure.case_id == case.id)
                                .order_by(CaseDisclosure.id)))


def reveal_identity(session: DbSession, case: Case, staff: StaffUser, reason: str) -> CaseRecord:
    """Open the identity for ``staff`` (app/services/cases.py), recording why. The first
    reveal by a person is the one recorded; later calls hand back the same record."""
    require(reason in REVEAL_REASONS, "Say why you need the reporter's identity.")
    first = not cases.identity_revealed_to(case, staff)
    record = cases.reveal_identity(session, case, staff, reason)
    if first:
        session.add(CaseDisclosure(case_id=case.id, occurred_on=today(), staff_id=staff.id,
                                   kind="reveal", reason=reason, includes_identity=True))
    return record


def record_handover(session: DbSession, case: Case, staff: StaffUser,
                    handover: Handover) -> CaseDisclosure:
    """Record material of the case passed beyond its readers (see the module docstring)."""
    require(handover.recipient in HANDOVER_RECIPIENTS, "Say to whom the material goes.")
    require(handover.reason in HANDOVER_REASONS, "Say on what ground the material goes.")
    require(not (handover.notice and handover.withheld),
             "Either tell the reporter or record why you cannot; not both.")
    notice_ref = withheld_ref = None
    if handover.includes_identity:
        require(cases.identity_revealed_to(case, staff),
                 "Reveal the identity (with its reason) before you pass it on.")
        require(handover.notice is not None or handover.withheld is not None,
                 "Before the identity is passed on, tell the reporter in writing, or record "
                 "why telling them would jeopardise the investigation.")
    if handover.notice is not None:
        require(case.reporter_public_key is not None, "This case has no reporter to tell.")
        notice_ref = cases.store_record(case, staff, RecordKind.MESSAGE, handover.notice,
                                         visible_to_reporter=True).record_ref
        cases.record_event(session, case, staff, "disclosure_notice",
                     reporter_sentence=N_("You have a message about passing on your identity."))
    if handover.withheld is not None:
        withheld_ref = cases.store_record(case, staff, RecordKind.NOTE, handover.withheld,
                                           visible_to_reporter=False).record_ref
    entry = CaseDisclosure(case_id=case.id, occurred_on=today(), staff_id=staff.id,
                           kind="handover", reason=handover.reason,
                           recipient=handover.recipient,
                           includes_identity=handover.includes_identity,
                           notice_record_ref=notice_ref, withheld_note_ref=withheld_ref)
    session.add(entry)
    cases.record_event(session, case, staff, "handed_over", {
        "recipient": handover.recipient, "reason": handover.reason,
        "identity": handover.includes_identity, "reporter_told": notice_ref is not None})
    return entry


def record_export(session: DbSession, case: Case, staff: StaffUser) -> CaseDisclosure:
    """Record a decrypted export about to be made in ``staff``'s browser. It holds the
    identity exactly when this person revealed it (the server sends it to no one else)."""
    with_identity = cases.identity_revealed_to(case, staff)
    entry = CaseDisclosure(case_id=case.id, occurred_on=today(), staff_id=staff.id,
                           kind="export", reason=EXPORT_REASON, includes_identity=with_identity)
    session.add(entry)
    cases.record_event(session, case, staff, "exported", {"identity": with_identity})
    return entry


__all__ = ["CaseActionRejected", "Handover", "record_export", "record_handover",
           "register", "reveal_identity"]
