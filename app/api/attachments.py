"""Attachment uploads and downloads over the JSON API, for reporters and for staff.

The same resumable protocol on both surfaces (``app/services/attachments.py``):

- ``POST .../attachments`` ``{attachment_ref, max_frames, key_epoch}`` starts an upload;
- ``PUT .../attachments/<ref>/chunks/<index>`` with the raw bytes of chunk ``index`` (the
  stream header and whole frames for chunk 0, whole frames after), at most 16 frames each;
- ``GET .../attachments/<ref>/status`` says which chunks arrived, for resuming;
- ``POST .../attachments/<ref>/complete`` ``{frames, key_record, name_record}`` finishes it;
- ``GET .../attachments/<ref>`` streams the stored ciphertext of a complete attachment.

A reporter works on the case their session opened; a staff member on a case they may see
(anything else is a 404). Every byte here is ciphertext.
"""

from __future__ import annotations

from typing import Any

from flask import Response, abort, jsonify, request
from flask_babel import gettext

from app.api.blueprint import bp
from app.api.reports import current_reporter_case
from app.auth.guards import staff_required
from app.extensions import db
from app.json_input import bool_field, bytes_field, int_field, json_body, object_item, text_field
from app.models import Attachment, Case, SessionPrincipal
from app.roles import Permission
from app.services import attachments, cases
from app.services.blobs import Blobs
from app.state import candor

# A file's key and name records are small: the 32-byte key, or a name of at most 255 characters
# (up to 1020 bytes of UTF-8) with what describes the file, padded into a bucket of at most
# 2 KiB (SPEC.md 5.3). Anything larger is refused before it is read.
FILE_RECORD_MAX_SIZE = 1 + 24 + 2048 + 16


def _store() -> Blobs:
    return attachments.store_for(candor().config, db.session)


def _rejected(error: attachments.AttachmentRejected) -> tuple[Response, int]:
    db.session.rollback()
    return jsonify(error="attachment_rejected", message=gettext(str(error))), error.status


def _start(case: Case, author: str, staff_id: int | None, visible: bool
           ) -> tuple[Response, int]:
    data = json_body()
    try:
        attachment = attachments.start_upload(
            db.session, _store(), case, attachment_ref=text_field(data, "attachment_ref", 64),
            max_frames=int_field(data, "max_frames"), key_epoch=int_field(data, "key_epoch"),
            author=author, author_staff_id=staff_id, visible_to_reporter=visible,
            limits=attachments.Limits.from_config(candor().config))
    except attachments.AttachmentRejected as error:
        return _rejected(error)
    db.session.commit()
    return jsonify(attachments.upload_status(attachment)), 201


def _chunk(attachment: Attachment, index: int) -> Response | tuple[Response, int]:
    """Check what the request says about the chunk before reading its body; read exactly the
    announced length (at most one chunk, about 1 MiB) and store it."""
    size = request.content_length
    if size is None:
        return jsonify(error="length_required",
                       message=gettext("Send the chunk with its Content-Length.")), 411
    try:
        attachments.check_chunk(attachment, index, size, None)
    except attachments.AttachmentRejected as error:
        return _rejected(error)
    data = request.stream.read(size)
    if len(data) != size:
        return jsonify(error="attachment_rejected",
                       message=gettext("The chunk arrived truncated; send it again.")), 400
    try:
        attachments.add_chunk(db.session, _store(), attachment, index, data)
    except attachments.AttachmentRejected as error:
        return _rejected(error)
    db.session.commit()
    return jsonify(attachments.upload_status(attachment))


def _record(data: dict[str, Any], name: str) -> attachments.EncryptedRecord:
    item = object_item(data.get(name), name)
    return attachments.EncryptedRecord(
        record_ref=text_field(item, "record_ref", 64),
        ciphertext=bytes_field(item, "ciphertext", max_size=FILE_RECORD_MAX_SIZE))


def _complete(case: Case, attachment: Attachment) -> Response | tuple[Response, int]:
    data = json_body()
    try:
        attachments.complete(db.session, _store(), case, attachment,
                             frames=int_field(data, "frames"),
                             key_record=_record(data, "key_record"),
                             name_record=_record(data, "name_record"))
    except attachments.AttachmentRejected as error:
        return _rejected(error)
    db.session.commit()
    return jsonify(attachments.upload_status(attachment))


def _download(attachment: Attachment) -> Response:
    """The stored stream, read piece by piece from disk as it is sent."""
    if attachment.state != "complete":
        abort(404)
    return Response(
        attachments.ciphertext(_store(), attachment), mimetype="application/octet-stream",
        headers={"Content-Length": str(attachment.ciphertext_size),
                 "Content-Disposition": "attachment; filename=attachment.candor"})


# --- the reporter's side ----------------------------------------------------------------------
def _reporter_attachment(case: Case, attachment_ref: str, uploading: bool = False
                         ) -> Attachment:
    """An attachment of the reporter's case that they may see: one they are uploading, or a
    complete one meant for them."""
    attachment = attachments.find(db.session, case, attachment_ref)
    if attachment is None or not attachment.visible_to_reporter:
        abort(404)
    if uploading and attachment.author != "reporter":
        abort(404)
    return attachment


@bp.post("/reporter/attachments")
def reporter_attachment_start() -> tuple[Response, int]:
    return _start(current_reporter_case(), "reporter", None, True)


@bp.get("/reporter/attachments/<attachment_ref>/status")
def reporter_attachment_status(attachment_ref: str) -> Response:
    attachment = _reporter_attachment(current_reporter_case(), attachment_ref, uploading=True)
    return jsonify(attachments.upload_status(attachment))


@bp.put("/reporter/attachments/<attachment_ref>/chunks/<int:index>")
def reporter_attachment_chunk(attachment_ref: str, index: int
                              ) -> Response | tuple[Response, int]:
    case = current_reporter_case()
    return _chunk(_reporter_attachment(case, attachment_ref, uploading=True), index)


@bp.post("/reporter/attachments/<attachment_ref>/complete")
def reporter_attachment_complete(attachment_ref: str) -> Response | tuple[Response, int]:
    case = current_reporter_case()
    return _complete(case, _reporter_attachment(case, attachment_ref, uploading=True))


@bp.get("/reporter/attachments/<attachment_ref>")
def reporter_attachment(attachment_ref: str) -> Response:
    return _download(_reporter_attachment(current_reporter_case(), attachment_ref))


# --- the staff side ---------------------------------------------------------------------------
def _visible_case(principal: SessionPrincipal, number: str) -> Case:
    try:
        return cases.visible_case(db.session, principal.staff, number)
    except cases.CaseNotFound:
        abort(404)


def _staff_upload(principal: SessionPrincipal, case: Case, attachment_ref: str) -> Attachment:
    """An upload this staff member started: nobody else adds to it."""
    attachment = attachments.find(db.session, case, attachment_ref)
    if attachment is None or attachment.author_staff_id != principal.staff.id:
        abort(404)
    return attachment


@bp.post("/staff/cases/<number>/attachments")
@staff_required(Permission.HANDLE_CASES)
def staff_attachment_start(principal: SessionPrincipal, number: str) -> tuple[Response, int]:
    """Start an upload; ``visible_to_reporter`` (default true) is false for a file that goes
    with a note rather than a message."""
    case = _visible_case(principal, number)
    visible = bool_field(json_body(), "visible_to_reporter", default=True)
    return _start(case, "staff", principal.staff.id, visible)


@bp.get("/staff/cases/<number>/attachments/<attachment_ref>/status")
@staff_required(Permission.HANDLE_CASES)
def staff_attachment_status(principal: SessionPrincipal, number: str, attachment_ref: str
                            ) -> Response:
    case = _visible_case(principal, number)
    return jsonify(attachments.upload_status(_staff_upload(principal, case, attachment_ref)))


@bp.put("/staff/cases/<number>/attachments/<attachment_ref>/chunks/<int:index>")
@staff_required(Permission.HANDLE_CASES)
def staff_attachment_chunk(principal: SessionPrincipal, number: str, attachment_ref: str,
                           index: int) -> Response | tuple[Response, int]:
    case = _visible_case(principal, number)
    return _chunk(_staff_upload(principal, case, attachment_ref), index)


@bp.post("/staff/cases/<number>/attachments/<attachment_ref>/complete")
@staff_required(Permission.HANDLE_CASES)
def staff_attachment_complete(principal: SessionPrincipal, number: str, attachment_ref: str
                              ) -> Response | tuple[Response, int]:
    case = _visible_case(principal, number)
    return _complete(case, _staff_upload(principal, case, attachment_ref))


@bp.get("/staff/cases/<number>/attachments/<attachment_ref>")
@staff_required(Permission.HANDLE_CASES)
def staff_attachment(principal: SessionPrincipal, number: str, attachment_ref: str
                     ) -> Response:
    """The ciphertext of a complete attachment, for the staff member's browser to decrypt."""
    case = _visible_case(principal, number)
    attachment = attachments.find(db.session, case, attachment_ref)
    if attachment is None:
        abort(404)
    return _download(attachment)
