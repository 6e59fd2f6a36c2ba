"""What the soak tests check after the load: every acknowledged submission and message is in
the database and decrypts with the recipients' keys, and no case is half-written."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

from app.extensions import db
from app.models import Case
from crypto.envelope import GrantKind, RecordKind, decrypt_record, open_grant
from tests.support import live_instance


@dataclass
class Acknowledged:
    """A case the server answered 201 for, with every text it acknowledged since."""

    case_ref: str
    codename: str
    texts: list[str] = field(default_factory=list)


def check_every_case(instance: live_instance.Instance,
                     acknowledged: dict[str, Acknowledged],
                     leave_out: frozenset[str] | set[str] = frozenset()) -> int:
    """Every stored case is whole (a report, the reporter's key copy, a recipient's copy that
    opens every record); every acknowledged one is stored with exactly its texts. Returns the
    number of cases stored. ``leave_out``: numbers of cases seeded as metadata only."""
    keys = instance.private_keys()
    app = instance.app()
    problems: list[str] = []
    with app.app_context():
        cases = [case for case in db.session.scalars(select(Case))
                 if case.number not in leave_out]
        stored = {case.case_ref: case for case in cases}
        for case_ref in acknowledged:
            if case_ref not in stored:
                problems.append(f"acknowledged {case_ref} is missing")
        for case in cases:
            kinds = [g.kind for g in case.grants]
            if kinds.count("reporter") != 1 or "recipient" not in kinds:
                problems.append(f"{case.case_ref}: grants {kinds}")
                continue
            if [r.kind for r in case.records].count("report") != 1 or not case.events:
                problems.append(f"{case.case_ref}: half-written records or events")
                continue
            grant = next(g for g in case.grants if g.kind == "recipient")
            case_key = open_grant(grant.grant, keys[grant.staff_id], case.case_ref,
                                  GrantKind.RECIPIENT)
            # Every record opens; the texts are those of the report and the messages (an
            # attachment's key and name records open too but are not text of the case).
            opened = [(r.kind, decrypt_record(case_key, RecordKind[r.kind.upper()],
                                              case.case_ref, r.record_ref, r.ciphertext))
                      for r in case.records]
            texts = [plain.decode() for kind, plain in opened
                     if kind not in ("file_key", "file_name")]
            expected = acknowledged.get(case.case_ref)
            # A message whose answer was lost in a crash may be stored without an
            # acknowledgement; an acknowledged one must be there, in order.
            if expected and not _in_order(expected.texts, texts):
                problems.append(f"{case.case_ref}: stored {texts}, acknowledged "
                                f"{expected.texts}")
        db.session.remove()
        db.engine.dispose()
    assert not problems, "\n".join(problems[:20])
    return len(stored)


def _in_order(wanted: list[str], stored: list[str]) -> bool:
    """Whether ``wanted`` appears in ``stored`` in the same order (others may lie between)."""
    remaining = iter(stored)
    return all(any(text == seen for seen in remaining) for text in wanted)
