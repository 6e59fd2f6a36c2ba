"""The reporter's journey without JavaScript (Tor Browser at its safest setting, for one).

A browser that runs no code cannot encrypt, so for these pages the server runs the reporter's
side of the protocol (``candor_reporter.protocol``) in memory for the one request: it encrypts the
report to the verified keys of its readers, derives the reporter's key from the codename to read
the case, and encrypts a reply. Only ciphertext reaches ``app.services.reports``. The plaintext
and the codename are never logged, stored, put in a URL or a cookie, and the pages tell the
reporter plainly what this mode means.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext, lazy_gettext
from flask_wtf import FlaskForm
from flask_wtf.csrf import ValidationError, validate_csrf
from wtforms import (
    BooleanField,
    HiddenField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from app import reporter_session as case_session
from app.extensions import csrf, db
from app.models import Attachment, Case, StaffUser
from app.reporter.routes import reporter_page_context, translated_person
from app.reporter.uploads import MAX_FILES, PlainUploads
from app.services import (
    attachments,
    deadlines,
    directory,
    intake,
    officer_shares,
    receipts,
    reports,
)
from app.services.blobs import Blobs
from app.services.reporter_view import NOT_FOUND, RETALIATION_SESSION_ENDED, reporter_view
from app.services.routing import ROUTE_LABELS, Route, RoutingError, StaffReaders, readers_for
from app.state import candor
from app.taxonomy import Taxonomy
from candor_reporter import protocol
from candor_reporter.file_size import size_before_decrypting
from candor_reporter.languages import N_
from crypto.codename import codename_lookup_id
from crypto.envelope import RecordKind
from crypto.errors import CryptoError
from crypto.stream import decrypt_chunks

bp = Blueprint("reporter_plain", __name__, url_prefix="/report/plain")
bp.context_processor(reporter_page_context)

MAX_TEXT = 100_000
MAX_IDENTITY = 2_000
TEXT_LIMIT, IDENTITY_LIMIT = f"{MAX_TEXT:,}", f"{MAX_IDENTITY:,}"  # as the messages write them
# Messages are marked for the catalogues here and translated where shown (gettext).
DIRECTORY_FAILED = N_("The recipients' keys could not be verified against the organisation "
                      "key, so nothing was encrypted or sent. Try again later, or report outside "
                      "the lab (see the start page).")
UNREADABLE = N_("This part of the case could not be decrypted: it may have been altered. "
                "Nothing was changed. Tell the lab another way (see the start page).")
CHOOSE_PEOPLE = lazy_gettext("Choose only people from this list.")
CHOOSE_CATEGORY = lazy_gettext("Choose one of the listed categories.")


def _view(case: Case) -> dict[str, Any]:
    return reporter_view(db.session, case, candor().taxonomy(), gettext)


@bp.context_processor
def _file_limits() -> dict[str, int]:
    """What the pages say about how many files, how large."""
    return {"max_files": MAX_FILES, "max_bytes": candor().config.max_attachment_bytes}


class NewReportForm(FlaskForm):  # type: ignore[misc]  # flask_wtf is untyped
    route = RadioField(
        lazy_gettext("Who should receive your report"),
        choices=[SelectChoice(route.value, lazy_gettext(label))
                 for route, label in ROUTE_LABELS.items()],
        default=Route.RSO.value,
        invalid_choice_message=lazy_gettext(
            "Choose one of the routes: the RSO, an executive or the Board."),
    )
    concerns_rso = BooleanField(
        lazy_gettext("The report concerns the Responsible Scaling Officer"))
    concerned = SelectMultipleField(
        lazy_gettext("Who does this report concern?"), coerce=int,
        invalid_value_message=CHOOSE_PEOPLE,
        invalid_choice_message=CHOOSE_PEOPLE,
        option_widget=CheckboxInput(), widget=ListWidget(prefix_label=False),
    )
    category = SelectField(
        lazy_gettext("What is it about?"), invalid_choice_message=CHOOSE_CATEGORY,
        validators=[DataRequired(message=CHOOSE_CATEGORY)],
    )
    text = TextAreaField(lazy_gettext("Your report"), validators=[
        DataRequired(message=lazy_gettext("Write your report before sending it.")),
        Length(max=MAX_TEXT, message=lazy_gettext(
            "Keep the report under %(count)s characters.", count=TEXT_LIMIT)),
    ])
    identity = TextAreaField(lazy_gettext("Your name or how to contact you (optional)"),
                             validators=[Optional(), Length(max=MAX_IDENTITY, message=lazy_gettext(
                                 "Keep this under %(count)s characters.",
                                 count=IDENTITY_LIMIT))])
    material_risk = BooleanField(lazy_gettext("I believe this involves a material safety risk"))
    critical_incident = BooleanField(lazy_gettext(
        "This may be a critical safety incident the lab must report to the authorities"))
    imminent_risk = BooleanField(
        lazy_gettext("There is imminent risk of death or serious injury"))
    sb53_disclosure = BooleanField(lazy_gettext(
        "This is a disclosure under California SB 53 (Labor Code §1107.1)"))
    # "1" on a report of retaliation; the case it follows comes from the session, never here.
    retaliation = HiddenField()
    preview = SubmitField(lazy_gettext("Show who would read it"))
    send = SubmitField(lazy_gettext("Encrypt and send"))

    def __init__(self, taxonomy: Taxonomy, recipients: list[StaffUser], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.category.choices = [SelectChoice("", gettext("Choose a category")),
                                 *(SelectChoice(c.id, gettext(c.label))
                                   for c in taxonomy.categories)]
        self.concerned.choices = [
            SelectChoice(s.id, translated_person(s.username, s.roles)) for s in recipients]


class OpenCaseForm(FlaskForm):  # type: ignore[misc]
    codename = StringField(lazy_gettext("Your codename"), validators=[
        DataRequired(message=lazy_gettext("Enter your codename."))])


class ReplyForm(FlaskForm):  # type: ignore[misc]
    # The codename rides in a hidden field of the case page so the reporter need not type it
    # again. It stays in that page only: never in a URL, a cookie or a log, and every response
    # is sent with Cache-Control: no-store.
    codename = HiddenField(validators=[DataRequired()])
    text = TextAreaField(lazy_gettext("Your message"), validators=[
        Optional(),
        Length(max=MAX_TEXT, message=lazy_gettext(
            "Keep the message under %(count)s characters.", count=TEXT_LIMIT)),
    ])


class DownloadForm(FlaskForm):  # type: ignore[misc]
    codename = HiddenField(validators=[DataRequired()])
    attachment_ref = HiddenField(validators=[DataRequired()])
    # "1" once the reporter has been told that the file's size is not what its sender stated.
    despite_size = HiddenField()


# --- filing a report --------------------------------------------------------------------------
def _new_form() -> NewReportForm:
    taxonomy = candor().taxonomy()
    return NewReportForm(taxonomy, directory.active_entries(db.session))


def _chosen_readers(form: NewReportForm) -> tuple[StaffReaders | None, str | None]:
    """The readers for the options chosen so far (the default route while the chosen one is
    invalid), or the routing error that says why no one could read it. A report of
    retaliation's readers leave out what it inherits, ticked or not."""
    chosen = form.route.data
    route = Route(chosen) if chosen in {route.value for route in Route} else Route.RSO
    first = _first_case(form)
    inherited = reports.inherited_by_retaliation(db.session, first) if first else None
    concerned = set(form.concerned.data or []) | (inherited.staff_ids if inherited else set())
    try:
        readers = readers_for(db.session, route, bool(form.concerns_rso.data) or bool(
            inherited and inherited.concerns_rso), sorted(concerned))
    except RoutingError as error:
        return None, gettext(str(error))
    return readers, None


def _first_case(form: NewReportForm) -> Case | None:
    """The case a retaliation report follows: the one this reporter session has open."""
    if form.retaliation.data != "1":
        return None
    return db.session.get(Case, case_session.current_case_id() or 0)


def _tick_inherited(form: NewReportForm) -> None:
    """Show a report of retaliation with what it keeps of the case it follows already ticked
    (the server keeps those whether or not they stay ticked)."""
    first = _first_case(form)
    if first is None:
        return
    inherited = reports.inherited_by_retaliation(db.session, first)
    listed = {choice.value for choice in form.concerned.choices}
    form.concerned.data = sorted(inherited.staff_ids & listed)
    form.concerns_rso.data = inherited.concerns_rso


def _new_page(form: NewReportForm, status: int = 200, message: str | None = None
              ) -> tuple[str, int]:
    readers, routing_error = _chosen_readers(form)
    return render_template("reporter/plain_new.html", form=form, readers=readers,
                           routing_error=routing_error, message=message,
                           first_case=_first_case(form), officers=_sb53_officers(form),
                           plain=True), status


def _sb53_officers(form: NewReportForm) -> list[StaffUser]:
    """The officers and directors an SB 53 disclosure's quarterly summary would be sealed to,
    for the options chosen so far (app/services/officer_shares.py, ``sharing_rule``)."""
    first = _first_case(form)
    inherited = reports.inherited_by_retaliation(db.session, first) if first else None
    concerned = set(form.concerned.data or []) | (inherited.staff_ids if inherited else set())
    concerns_rso = bool(form.concerns_rso.data) or bool(inherited and inherited.concerns_rso)
    return officer_shares.sharing_rule(directory.active_entries(db.session), concerns_rso,
                                       concerned)


def _verified_directory() -> dict[int, protocol.Reader]:
    """The server checks its own directory the way a client does: each signed entry against
    the organisation key named by the fingerprint, refusing everything if one fails."""
    key = directory.current_key(db.session)
    answer = {
        "organisation_key": protocol.b64(key.verify_key) if key else "",
        "entries": [protocol.b64(s.directory_entry) for s in directory.active_entries(db.session)
                    if s.directory_entry is not None],
    }
    pinned = directory.pinned_fingerprint(candor().config)
    return protocol.verified_directory(answer, pinned or "")


def _submission(body: dict[str, Any]) -> reports.Submission:
    """The service's value type for a ``/api/v1/reports`` body the protocol just built."""
    unb64 = protocol.unb64
    return reports.Submission(
        case_ref=body["case_ref"], route=Route(body["route"]), category=body["category"],
        lookup_id=unb64(body["lookup_id"]), reporter_salt=unb64(body["reporter_salt"]),
        reporter_kdf_version=body["reporter_kdf_version"],
        reporter_public_key=unb64(body["reporter_public_key"]),
        grants=[reports.GrantIn(g["kind"], g["staff_id"], unb64(g["grant"]))
                for g in body["grants"]],
        records=[reports.RecordIn(r["record_ref"], RecordKind[r["kind"].upper()],
                                  unb64(r["ciphertext"])) for r in body["records"]],
        concerns_rso=body["concerns_rso"], concerned_staff_ids=body["concerned_staff_ids"],
        material_risk=body["material_risk"], sb53_disclosure=body["sb53_disclosure"],
        critical_incident=body["critical_incident"], imminent_risk=body["imminent_risk"],
    )


def _file_report(form: NewReportForm, uploads: PlainUploads,
                 inherited: reports.Inherited | None) -> tuple[Case, str]:
    """Encrypt the form's report in memory and store the ciphertext with its attachments (not
    yet committed). Returns the case and its codename, which the caller shows once and keeps
    nowhere. A report of retaliation keeps what it ``inherited``, ticked on the form or not."""
    config = candor().config
    concerned = set(form.concerned.data or ()) | (inherited.staff_ids if inherited else set())
    report = protocol.NewReport(
        route=form.route.data, category=form.category.data, text=form.text.data,
        identity=(form.identity.data or "").strip() or None,
        concerns_rso=bool(form.concerns_rso.data or (inherited and inherited.concerns_rso)),
        concerned_staff_ids=tuple(sorted(concerned)),
        material_risk=form.material_risk.data, sb53_disclosure=form.sb53_disclosure.data,
        critical_incident=form.critical_incident.data, imminent_risk=form.imminent_risk.data,
    )
    # Encrypted to the readers the signed directory gives, exactly as a client would; the
    # service then checks them against the roles in the database.
    body, codename, case_key = protocol.build_submission_with_key(
        report, _verified_directory(), reports.reporter_kdf_params(config), uploads.case_ref)
    case = reports.submit_report(db.session, _submission(body), config,
                                 candor().taxonomy(), inherited)
    db.session.flush()
    uploads.store_in(db.session, case, case_key, case.key_epoch)
    return case, codename


def _receive_files(case_ref: str | None, reserved: int = 0) -> PlainUploads:
    """Read the request's form with its files cleaned and encrypted as they arrive, then check
    the CSRF token (this page is exempt from the global check, which would read the form
    first with Werkzeug's default spooling to temporary files). Every blob written is removed
    if the request fails."""
    config = candor().config
    uploads = PlainUploads(attachments.store_for(config, db.session), case_ref,
                           attachments.Limits.from_config(config), reserved)
    uploads.install(request)
    try:
        csrf.protect()
    except BaseException:
        uploads.discard()
        raise
    return uploads


# Bodies above this size are taken to carry files; below it, only text fields.
SMALL_BODY = 256 * 1024


def _admit_large_body() -> bool:
    """Files are encrypted to disk as the body arrives, so a body that may carry them is
    refused before a byte of it is read unless the page's CSRF token came in the form's
    address (the pages put it there) and a submission slot is free. A forged or flooding
    request never gets the server writing. Returns whether a submission slot was taken."""
    if request.content_length is not None and request.content_length <= SMALL_BODY:
        return False
    try:
        validate_csrf(request.args.get("csrf_token"))
    except ValidationError:
        abort(400, description=gettext("The form has expired. Reload the page, then choose "
                                       "your files again."))
    candor().take_rate_limit(db.session, "submission")
    return True


@bp.route("/new", methods=["GET", "POST"])
def new() -> tuple[str, int] | Response:
    counted = _admit_large_body() if request.method == "POST" else False
    uploads = _receive_files(protocol.new_case_ref()) if request.method == "POST" else None
    form = _new_form()
    if uploads is None or not form.is_submitted():
        if request.args.get("retaliation") == "1":
            form.retaliation.data = "1"
            form.category.data = "retaliation"
            _tick_inherited(form)
        return _new_page(form)
    try:
        return _filed(form, uploads, counted)
    finally:
        if uploads.files and not uploads.stored:
            uploads.discard()


# The global CSRF check would read the form before these views could stream its files into
# encrypted blobs; _receive_files checks the token instead, once they have been.
csrf.exempt(new)

def _nothing_sent(reason: str = "", files_again: bool = False) -> str:
    """"Nothing was sent", why, and (when files came with it) that they must be chosen again:
    a page without JavaScript cannot keep them."""
    parts = [gettext("Nothing was sent."), reason]
    if files_again:
        parts.append(gettext("Choose your files again: a page without JavaScript cannot keep "
                             "them."))
    return " ".join(part for part in parts if part)


def _damaged(problems: list[str]) -> str:
    return str(gettext("These images or documents are damaged (or not what they claim to be), "
                       "so their hidden details could not be removed: %(problems)s.",
                       problems="; ".join(problems)))


def _filed(form: NewReportForm, uploads: PlainUploads, counted: bool
           ) -> tuple[str, int] | Response:
    if form.preview.data:
        chosen = [form.route.validate(form), form.concerned.validate(form)]
        return _new_page(form, 200 if all(chosen) else 400, gettext(
            "Choose your files again: a page without JavaScript cannot keep them.")
            if uploads.files else None)
    problems = uploads.finish()
    if not form.validate():
        return _new_page(form, 400, _nothing_sent(
            gettext("Correct the fields marked below."), bool(uploads.files)))
    if problems:
        return _new_page(form, 400, _nothing_sent(_damaged(problems), True))
    # Counted before the expensive part: the server derives a codename key for this report.
    # (No proof of work here: a page without JavaScript cannot compute one; see
    # app/services/proof_of_work.py. The global rate limit is this path's protection.)
    first = _first_case(form)
    if form.retaliation.data == "1" and first is None:
        return _new_page(form, 400, _nothing_sent(gettext(RETALIATION_SESSION_ENDED),
                                                  bool(uploads.files)))
    if not counted:
        candor().take_rate_limit(db.session, "submission")
    try:
        case, codename = _file_report(
            form, uploads,
            reports.inherited_by_retaliation(db.session, first) if first is not None else None)
        if first is not None:
            reports.link_retaliation(first, case)
    except (reports.SubmissionRejected, RoutingError, protocol.NoReaders,
            attachments.AttachmentRejected) as error:
        db.session.rollback()
        return _new_page(form, 400, _nothing_sent(gettext(str(error)), bool(uploads.files)))
    except CryptoError:
        db.session.rollback()
        return _new_page(form, 400, gettext(DIRECTORY_FAILED))
    # Post, redirect, get: the receipt page shows the codename once, and reloading it files
    # nothing (app/services/receipts.py says where the codename waits in between).
    claim = receipts.hold(db.session, case, codename, [u.name for u in uploads.files],
                          uploads.uncleaned(), uploads.cleaning())
    db.session.commit()
    uploads.stored = True
    case_session.hold_receipt(claim.receipt_id, claim.key)
    return redirect(url_for(".receipt"), 303)  # type: ignore[return-value]


@bp.get("/receipt")
def receipt() -> tuple[str, int]:
    held = case_session.take_receipt()
    shown = receipts.take(db.session, receipts.Claim(*held)) if held else None
    if shown is None:
        return render_template("reporter/plain_receipt_shown.html"), 410
    db.session.commit()
    case = shown.case
    first = db.session.get(Case, case.linked_case_id) if case.linked_case_id else None
    return render_template(
        "reporter/plain_receipt.html", case=case, codename=shown.codename, first_case=first,
        files=shown.files, uncleaned=shown.uncleaned, cleaning=shown.cleaning,
        # Under the case's own deadline policy version, as on the case page.
        dates=deadlines.reporter_dates(case, db.session),
    ), 200


# --- coming back with the codename ------------------------------------------------------------
@dataclass(frozen=True)
class OpenedReport:
    case: Case
    keys: protocol.OpenedCase  # the case key and the reporter's key pair, in memory only


def _open_report(codename: str) -> OpenedReport | None:
    """The case this codename opens, with its key; None for a wrong, unknown or malformed
    codename, which all get the same answer."""
    candor().take_rate_limit(db.session, "codename")
    try:
        lookup_id = codename_lookup_id(codename)
    except CryptoError:
        return None
    case = reports.find_case(db.session, lookup_id, candor().config)
    if case is None:
        return None
    try:
        return OpenedReport(case, protocol.open_case(_view(case), codename))
    except CryptoError:
        return None


def _case_page(opened: OpenedReport, form: ReplyForm, status: int = 200, sent: str | None = None,
               message: str | None = None, size_warning: tuple[str, str] | None = None
               ) -> tuple[str, int]:
    """``size_warning``: (attachment ref, sentence) for a file whose size was not what its
    sender stated; it is shown by that file, whose button then downloads it all the same."""
    view = _view(opened.case)
    # A record that fails to decrypt is marked on the page; the others are still shown.
    messages = protocol.read_messages(view, opened.keys, strict=False)
    files: list[tuple[dict[str, Any], str | None, str]] = []
    for item in view["attachments"]:
        try:
            incoming = protocol.open_attachment(opened.keys, item)
            files.append((item, incoming.name,
                          size_before_decrypting(item["frames"], incoming.stated_size, gettext)))
        except (CryptoError, UnicodeDecodeError):
            files.append((item, None, ""))
    return render_template("reporter/plain_case.html", view=view, messages=messages, form=form,
                           files=files, codename=form.codename.data, unreadable=gettext(UNREADABLE),
                           route_label=ROUTE_LABELS[Route(view["route"])], sent=sent,
                           message=message, size_warning=size_warning), status


def _not_found() -> tuple[str, int]:
    # The typed codename is not echoed back.
    return render_template("reporter/plain_open.html", form=OpenCaseForm(formdata=None),
                           message=gettext(NOT_FOUND)), 404


@bp.route("/open", methods=["GET", "POST"])
def open_case() -> tuple[str, int]:
    form = OpenCaseForm()
    if not form.validate_on_submit():
        status = 400 if form.is_submitted() else 200
        return render_template("reporter/plain_open.html", form=form, message=None), status
    opened = _open_report(form.codename.data)
    if opened is None:
        case_session.close()
        return _not_found()
    # The session lets the reply page know the case before it reads the files sent with it,
    # and lets a retaliation report link to this case.
    case_session.open_for(opened.case.id)
    return _case_page(opened, ReplyForm(formdata=None, codename=form.codename.data))


@bp.post("/reply")
def reply() -> tuple[str, int]:
    _admit_large_body()
    session_case = db.session.get(Case, case_session.current_case_id() or 0)
    uploads = _receive_files(
        session_case.case_ref if session_case else None,
        attachments.reserved_bytes(db.session, session_case) if session_case else 0)
    try:
        return _replied(uploads, session_case)
    finally:
        if uploads.files and not uploads.stored:
            uploads.discard()


csrf.exempt(reply)


def _replied(uploads: PlainUploads, session_case: Case | None) -> tuple[str, int]:
    form = ReplyForm()
    opened = _open_report(form.codename.data or "")
    if opened is None:
        return _not_found()
    case_session.open_for(opened.case.id)
    fresh = ReplyForm(formdata=None, codename=form.codename.data)
    if uploads.refused or (uploads.files and session_case is not opened.case):
        return _case_page(opened, form, 400, message=gettext(
            "Your session had ended, so your files were not taken and nothing was sent. Choose "
            "them again and send."))
    problems = uploads.finish()
    text = (form.text.data or "").strip()
    if not form.validate() or not (text or uploads.files):
        if not form.text.errors:
            form.text.errors = [gettext("Write your message or choose a file before sending.")]
        return _case_page(opened, form, 400, message=_nothing_sent("", bool(uploads.files)))
    if problems:
        return _case_page(opened, form, 400, message=_nothing_sent(_damaged(problems), True))
    try:
        if text:
            message = protocol.build_message(opened.keys, form.text.data)
            reports.add_reporter_message(db.session, opened.case, message["record_ref"],
                                         protocol.unb64(message["ciphertext"]),
                                         message["key_epoch"])
        uploads.store_in(db.session, opened.case, opened.keys.case_key, opened.keys.key_epoch)
    except (reports.SubmissionRejected, attachments.AttachmentRejected) as error:
        db.session.rollback()
        form.text.errors = [gettext(str(error))]
        return _case_page(opened, form, 400)
    db.session.commit()
    uploads.stored = True
    sent = gettext("Your message was sent.") if text else gettext("Your files were sent.")
    for name, summary in uploads.cleaning().items():
        sent += " " + gettext("%(name)s: cleaned before it was encrypted; %(summary)s.",
                              name=name, summary=summary)
    if uploads.uncleaned():
        sent += " " + gettext("These were sent exactly as they were, as their format cannot be "
                              "cleaned: %(names)s.", names=", ".join(uploads.uncleaned()))
    return _case_page(opened, fresh, sent=sent)


# --- agreeing the minutes of a report a recipient took down -----------------------------------
class MinutesForm(FlaskForm):  # type: ignore[misc]
    codename = HiddenField(validators=[DataRequired()])


@bp.post("/minutes")
def agree_minutes() -> tuple[str, int]:
    form = MinutesForm()
    opened = _open_report(form.codename.data or "") if form.validate_on_submit() else None
    if opened is None:
        return _not_found()
    case_session.open_for(opened.case.id)
    fresh = ReplyForm(formdata=None, codename=form.codename.data)
    try:
        intake.agree_minutes(db.session, opened.case)
    except intake.MinutesRejected as error:
        db.session.rollback()
        return _case_page(opened, fresh, 400, message=gettext(str(error)))
    db.session.commit()
    return _case_page(opened, fresh, sent=gettext("You agreed the minutes."))


# --- downloading an attachment ----------------------------------------------------------------
_EXTENSION = re.compile(r"\.([A-Za-z0-9]{1,8})$")


def download_name(name: str) -> str:
    """A generic name for the file sent back: never the reporter's or staff's own file name in
    a header (it may hold anything), only its extension if that is plain."""
    match = _EXTENSION.search(name)
    return "candor-attachment" + (f".{match.group(1).lower()}" if match else "")


def _checked_size(store: Blobs, case_ref: str, attachment: Attachment,
                  incoming: protocol.IncomingAttachment) -> int:
    """Decrypt the whole stream from the blob store to check it; its plaintext length. Raises
    a CryptoError if it is cut or altered."""
    size = 0
    for chunk in decrypt_chunks(incoming.file_key, case_ref, attachment.attachment_ref,
                                attachments.ciphertext(store, attachment)):
        size += len(chunk)
    return size


@bp.post("/attachment")
def download() -> Response | tuple[str, int]:
    """Decrypt an attachment for this one request and send the plaintext back.

    The stream is decrypted twice from the blob store: once to check that it authenticates to
    its end (SPEC.md 8.9: never hand over a file that may be cut or altered), then again as it
    is sent. Nothing is written to disk; the server holds one 64 KiB piece at a time.
    """
    form = DownloadForm()
    if not form.validate_on_submit():
        abort(400)
    opened = _open_report(form.codename.data)
    if opened is None:
        return _not_found()
    case = opened.case
    attachment = attachments.find(db.session, case, form.attachment_ref.data)
    if attachment is None or not attachment.visible_to_reporter or \
            attachment.state != "complete":
        abort(404)
    item = next(a for a in _view(case)["attachments"]
                if a["attachment_ref"] == attachment.attachment_ref)
    store = attachments.store_for(candor().config, db.session)
    try:
        incoming = protocol.open_attachment(opened.keys, item)
        mismatch = protocol.size_mismatch(
            incoming, _checked_size(store, case.case_ref, attachment, incoming), gettext)
    except (CryptoError, UnicodeDecodeError):
        abort(409, description=gettext(UNREADABLE))
    if mismatch and form.despite_size.data != "1":
        return _case_page(opened, ReplyForm(formdata=None, codename=form.codename.data), 409,
                          size_warning=(attachment.attachment_ref, gettext(
                              "%(name)s was decrypted and checked, but not sent yet.",
                              name=incoming.name) + " " + mismatch))

    def plaintext() -> Iterator[bytes]:
        yield from decrypt_chunks(incoming.file_key, case.case_ref, attachment.attachment_ref,
                                  attachments.ciphertext(store, attachment))

    return Response(plaintext(), mimetype="application/octet-stream", headers={
        "Content-Disposition": f"attachment; filename={download_name(incoming.name)}"})
