"""Attachments on the staff side in tests: a staff client fetches and decrypts a case's files,
and attaches its own, through the API with all crypto here (as the staff pages' scripts do)."""

from __future__ import annotations

import base64

from candor_reporter import protocol
from crypto.envelope import RecordKind, decode_file_name, decrypt_record, encrypt_record
from crypto.stream import decrypt_chunks, decrypt_file_key
from tests.support.casework import CaseworkClient


def staff_files(staff: CaseworkClient, number: str) -> dict[str, bytes]:
    """Every attachment of the case as the staff case view lists it, downloaded as ciphertext
    and decrypted: name → content."""
    view = staff.case(number)
    files = {}
    for item in view["attachments"]:
        key = staff.case_key(view, item["key_epoch"])
        file_key = decrypt_file_key(key, view["case_ref"], item["key_record"]["record_ref"],
                                    base64.b64decode(item["key_record"]["ciphertext"]))
        name = decode_file_name(decrypt_record(
            key, RecordKind.FILE_NAME, view["case_ref"], item["name_record"]["record_ref"],
            base64.b64decode(item["name_record"]["ciphertext"]))).name
        response = staff.get(f"/api/v1/staff/cases/{number}/attachments/"
                             f"{item['attachment_ref']}")
        assert response.status_code == 200, response.status_code
        files[name] = b"".join(decrypt_chunks(file_key, view["case_ref"],
                                              item["attachment_ref"], [response.get_data()]))
    return files


def staff_attach(staff: CaseworkClient, number: str, name: str, data: bytes,
                 visible_to_reporter: bool = True, name_content: bytes | None = None) -> str:
    """Encrypt ``data`` under the case's current key and upload it; returns its ref.
    ``name_content`` replaces what the FILE_NAME record holds (the name and the true size), as
    an older client (a plain name) or a dishonest one (a wrong size) would send it."""
    view = staff.case(number)
    upload = protocol.OutgoingAttachment.for_file(name, len(data))
    prefix = f"/api/v1/staff/cases/{number}/attachments"
    answer = staff.post(prefix, {**upload.start_body(view["key_epoch"]),
                                 "visible_to_reporter": visible_to_reporter})
    assert answer.status_code == 201, answer.get_json()
    frames = 0
    for index, (chunk, count) in enumerate(upload.chunks(view["case_ref"], [data])):
        answer = staff.client.put(f"{prefix}/{upload.attachment_ref}/chunks/{index}",
                                  data=chunk, headers={"X-CSRFToken": staff.token})
        assert answer.status_code == 200, answer.get_json()
        frames += count
    body = upload.completion_body(staff.case_key(view), view["case_ref"], frames, len(data))
    if name_content is not None:
        ref = body["name_record"]["record_ref"]
        body["name_record"]["ciphertext"] = base64.b64encode(encrypt_record(
            staff.case_key(view), RecordKind.FILE_NAME, view["case_ref"], ref,
            name_content)).decode()
    answer = staff.post(f"{prefix}/{upload.attachment_ref}/complete", body)
    assert answer.status_code == 200, answer.get_json()
    return upload.attachment_ref
