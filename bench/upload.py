"""Peak server memory and throughput of a 1 GiB attachment, without JavaScript and through the API.

Usage: ``.venv/bin/python bench/upload.py [--size-mib N] [--pdf-mib N] [--store
filesystem|database] [--json PATH]``

One Candor instance under Candor's server (app/server.py) with two workers on loopback: on
SQLite with attachments in files (``--store filesystem``, the default), or on a throwaway
PostgreSQL cluster with attachments as rows of the database (``--store database``,
``CANDOR_BLOB_STORE=database``). A report is filed through the API, then the same amount of
data is sent twice:

- through the no-JavaScript page (``POST /report/plain/new``, multipart), streamed from this
  process, so the server must clean and encrypt it as it arrives (app/reporter/uploads.py);
- through the resumable chunk API (``/api/v1/reporter/attachments``), encrypted here in 16-frame
  chunks as the browser does.

Last, on a fresh server (so that its workers' high-water mark is its own), a PDF of
``--pdf-mib`` MiB (200 by default: 25 uncompressed 8 MiB images and an information dictionary
naming its author) through the no-JavaScript page. A document is held whole while it is cleaned
(candor_reporter/documents.py; its cleaned copy is encrypted as it is written), so this path's
peak memory grows with the file; the figure says by how much. The receipt must say the author
was removed.

The figures: each path's throughput (bytes of the file per second, wall clock, client work
included: the client shares the machine) and the peak resident memory of the server's worker
processes (``VmHWM`` in ``/proc/<pid>/status``, the high-water mark since they started), goal
< 150 MB.
Afterwards both attachments are checked: stored complete with the expected number of frames,
and the API one decrypted back and compared with what was sent.
"""

from __future__ import annotations

import contextlib
import hashlib
import html
import http.client
import json
import re
import secrets
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from _report import Report, arguments

from candor_reporter import protocol
from crypto import kdf
from tests.support import live_instance

GOAL_MB = 150
BLOCK = 1024 * 1024
_TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
_ACTION = re.compile(r'<form method="post" action="([^"]+)"')


def data_blocks(size: int, seed: bytes) -> Iterator[bytes]:
    """``size`` bytes of incompressible, reproducible data in 1 MiB blocks (not an image, so
    it is encrypted as it is)."""
    block = hashlib.shake_256(seed).digest(BLOCK)
    for start in range(0, size, BLOCK):
        yield block[: min(BLOCK, size - start)]


class Client:
    """One reporter over loopback: the reporter cookie and CSRF token carried by hand."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookie: str | None = None
        self.token: str | None = None

    def connection(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=900)

    def headers(self, **extra: str) -> dict[str, str]:
        headers = dict(extra)
        if self.cookie:
            headers["Cookie"] = f"candor_reporter={self.cookie}"
        if self.token:
            headers["X-CSRFToken"] = self.token
        return headers

    def finish(self, connection: http.client.HTTPConnection) -> tuple[int, bytes]:
        response = connection.getresponse()
        body = response.read()
        for name, value in response.getheaders():
            if name.lower() == "set-cookie" and value.startswith("candor_reporter="):
                self.cookie = value.split(";", 1)[0].split("=", 1)[1] or None
        if body.startswith(b"{"):
            token = json.loads(body).get("csrf_token")
            if isinstance(token, str):
                self.token = token
        connection.close()
        return response.status, body

    def call(self, method: str, path: str, body: bytes | None = None,
             content_type: str = "application/json") -> tuple[int, bytes]:
        connection = self.connection()
        connection.request(method, path, body=body,
                           headers=self.headers(**({"Content-Type": content_type}
                                                   if body is not None else {})))
        return self.finish(connection)

    def json(self, method: str, path: str, body: Any = None) -> Any:
        status, data = self.call(method, path, None if body is None else json.dumps(body).encode())
        if status >= 300:
            raise RuntimeError(f"{method} {path}: {status} {data[:300]!r}")
        return json.loads(data)


def file_report(client: Client) -> tuple[dict[str, Any], Any]:
    client.json("GET", "/api/v1/session")
    options = client.json("GET", "/api/v1/report-options")
    directory = protocol.verified_directory(client.json("GET", "/api/v1/directory"),
                                            options["organisation_fingerprint"])
    body, _codename, case_key = protocol.build_submission_with_key(
        protocol.NewReport("rso", "other", "Benchmark report."), directory,
        kdf.params_by_version(options["reporter_kdf"]["version"]))
    client.json("POST", "/api/v1/reports", body)
    return body, case_key


def upload_through_api(client: Client, case_ref: str, case_key: Any, size: int) -> str:
    """Encrypt and send ``size`` bytes in chunks, as reporter.js does; returns the ref."""
    upload = protocol.OutgoingAttachment.for_file("big.bin", size)
    client.json("POST", "/api/v1/reporter/attachments", upload.start_body(1))
    base = f"/api/v1/reporter/attachments/{upload.attachment_ref}"
    frames = 0
    for index, (chunk, count) in enumerate(upload.chunks(case_ref, data_blocks(size, b"api"))):
        status, answer = client.call("PUT", f"{base}/chunks/{index}", chunk,
                                     "application/octet-stream")
        if status != 200:
            raise RuntimeError(f"chunk {index}: {status} {answer[:300]!r}")
        frames += count
    client.json("POST", f"{base}/complete",
                upload.completion_body(case_key, case_ref, frames, size))
    return upload.attachment_ref


def upload_without_javascript(client: Client, size: int, name: str = "big.bin",
                              blocks: Iterator[bytes] | None = None) -> str:
    """POST the no-JavaScript report form with one file of ``size`` bytes, streamed; returns
    the receipt page."""
    status, page = client.call("GET", "/report/plain/new")
    text = page.decode()
    match, action = _TOKEN.search(text), _ACTION.search(text)
    if status != 200 or not match or not action:
        raise RuntimeError(f"no form: {status}")
    boundary = "candor-bench-" + secrets.token_hex(8)
    fields = {"csrf_token": match.group(1), "route": "rso", "category": "other",
              "text": "Benchmark report without JavaScript.", "send": "Encrypt and send"}
    head = b"".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        .encode() for name, value in fields.items())
    head += (f'--{boundary}\r\nContent-Disposition: form-data; name="attachments"; '
             f'filename="{name}"\r\nContent-Type: application/octet-stream\r\n\r\n').encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    connection = client.connection()
    # The form's own address: it carries the CSRF token, which a body that may hold files
    # needs before the server reads any of it (app/reporter/plain.py).
    connection.putrequest("POST", html.unescape(action.group(1)))
    for name, value in client.headers(**{
            "Content-Type": f"multipart/form-data; boundary={boundary}",
            "Content-Length": str(len(head) + size + len(tail))}).items():
        connection.putheader(name, value)
    connection.endheaders()
    connection.send(head)
    for block in blocks if blocks is not None else data_blocks(size, b"plain"):
        connection.send(block)
    connection.send(tail)
    status, answer = client.finish(connection)
    if status == 303:  # post, redirect, get: the receipt shows the case number once
        status, answer = client.call("GET", "/report/plain/receipt")
    if status != 200 or not re.search(rb'<dd id="case-number">([^<]+)</dd>', answer):
        raise RuntimeError(f"the no-JavaScript upload failed: {status} {answer[-500:]!r}")
    return answer.decode()


PDF_IMAGE = (4096, 2048)  # grey, 8 bits: 8 MiB a picture


def planted_pdf(size: int) -> tuple[int, Iterator[bytes]]:
    """A valid PDF of about ``size`` bytes: its length and its bytes in pieces (written as they
    go, so this process never holds it either)."""
    width, height = PDF_IMAGE
    images = max(1, size // (width * height))
    page_resources = " ".join(f"/Im{i} {5 + i} 0 R" for i in range(images))
    draw = "".join(f"q 612 0 0 792 0 0 cm /Im{i} Do Q " for i in range(images)).encode()
    head: list[bytes] = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        (f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
         f"/Resources << /XObject << {page_resources} >> >> >>").encode(),
        b"<< /Length %d >>\nstream\n" % len(draw) + draw + b"\nendstream",
    ]
    info = b"<< /Author (Bench Author) /Company (Bench Company) >>"
    image_head = (f"<< /Type /XObject /Subtype /Image /Width {width} /Height {height} "
                  f"/ColorSpace /DeviceGray /BitsPerComponent 8 /Length {width * height} >>\n"
                  "stream\n").encode()
    pieces: list[bytes | tuple[int, int]] = [b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"]
    offsets: list[int] = []
    at = len(pieces[0])  # type: ignore[arg-type]

    def add(number: int, body: bytes | tuple[int, int]) -> None:
        nonlocal at
        offsets.append(at)
        start = b"%d 0 obj\n" % number
        end = b"\nendobj\n"
        length = len(body) if isinstance(body, bytes) else body[1]
        pieces.extend([start, body, end])
        at += len(start) + length + len(end)

    for number, body in enumerate(head, start=1):
        add(number, body)
    for index in range(images):
        add(5 + index, (index, len(image_head) + width * height + len(b"\nendstream")))
    add(5 + images, info)
    xref = b"xref\n0 %d\n0000000000 65535 f \n" % (len(offsets) + 1) + b"".join(
        b"%010d 00000 n \n" % offset for offset in offsets)
    tail = xref + (b"trailer\n<< /Size %d /Root 1 0 R /Info %d 0 R >>\nstartxref\n%d\n%%%%EOF\n"
                   % (len(offsets) + 1, 5 + images, at))
    total = at + len(tail)

    def blocks() -> Iterator[bytes]:
        for piece in pieces:
            if isinstance(piece, bytes):
                yield piece
            else:
                yield image_head
                yield from data_blocks(width * height, b"image %d" % piece[0])
                yield b"\nendstream"
        yield tail

    return total, blocks()


def peak_rss_mb(pids: list[int]) -> float:
    peaks = []
    for pid in pids:
        status = Path(f"/proc/{pid}/status").read_text()
        peaks.append(int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) / 1024)  # type: ignore[union-attr]
    return max(peaks)


def check(instance: live_instance.Instance, size: int, api_ref: str, case_ref: str,
          case_key: Any) -> None:
    """Both attachments are stored complete; the API one decrypts to what was sent."""
    from app.extensions import db
    from app.models import Attachment
    from app.services import attachments
    from crypto.stream import decrypt_file_key

    expected_frames = size // 65536 + 1
    app = instance.app()
    with app.app_context():
        rows = list(db.session.scalars(db.select(Attachment)))
        assert [(a.state, a.frame_count) for a in rows] == [("complete", expected_frames)] * 2
        item = next(a for a in rows if a.attachment_ref == api_ref)
        assert item.key_record is not None
        file_key = decrypt_file_key(case_key, case_ref, item.key_record.record_ref,
                                    item.key_record.ciphertext)
        store = attachments.store_for(instance.config(), db.session)
        sent, received = hashlib.sha256(), hashlib.sha256()
        for block in data_blocks(size, b"api"):
            sent.update(block)
        from crypto.stream import decrypt_chunks

        for piece in decrypt_chunks(file_key, case_ref, api_ref, store.read_pieces(item.blob_id)):
            received.update(piece)
        assert sent.digest() == received.digest()
        db.session.remove()
        db.engine.dispose()


def main() -> int:
    parser = arguments(__doc__.splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--pdf-mib", type=int, default=200)
    parser.add_argument("--store", choices=("filesystem", "database"), default="filesystem")
    args = parser.parse_args()
    size = args.size_mib * BLOCK
    where = ("files, SQLite" if args.store == "filesystem"
             else "rows of the database, PostgreSQL")
    name = "upload" if args.store == "filesystem" else "upload_database"
    report = Report(name, f"A {args.size_mib} MiB attachment ({where}): server memory and "
                    "throughput")
    with tempfile.TemporaryDirectory(prefix="candor-upload-") as folder, \
            contextlib.ExitStack() as stack:
        root = Path(folder)
        if args.store == "database":
            cluster = stack.enter_context(live_instance.postgres_cluster())
            url = cluster.create_database("candor_upload")
        else:
            url = f"sqlite:///{root / 'candor.sqlite3'}"
        instance = live_instance.prepare_instance(root / "instance", url, blob_store=args.store)
        # A sync worker is killed after --timeout seconds of one request; a 1 GiB form through
        # the no-JavaScript page is one request.
        env = instance.environment(GUNICORN_CMD_ARGS="--timeout 900")
        with live_instance.server(live_instance.CANDOR_TARGET, env, root / "server.log"
                                    ) as server:
            workers = server.worker_pids()
            report.figure("worker RSS after start", peak_rss_mb(workers), "MB")
            client = Client(server.port)
            body, case_key = file_report(client)

            started = time.perf_counter()
            upload_without_javascript(Client(server.port), size)
            plain_seconds = time.perf_counter() - started
            plain_peak = peak_rss_mb(workers)

            started = time.perf_counter()
            api_ref = upload_through_api(client, body["case_ref"], case_key, size)
            api_seconds = time.perf_counter() - started
            api_peak = peak_rss_mb(workers)
        check(instance, size, api_ref, body["case_ref"], case_key)
        # A fresh server for the PDF: its workers' high-water mark is this upload's alone.
        with live_instance.server(live_instance.CANDOR_TARGET, env, root / "server-pdf.log"
                                    ) as server:
            workers = server.worker_pids()
            pdf_size, pdf_blocks = planted_pdf(args.pdf_mib * BLOCK)
            started = time.perf_counter()
            receipt = upload_without_javascript(Client(server.port), pdf_size, "minutes.pdf",
                                                pdf_blocks)
            pdf_seconds = time.perf_counter() - started
            pdf_peak = peak_rss_mb(workers)
            assert "minutes.pdf: cleaned, then encrypted; removed: author" in receipt, receipt

    mib = size / BLOCK
    report.figure("no-JavaScript path: throughput", mib / plain_seconds, "MiB/s")
    report.figure("no-JavaScript path: peak worker RSS", plain_peak, "MB",
                  goal=f"< {GOAL_MB}", met=plain_peak < GOAL_MB)
    report.figure("API chunks: throughput", mib / api_seconds, "MiB/s")
    report.figure("API chunks: peak worker RSS", api_peak, "MB",
                  goal=f"< {GOAL_MB}", met=api_peak < GOAL_MB)
    report.figure(f"no-JavaScript path, a {pdf_size / BLOCK:.0f} MiB PDF cleaned: throughput",
                  pdf_size / BLOCK / pdf_seconds, "MiB/s")
    report.figure(f"no-JavaScript path, a {pdf_size / BLOCK:.0f} MiB PDF cleaned: peak worker "
                  "RSS", pdf_peak, "MB",
                  note="a document is held whole while it is cleaned: no goal of 150 MB")
    report.note("Throughput includes the client's own work on the same machine (streaming the "
                "multipart body; encrypting the chunks for the API). Peak RSS is the highest "
                "VmHWM of the two worker processes since they started, so the API figure "
                "cannot be lower than the no-JavaScript one.")
    report.write(args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
