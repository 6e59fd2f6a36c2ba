"""A reporter speaking to a live server over loopback HTTP, with the least client-side work:
one new connection per request (as a fresh Tor circuit would), the reporter cookie
and CSRF token carried by hand, bodies prebuilt. For load tests and benchmarks, where the
client's own cost must stay small next to the server's."""

from __future__ import annotations

import http.client
import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from app.surfaces import REPORTER_COOKIE


@dataclass
class Answer:
    status: int
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class HttpReporter:
    base_url: str
    headers: dict[str, str] = field(default_factory=dict)  # sent with every request
    timeout: float = 60.0
    cookie: str | None = None
    token: str | None = None

    def request(self, method: str, path: str, body: bytes | None = None,
                content_type: str = "application/json") -> Answer:
        parts = urlsplit(self.base_url)
        connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port,
                                                timeout=self.timeout)
        headers = {**self.headers, "Connection": "close"}
        if body is not None:
            headers["Content-Type"] = content_type
        if self.cookie:
            headers["Cookie"] = f"{REPORTER_COOKIE}={self.cookie}"
        if self.token and method != "GET":
            headers["X-CSRFToken"] = self.token
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            data = response.read()
            for name, value in response.getheaders():
                if name.lower() == "set-cookie" and value.startswith(REPORTER_COOKIE + "="):
                    cookie = value.split(";", 1)[0].split("=", 1)[1]
                    self.cookie = cookie or None
            answer = Answer(response.status, data)
        finally:
            connection.close()
        if answer.body.startswith(b"{"):
            try:
                token = answer.json().get("csrf_token")
            except (ValueError, AttributeError):
                token = None
            if isinstance(token, str):
                self.token = token  # a new session began: its token from now on
        return answer

    def get_json(self, path: str) -> Any:
        answer = self.request("GET", path)
        if answer.status != 200:
            raise RuntimeError(f"GET {path}: {answer.status} {answer.body[:200]!r}")
        return answer.json()

    def start_session(self) -> None:
        self.get_json("/api/v1/session")

    def post_json(self, path: str, body: bytes | dict[str, Any]) -> Answer:
        if self.token is None:
            self.start_session()
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        return self.request("POST", path, data)


@dataclass(frozen=True)
class Prebuilt:
    body: bytes
    codename: str
    case_ref: str
    text: str


def prebuild_submissions(reporter: HttpReporter, count: int, route: str = "rso",
                         category: str = "capability-cbrn", text: str = "Report {i}.",
                         ) -> list[Prebuilt]:
    """``count`` valid encrypted submissions for the server, built the way the command-line
    client builds them (``protocol.build_submission``) against the verified directory. Only
    for a server whose proof of work is off (``CANDOR_PROOF_OF_WORK_BITS=0``)."""
    from candor_reporter import protocol
    from crypto import kdf

    options = reporter.get_json("/api/v1/report-options")
    directory = protocol.verified_directory(reporter.get_json("/api/v1/directory"),
                                            options["organisation_fingerprint"])
    params = kdf.params_by_version(options["reporter_kdf"]["version"])
    built = []
    for i in range(count):
        plain = text.format(i=i)
        body, codename = protocol.build_submission(
            protocol.NewReport(route=route, category=category, text=plain), directory, params)
        built.append(Prebuilt(json.dumps(body).encode(), codename, body["case_ref"], plain))
    return built
