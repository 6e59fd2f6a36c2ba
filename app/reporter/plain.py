"""The reporter's journey without JavaScript (Tor Browser at its safest setting, for one).

A browser that runs no code cannot encrypt, so for these pages the server runs the reporter's
side of the protocol (``app.reporter.protocol``) in memory for the one request: it encrypts the
report to the verified keys of its readers, derives the reporter's key from the codename to read
the case, and encrypts a reply. Only ciphertext reaches ``app.services.reports``. The plaintext
and the codename are never logged, stored, put in a URL or a cookie, and the pages tell the
reporter plainly what this mode means.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Blueprint, current_app, render_template
from flask_wtf import FlaskForm
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

from app import get_config, take_rate_limit
from app.api.reports import NOT_FOUND, reporter_view
from app.extensions import db
from app.models import Case, StaffUser
from app.reporter import protocol
from app.services import deadlines, directory, reports
from app.services.routing import ROUTE_LABELS, Readers, Route, RoutingError, readers_for
from app.taxonomy import Taxonomy, load_taxonomy
from crypto.codename import codename_lookup_id
from crypto.envelope import RecordKind
from crypto.errors import CryptoError

bp = Blueprint("reporter_plain", __name__, url_prefix="/report/plain")

MAX_TEXT = 100_000
MAX_IDENTITY = 2_000
DIRECTORY_FAILED = ("The recipients' keys could not be verified against the organisation key, "
                    "so nothing was encrypted or sent. Try again later, or report outside the "
                    "lab (see the start page).")
UNREADABLE = ("This part of the case could not be decrypted: it may have been altered. Nothing was "
              "changed. Tell the lab another way (see the start page).")
CHOOSE_PEOPLE = "Choose only people from this list."


class NewReportForm(FlaskForm):  # type: ignore[misc]  # flask_wtf is untyped
    route = RadioField(
        "Who should receive your report",
        choices=[SelectChoice(route.value, label) for route, label in ROUTE_LABELS.items()],
        default=Route.RSO.value,
        invalid_choice_message="Choose one of the routes: the RSO, an executive or the Board.",
    )
    concerns_rso = BooleanField("The report concerns the Responsible Scaling Officer")
    concerned = SelectMultipleField(
        "Who does this report concern?", coerce=int, invalid_value_message=CHOOSE_PEOPLE,
        invalid_choice_message=CHOOSE_PEOPLE,
        option_widget=CheckboxInput(), widget=ListWidget(prefix_label=False),
    )
    category = SelectField(
        "What is it about?", invalid_choice_message="Choose one of the listed categories.",
        validators=[DataRequired(message="Choose one of the listed categories.")],
    )
    text = TextAreaField("Your report", validators=[
        DataRequired(message="Write your report before sending it."),
        Length(max=MAX_TEXT, message=f"Keep the report under {MAX_TEXT:,} characters."),
    ])
    identity = TextAreaField("Your name or how to contact you (optional)", validators=[
        Optional(),
        Length(max=MAX_IDENTITY, message=f"Keep this under {MAX_IDENTITY:,} characters."),
    ])
    material_risk = BooleanField("I believe this involves a material safety risk")
    sb53_disclosure = BooleanField(
        "This is a disclosure under California SB 53 (Labor Code §1107.1)")
    preview = SubmitField("Show who would read it")
    send = SubmitField("Encrypt and send")

    def __init__(self, taxonomy: Taxonomy, recipients: list[StaffUser], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.category.choices = [SelectChoice("", "Choose a category"),
                                 *(SelectChoice(c.id, c.label) for c in taxonomy.categories)]
        self.concerned.choices = [
            SelectChoice(s.id, f"{s.username} ({', '.join(sorted(r.value for r in s.roles))})")
            for s in recipients]


class OpenCaseForm(FlaskForm):  # type: ignore[misc]
    codename = StringField("Your codename",
                           validators=[DataRequired(message="Enter your codename.")])


class ReplyForm(FlaskForm):  # type: ignore[misc]
    # The codename rides in a hidden field of the case page so the reporter need not type it
    # again. It stays in that page only: never in a URL, a cookie or a log, and every response
    # is sent with Cache-Control: no-store.
    codename = HiddenField(validators=[DataRequired()])
    text = TextAreaField("Your message", validators=[
        DataRequired(message="Write your message before sending it."),
        Length(max=MAX_TEXT, message=f"Keep the message under {MAX_TEXT:,} characters."),
    ])


# --- filing a report --------------------------------------------------------------------------
def _new_form() -> NewReportForm:
    taxonomy = load_taxonomy(get_config(current_app).instance_path)
    return NewReportForm(taxonomy, directory.active_entries(db.session))


def _chosen_readers(form: NewReportForm) -> tuple[Readers | None, str | None]:
    """The readers for the options chosen so far (the default route while the chosen one is
    invalid), or the routing error that says why no one could read it."""
    chosen = form.route.data
    route = Route(chosen) if chosen in {route.value for route in Route} else Route.RSO
    try:
        readers = readers_for(db.session, route, bool(form.concerns_rso.data),
                              form.concerned.data or [])
    except RoutingError as error:
        return None, str(error)
    return readers, None


def _new_page(form: NewReportForm, status: int = 200, message: str | None = None
              ) -> tuple[str, int]:
    readers, routing_error = _chosen_readers(form)
    return render_template("reporter/plain_new.html", form=form, readers=readers,
                           routing_error=routing_error, message=message), status


def _verified_directory() -> dict[int, protocol.Reader]:
    """The server checks its own directory the way a client does: each signed entry against
    the organisation key named by the fingerprint, refusing everything if one fails."""
    key = directory.current_key(db.session)
    answer = {
        "organisation_key": protocol.b64(key.verify_key) if key else "",
        "entries": [protocol.b64(s.directory_entry) for s in directory.active_entries(db.session)
                    if s.directory_entry is not None],
    }
    pinned = directory.pinned_fingerprint(get_config(current_app))
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
    )


def _file_report(form: NewReportForm) -> tuple[Case, str]:
    """Encrypt the form's report in memory and store the ciphertext (not yet committed).
    Returns the case and its codename, which the caller shows once and keeps nowhere."""
    config = get_config(current_app)
    report = protocol.NewReport(
        route=form.route.data, category=form.category.data, text=form.text.data,
        identity=(form.identity.data or "").strip() or None,
        concerns_rso=form.concerns_rso.data, concerned_staff_ids=tuple(form.concerned.data or ()),
        material_risk=form.material_risk.data, sb53_disclosure=form.sb53_disclosure.data,
    )
    # Encrypted to the readers the signed directory gives, exactly as a client would; the
    # service then checks them against the roles in the database.
    body, codename = protocol.build_submission(report, _verified_directory(),
                                               reports.reporter_kdf_params(config))
    case = reports.submit_report(db.session, _submission(body), config,
                                 load_taxonomy(config.instance_path))
    return case, codename


@bp.route("/new", methods=["GET", "POST"])
def new() -> tuple[str, int]:
    form = _new_form()
    if not form.is_submitted():
        return _new_page(form)
    if form.preview.data:
        chosen = [form.route.validate(form), form.concerned.validate(form)]
        return _new_page(form, 200 if all(chosen) else 400)
    if not form.validate():
        return _new_page(form, 400, "Nothing was sent. Correct the fields marked below.")
    # Counted before the expensive part: the server derives a codename key for this report.
    # (No proof of work here: a page without JavaScript cannot compute one; see
    # app/services/proof_of_work.py. The global rate limit is this path's protection.)
    take_rate_limit(current_app, "submission")
    try:
        case, codename = _file_report(form)
    except (reports.SubmissionRejected, RoutingError, protocol.NoReaders) as error:
        db.session.rollback()
        return _new_page(form, 400, f"Nothing was sent. {error}")
    except CryptoError:
        db.session.rollback()
        return _new_page(form, 400, DIRECTORY_FAILED)
    db.session.commit()
    # Shown in this response only: a redirect would have to carry the codename somewhere.
    return render_template(
        "reporter/plain_receipt.html", case=case, codename=codename,
        acknowledge_by=deadlines.acknowledge_by(case.received_on),
        feedback_by=deadlines.feedback_by(case.received_on, case.acknowledged_on),
    ), 200


# --- coming back with the codename ------------------------------------------------------------
@dataclass(frozen=True)
class OpenedReport:
    case: Case
    keys: protocol.OpenedCase  # the case key and the reporter's key pair, in memory only


def _open_report(codename: str) -> OpenedReport | None:
    """The case this codename opens, with its key; None for a wrong, unknown or malformed
    codename, which all get the same answer."""
    take_rate_limit(current_app, "codename")
    try:
        lookup_id = codename_lookup_id(codename)
    except CryptoError:
        return None
    case = reports.find_case(db.session, lookup_id, get_config(current_app))
    if case is None:
        return None
    try:
        return OpenedReport(case, protocol.open_case(reporter_view(case), codename))
    except CryptoError:
        return None


def _case_page(opened: OpenedReport, form: ReplyForm, status: int = 200, sent: bool = False
               ) -> tuple[str, int]:
    view = reporter_view(opened.case)
    # A record that fails to decrypt is marked on the page; the others are still shown.
    messages = protocol.read_messages(view, opened.keys, strict=False)
    return render_template("reporter/plain_case.html", view=view, messages=messages, form=form,
                           unreadable=UNREADABLE,
                           route_label=ROUTE_LABELS[Route(view["route"])], sent=sent), status


def _not_found() -> tuple[str, int]:
    # The typed codename is not echoed back.
    return render_template("reporter/plain_open.html", form=OpenCaseForm(formdata=None),
                           message=NOT_FOUND), 404


@bp.route("/open", methods=["GET", "POST"])
def open_case() -> tuple[str, int]:
    form = OpenCaseForm()
    if not form.validate_on_submit():
        status = 400 if form.is_submitted() else 200
        return render_template("reporter/plain_open.html", form=form, message=None), status
    opened = _open_report(form.codename.data)
    if opened is None:
        return _not_found()
    return _case_page(opened, ReplyForm(formdata=None, codename=form.codename.data))


@bp.post("/reply")
def reply() -> tuple[str, int]:
    form = ReplyForm()
    opened = _open_report(form.codename.data or "")
    if opened is None:
        return _not_found()
    if not form.validate():
        return _case_page(opened, form, 400)
    message = protocol.build_message(opened.keys, form.text.data)
    try:
        reports.add_reporter_message(db.session, opened.case, message["record_ref"],
                                     protocol.unb64(message["ciphertext"]),
                                     message["key_epoch"])
    except reports.SubmissionRejected as error:
        db.session.rollback()
        form.text.errors = [str(error)]
        return _case_page(opened, form, 400)
    db.session.commit()
    return _case_page(opened, ReplyForm(formdata=None, codename=form.codename.data), sent=True)
