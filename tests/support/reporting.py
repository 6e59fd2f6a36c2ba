"""Filing and reading reports in tests the way the command-line client does: all crypto here,
only ciphertext to the server."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient

from candor_reporter import protocol
from crypto import kdf
from crypto.envelope import RecordKind, encrypt_record


class ReporterClient:
    def __init__(self, client: FlaskClient) -> None:
        self.client = client
        self.token = client.get("/api/v1/session").get_json()["csrf_token"]

    def post(self, path: str, body: Any):  # type: ignore[no-untyped-def]
        response = self.client.post(path, json=body, headers={"X-CSRFToken": self.token})
        answer = response.get_json(silent=True)
        if isinstance(answer, dict) and "csrf_token" in answer:
            self.token = answer["csrf_token"]  # a new session begins: use its token
        return response

    def options(self) -> dict[str, Any]:
        return self.client.get("/api/v1/report-options").get_json()

    def build(self, report: protocol.NewReport) -> tuple[dict[str, Any], str]:
        options = self.options()
        directory = protocol.verified_directory(self.client.get("/api/v1/directory").get_json(),
                                                options["organisation_fingerprint"])
        params = kdf.params_by_version(options["reporter_kdf"]["version"])
        body, codename = protocol.build_submission(report, directory, params)
        return self.with_proof_of_work(body), codename

    def with_proof_of_work(self, body: dict[str, Any]) -> dict[str, Any]:
        """The body with a fresh challenge from the server solved and attached."""
        offered = self.client.get("/api/v1/proof-of-work").get_json()
        return protocol.with_proof_of_work(body, offered)

    def build_default(self) -> tuple[dict[str, Any], str]:
        return self.build(protocol.NewReport("rso", "other", "A report."))

    def submit(self, text: str = "The CBRN eval was skipped.", **fields: Any
               ) -> tuple[Any, str]:
        fields.setdefault("route", "rso")
        fields.setdefault("category", "capability-cbrn")
        body, codename = self.build(protocol.NewReport(text=text, **fields))
        return self.post("/api/v1/reports", body), codename

    def open(self, codename: str):  # type: ignore[no-untyped-def]
        return self.post("/api/v1/reporter/open", protocol.lookup_request(codename))

    def read(self, codename: str) -> list[protocol.Message]:
        view = self.open(codename).get_json()
        return protocol.read_messages(view, protocol.open_case(view, codename))

    def put(self, path: str, data: bytes):  # type: ignore[no-untyped-def]
        return self.client.put(path, data=data, headers={"X-CSRFToken": self.token,
                                                         "Content-Type":
                                                         "application/octet-stream"})

    def attach(self, opened: protocol.OpenedCase, data: bytes, name: str = "evidence.txt",
               prefix: str = "/api/v1/reporter", name_content: bytes | None = None) -> str:
        """Encrypt ``data`` here and upload it to the open case in chunks; returns its ref.
        ``name_content`` replaces what the FILE_NAME record holds (the name and the true size),
        as an older client (a plain name) or a dishonest one (a wrong size) would send it."""
        upload = protocol.OutgoingAttachment.for_file(name, len(data))
        started = self.post(f"{prefix}/attachments", upload.start_body(opened.key_epoch))
        assert started.status_code == 201, started.get_json()
        base = f"{prefix}/attachments/{upload.attachment_ref}"
        frames = 0
        pieces = (data[i:i + 100_000] for i in range(0, len(data), 100_000))
        for index, (chunk, count) in enumerate(upload.chunks(opened.case_ref, pieces)):
            answer = self.put(f"{base}/chunks/{index}", chunk)
            assert answer.status_code == 200, answer.get_json()
            frames += count
        body = upload.completion_body(opened.case_key, opened.case_ref, frames, len(data))
        if name_content is not None:
            ref = body["name_record"]["record_ref"]
            body["name_record"]["ciphertext"] = protocol.b64(encrypt_record(
                opened.case_key, RecordKind.FILE_NAME, opened.case_ref, ref, name_content))
        done = self.post(f"{base}/complete", body)
        assert done.status_code == 200, done.get_json()
        return upload.attachment_ref

    def download(self, opened: protocol.OpenedCase, view: dict[str, Any], ref: str
                 ) -> tuple[str, bytes]:
        """An attachment of the open case, fetched and decrypted: (name, content)."""
        item = next(a for a in view["attachments"] if a["attachment_ref"] == ref)
        incoming = protocol.open_attachment(opened, item)
        response = self.client.get(f"/api/v1/reporter/attachments/{ref}")
        assert response.status_code == 200
        content = b"".join(protocol.decrypt_attachment(opened.case_ref, incoming,
                                                       [response.get_data()]))
        return incoming.name, content
