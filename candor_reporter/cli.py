"""``candor report``: report, read replies and answer from a reporter's own machine.

For reporters who trust no code a server serves them. Every key is derived, every report and
message encrypted and decrypted here (``candor_reporter.protocol``); the server gets ciphertext
and metadata only. The key directory is checked against the organisation key fingerprint given
on the command line before anything is encrypted or any codename-derived value is sent.

Nothing here reads server configuration or writes a file: the codename is printed once and
kept nowhere, and the session cookie lives in memory for one command.
"""

from __future__ import annotations

import http.client
import http.cookiejar
import ipaddress
import json
import os
import re
import sys
import urllib.error
import urllib.request
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import urlsplit

import click

from candor_reporter import protocol
from candor_reporter.file_size import format_bytes, size_before_decrypting
from candor_reporter.metadata import (
    SNIFF_BYTES,
    MetadataError,
    SniffingStripper,
    pieces,
    sniff,
)
from crypto import kdf
from crypto.envelope import CaseKey
from crypto.errors import CryptoError

TIMEOUT_SECONDS = 60
NO_DATE = "(not available)"
DOWNLOAD_PIECE = 256 * 1024
READ_PIECE = 1024 * 1024
CHUNK_ATTEMPTS = 4
AUTHOR_LABELS = {"reporter": "You", "staff": "Staff"}
KIND_LABELS = {"report": "report", "identity": "your identity", "message": "message"}
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def shown(value: Any) -> str:
    """Text from the server or from staff as it may reach a terminal: control characters
    (which could rewrite what is on screen) replaced, newlines and tabs kept."""
    return _CONTROL_CHARACTERS.sub("\N{REPLACEMENT CHARACTER}", str(value))


class ServerError(click.ClickException):
    """The server could not be reached or refused a request; the message says which.
    ``status`` is the HTTP status of a refusal (None when the server was not reached)."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class CandorServer:
    """JSON over HTTP to one Candor server, with the reporter API's CSRF flow: a token from
    ``GET /api/v1/session`` on every POST, replaced whenever an answer carries a new one (a
    report filed or a case opened starts a new session). Cookies stay in memory."""

    def __init__(self, base_url: str) -> None:
        if urlsplit(base_url).scheme not in ("http", "https"):
            raise click.BadParameter("give the server as an http:// or https:// address")
        self.base_url = base_url.rstrip("/")
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        self.csrf_token: str | None = None

    def get(self, path: str) -> Any:
        return self._send(self._request(path, "GET"))

    def post(self, path: str, body: Mapping[str, Any]) -> Any:
        if self.csrf_token is None:
            self.csrf_token = str(self.get("/api/v1/session")["csrf_token"])
        request = self._request(path, "POST", json.dumps(body).encode("utf-8"))
        request.add_header("Content-Type", "application/json")
        request.add_header("X-CSRFToken", self.csrf_token)
        return self._send(request)

    def put_bytes(self, path: str, data: bytes) -> Any:
        if self.csrf_token is None:
            self.csrf_token = str(self.get("/api/v1/session")["csrf_token"])
        request = self._request(path, "PUT", data)
        request.add_header("Content-Type", "application/octet-stream")
        request.add_header("X-CSRFToken", self.csrf_token)
        return self._send(request)

    def download(self, path: str) -> Iterator[bytes]:
        """A response body in pieces, never whole in memory."""
        request = self._request(path, "GET")
        try:
            with self.opener.open(request, timeout=TIMEOUT_SECONDS) as response:
                while piece := response.read(DOWNLOAD_PIECE):
                    yield piece
        except urllib.error.HTTPError as error:
            with error:
                raise ServerError(f"the server answered HTTP {error.code}") from None
        except (urllib.error.URLError, http.client.HTTPException, OSError) as error:
            reason = getattr(error, "reason", error)
            raise ServerError(f"cannot reach {self.base_url}: {reason}") from None

    def _request(self, path: str, method: str, data: bytes | None = None
                 ) -> urllib.request.Request:
        # S310: __init__ admits only http and https, never file: or other schemes.
        return urllib.request.Request(self.base_url + path, data=data,  # noqa: S310
                                      method=method)

    def _send(self, request: urllib.request.Request) -> Any:
        request.add_header("Accept", "application/json")
        try:
            with self.opener.open(request, timeout=TIMEOUT_SECONDS) as response:
                return self._answer(response.read())
        except urllib.error.HTTPError as error:
            with error:
                answer = self._answer(error.read(), required=False)
            if isinstance(answer, dict) and answer.get("message"):
                raise ServerError(f"{shown(answer['message'])} (HTTP {error.code})",
                                  error.code) from None
            raise ServerError(f"the server answered HTTP {error.code}", error.code) from None
        except (urllib.error.URLError, http.client.HTTPException, OSError) as error:
            reason = getattr(error, "reason", error)
            raise ServerError(f"cannot reach {self.base_url}: {reason}") from None

    def _answer(self, raw: bytes, required: bool = True) -> Any:
        try:
            answer = json.loads(raw)
        except ValueError:
            if not required:
                return None
            raise ServerError(f"{self.base_url} did not answer as a Candor server "
                              "(not JSON)") from None
        if isinstance(answer, dict) and isinstance(answer.get("csrf_token"), str):
            self.csrf_token = answer["csrf_token"]
        return answer


def server_url(value: str) -> str:
    """Accept only http(s) URLs; warn when plain http could be read on the way."""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise click.BadParameter("give the server as an http:// or https:// address")
    if parts.scheme == "http" and not _private_network(parts.hostname):
        click.echo(f"Warning: {value} is plain http: anyone on the way can see and change "
                   "what is sent. Use https:// or the .onion address.", err=True)
    return value


def _private_network(host: str) -> bool:
    """Loopback and onion addresses: plain http never crosses a network anyone can watch."""
    if host == "localhost" or host.endswith(".onion"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def fetch_recipients(server: CandorServer, fingerprint: str) -> dict[int, protocol.Reader]:
    try:
        answer = server.get("/api/v1/directory")
        if not isinstance(answer, Mapping):
            raise ValueError("the directory is not a JSON object")
        return protocol.verified_directory(answer, fingerprint)
    except (CryptoError, ValueError, KeyError, TypeError) as error:
        raise click.ClickException(
            f"the key directory of {server.base_url} failed verification ({shown(error)}). Nothing "
            "was sent. Check the organisation key fingerprint with a source you trust, such as "
            "the staff handbook; if it is right, this server must not be used.") from None


server_option = click.option(
    "--server", required=True, callback=lambda _ctx, _param, value: server_url(value),
    help="The Candor server, e.g. https://candor.example.org")
fingerprint_option = click.option(
    "--fingerprint", required=True,
    help="The organisation key fingerprint, from a source you trust (not the server).")
text_file_option = click.option(
    "--text-file", type=click.File("r", encoding="utf-8"),
    help="Read the text from this file instead of standard input.")
attach_option = click.option(
    "--attach", "attach", multiple=True, metavar="FILE",
    type=click.Path(exists=True, dir_okay=False, readable=True, path_type=Path),
    help="A file to send, encrypted here; repeatable. Photos (JPEG, PNG) lose their location, "
    "camera and other hidden details first; documents (PDF, Word, Excel, PowerPoint, "
    "OpenDocument) their author, company, comment and change authors and earlier versions; "
    "other files are sent as they are.")


# --- attachments ------------------------------------------------------------------------------
def _check_attachments(files: tuple[Path, ...]) -> None:
    """Say before anything is sent what will happen to each file; a document that cannot be
    cleaned stops everything here."""
    for path in files:
        with path.open("rb") as source:
            kind = sniff(source.read(SNIFF_BYTES))
        try:
            document = _document(path)
        except MetadataError as error:
            raise click.ClickException(
                f"{shown(path.name)} cannot be cleaned: {error}. Nothing was sent.") from None
        report = document[1].report if document else None
        if report is not None:
            click.echo(f"{shown(path.name)}: a document, cleaned before it is encrypted; "
                       f"{report.summary()}.", err=True)
        elif kind in ("jpeg", "png"):
            click.echo(f"{shown(path.name)}: a {kind.upper()} image; its hidden details "
                       "(location, camera, dates, embedded text) are removed before it is "
                       "encrypted.", err=True)
        else:
            click.echo(f"Warning: {shown(path.name)} cannot be cleaned here. Videos, archives "
                       "and other files can hold your name, your device, dates, locations and "
                       "earlier versions: check it before sending.", err=True)


def _document(path: Path) -> tuple[bytes, SniffingStripper] | None:
    """A PDF or zip file cleaned whole (a document is read from its end), with the stripper
    that holds its report; None for other files (they are cleaned as they stream)."""
    with path.open("rb") as source:
        if sniff(source.read(SNIFF_BYTES)) not in ("pdf", "zip"):
            return None
        source.seek(0)
        stripper = SniffingStripper()
        while piece := source.read(READ_PIECE):
            stripper.update(piece)
    return stripper.finish(), stripper


def _cleaned_pieces(path: Path) -> Iterator[bytes]:
    stripper = SniffingStripper()
    with path.open("rb") as source:
        while piece := source.read(READ_PIECE):
            yield stripper.update(piece)
    yield stripper.finish()


def _put_chunk(client: CandorServer, base: str, index: int, chunk: bytes) -> None:
    """Send one chunk; after a failed attempt, ask which chunks arrived and go on."""
    for attempt in range(1, CHUNK_ATTEMPTS + 1):
        try:
            client.put_bytes(f"{base}/chunks/{index}", chunk)
            return
        except ServerError as error:
            if error.status is not None and error.status < 500 and error.status != 409:
                raise
            failure = error
        try:
            received = int(client.get(f"{base}/status")["received_chunks"])
        except ServerError:
            received = index
        if received > index:
            return  # it did arrive
        if attempt < CHUNK_ATTEMPTS:
            click.echo(f"  retrying after: {failure.message}", err=True)
    raise failure


def upload_attachment(client: CandorServer, case_ref: str, case_key: CaseKey, key_epoch: int,
                      path: Path) -> None:
    """Clean, encrypt and upload one file to the case this session has open."""
    try:
        document = _document(path)
    except MetadataError as error:
        raise click.ClickException(f"{path.name} was not sent: it cannot be cleaned "
                                   f"({error})") from None
    # A cleaned document may be larger than the file (compressed again): its own size counts.
    upload = protocol.OutgoingAttachment.for_file(
        path.name, len(document[0]) if document else path.stat().st_size)
    source = pieces(document[0]) if document else _cleaned_pieces(path)
    client.post("/api/v1/reporter/attachments", upload.start_body(key_epoch))
    base = f"/api/v1/reporter/attachments/{upload.attachment_ref}"
    frames, size = 0, 0

    def counted(pieces: Iterable[bytes]) -> Iterator[bytes]:
        nonlocal size
        for piece in pieces:
            size += len(piece)
            yield piece

    try:
        for index, (chunk, count) in enumerate(
                upload.chunks(case_ref, counted(source))):
            _put_chunk(client, base, index, chunk)
            frames += count
    except MetadataError as error:
        raise click.ClickException(f"{path.name} was not sent: the image is damaged, so its "
                                   f"hidden details could not be removed ({error})") from None
    client.post(f"{base}/complete", upload.completion_body(case_key, case_ref, frames, size))
    click.echo(f"Sent {shown(upload.name)} ({format_bytes(size)}), encrypted.", err=True)


def _save_attachments(client: CandorServer, view: Mapping[str, Any],
                      opened: protocol.OpenedCase, folder: Path) -> None:
    """Download and decrypt every attachment into ``folder``. Each is written to a temporary
    file and given its name only once all of it has checked out (SPEC.md 8.9). What is written
    is readable by this user only (a new folder too): this may be a shared machine."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    for item in view["attachments"]:
        incoming = protocol.open_attachment(opened, item)
        partial = folder / f".candor-{incoming.attachment_ref}.part"
        try:
            private = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            decrypted = 0
            with os.fdopen(private, "wb") as out:
                pieces = client.download(f"/api/v1/reporter/attachments/"
                                         f"{incoming.attachment_ref}")
                for plain in protocol.decrypt_attachment(opened.case_ref, incoming, pieces):
                    out.write(plain)
                    decrypted += len(plain)
            target = _free_name(folder, incoming.name)
            partial.rename(target)
        except (CryptoError, ServerError) as error:
            partial.unlink(missing_ok=True)
            raise click.ClickException(f"{shown(incoming.name)} could not be saved: {error}. "
                                       "Nothing of it was kept.") from None
        click.echo(f"Saved {shown(target)} ({format_bytes(decrypted)})")
        mismatch = protocol.size_mismatch(incoming, decrypted)
        if mismatch:
            click.echo(shown(f"Warning: {incoming.name}: {mismatch}"), err=True)


def _free_name(folder: Path, name: str) -> Path:
    """``name`` in ``folder``, with a number added if a file of that name is there already."""
    stem, dot, suffix = name.rpartition(".") if "." in name[1:] else (name, "", "")
    candidate, number = folder / name, 1
    while candidate.exists():
        number += 1
        candidate = folder / (f"{stem} ({number}){dot}{suffix}")
    return candidate


class ReportGroup(click.Group):
    """The server is not trusted: an answer of the wrong shape ends the command with a clear
    message, never a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise click.ClickException(f"the server's answer was not understood "
                                   f"({shown(repr(error))}); "
                                       "is this a Candor server?") from None


@click.group("report", cls=ReportGroup)
def report_group() -> None:
    """Report, read replies and answer, encrypting on this machine.

    Needs no server configuration: give the server's address and the organisation key
    fingerprint you got from a source you trust.
    """


# --- submit -----------------------------------------------------------------------------------
@report_group.command("submit")
@server_option
@fingerprint_option
@click.option("--route", type=click.Choice(["rso", "executive", "board"]), default="rso",
              show_default=True, help="Who receives the report.")
@click.option("--category", help="Category id (see --list-categories).")
@click.option("--list-categories", is_flag=True, help="Print the categories and exit.")
@click.option("--concerns-rso", is_flag=True,
              help="The report concerns the RSO: the Board receives it, not the RSO.")
@click.option("--concerned", "concerned", multiple=True, metavar="USERNAME",
              help="A recipient the report concerns; they get no copy. Repeatable.")
@click.option("--identity-file", "identity_file", type=click.File("r", encoding="utf-8"),
              help="A file holding your name or contact, encrypted with the report; leave it "
              "out to stay anonymous. (A file, so it never shows in the process list or your "
              "shell history.)")
@click.option("--material-risk", is_flag=True, help="The concern involves material safety risk.")
@click.option("--sb53", is_flag=True,
              help="This is a disclosure under California SB 53 (Labor Code §1107.1).")
@click.option("--critical-incident", "critical_incident", is_flag=True,
              help="This may be a critical safety incident the lab must report to the "
              "authorities (California B&P §22757.13(c)).")
@click.option("--imminent-risk", "imminent_risk", is_flag=True,
              help="There is imminent risk of death or serious injury (implies "
              "--critical-incident).")
@text_file_option
@attach_option
@click.option("--yes", is_flag=True, help="Submit without asking to confirm the readers.")
def submit(server: str, fingerprint: str, route: str, category: str | None,
           list_categories: bool, concerns_rso: bool, concerned: tuple[str, ...],
           identity_file: TextIO | None, material_risk: bool, sb53: bool,
           critical_incident: bool, imminent_risk: bool, text_file: TextIO | None,
           attach: tuple[Path, ...], yes: bool) -> None:
    """Encrypt a report here and file it. The text comes from --text-file or standard input."""
    client = CandorServer(server)
    options = client.get("/api/v1/report-options")
    categories = {c["id"]: c["label"] for c in options["taxonomy"]["categories"]}
    if list_categories:
        for category_id, label in categories.items():
            click.echo(f"{shown(category_id):<24} {shown(label)}")
        return
    if category is None or category not in categories:
        raise click.UsageError("choose a --category; --list-categories shows them")
    if text_file is None and not yes and not sys.stdin.isatty():
        raise click.UsageError("the confirmation is read from standard input too: give the "
                               "report with --text-file, or pass --yes")
    params = _reporter_kdf(options["reporter_kdf"])
    recipients = fetch_recipients(client, fingerprint)
    by_username = {r.username: r.staff_id for r in recipients.values()}
    unknown = [name for name in concerned if name not in by_username]
    if unknown:
        raise click.UsageError(f"not in the key directory: {', '.join(unknown)}. Only "
                               "people in the directory (recipients, officers and "
                               "directors) can be named; they are the ones left out.")
    report = protocol.NewReport(
        route=route, category=category, text=_read_text(text_file, "report"),
        identity=(identity_file.read().strip() or None) if identity_file else None,
        concerns_rso=concerns_rso,
        concerned_staff_ids=tuple(by_username[name] for name in concerned),
        material_risk=material_risk, sb53_disclosure=sb53,
        critical_incident=critical_incident or imminent_risk, imminent_risk=imminent_risk)
    try:
        readers = protocol.expected_readers(recipients, route, concerns_rso,
                                            report.concerned_staff_ids)
    except protocol.NoReaders as error:
        raise click.ClickException(str(error) + _outside_channels(options)) from None
    _show_readers(readers)
    if concerned:
        click.echo(f"Left out, as the report concerns them: {', '.join(concerned)}")
    if sb53:
        _show_sb53_sharing(protocol.sb53_sharers(recipients, concerns_rso,
                                                 report.concerned_staff_ids))
    _check_attachments(attach)
    if not yes:
        click.confirm("Encrypt the report to these people and submit it?", abort=True)
    try:
        body, codename, case_key = protocol.build_submission_with_key(report, recipients,
                                                                      params)
    except (CryptoError, protocol.NoReaders) as error:
        raise click.ClickException(f"the report was not encrypted: {error}") from None
    click.echo("Solving the anti-abuse puzzle…", err=True)
    try:
        body = protocol.with_proof_of_work(body, client.get("/api/v1/proof-of-work"))
    except (KeyError, TypeError, ValueError) as error:
        raise click.ClickException(f"the server's anti-abuse puzzle could not be solved "
                                   f"({shown(error)}). Nothing was sent.") from None
    filed = client.post("/api/v1/reports", body)
    click.echo(f"\nReport filed as case {shown(filed['number'])}.\n")
    click.echo("Your codename, shown only this once. It is the only way back to your report:")
    click.echo(f"\n    Codename: {codename}\n")
    click.echo("Write it down and keep it somewhere safe and private. It is stored nowhere,\n"
               "not even on this computer, and anyone who has it can read your case.")
    click.echo(_outside_channels(options))
    for path in attach:  # the new report's session is open: its files follow
        upload_attachment(client, body["case_ref"], case_key, 1, path)


def _outside_channels(options: Mapping[str, Any]) -> str:
    """The authorities a reporter can go to outside the lab, as the server lists them."""
    channels = options.get("outside_channels")
    if not isinstance(channels, list) or not channels:
        return ""
    lines = ["", "", "You can also go outside the lab; reporting here first is never required:"]
    for channel in channels:
        if not isinstance(channel, Mapping):
            continue
        lines.append(f"- {shown(channel.get('authority', ''))}: "
                     f"{shown(channel.get('applies_when', ''))}")
        for name in ("how", "website", "hotline", "address"):
            if channel.get(name):
                lines.append(f"    {shown(channel[name])}")
    return "\n".join(lines)


def _reporter_kdf(served: Mapping[str, Any]) -> kdf.KdfParams:
    """The named parameter set the server asks for; its numbers must be that set's own."""
    try:
        params = kdf.params_by_version(served["version"])
    except CryptoError as error:
        raise click.ClickException(f"the server asks for key derivation this client does not "
                                   f"know ({error})") from None
    if (served.get("opslimit"), served.get("memlimit")) != (params.opslimit, params.memlimit):
        raise click.ClickException("the server's key derivation parameters do not match their "
                                   "version; refusing to continue")
    if not params.is_at_least(kdf.REPORTER_CODENAME_V1):
        click.echo("Warning: the server asks for test-only key derivation parameters; a "
                   "production server never does.", err=True)
    return params


def _show_readers(readers: protocol.Readers) -> None:
    """Name the readers as the organisation signed them: worked out here from the verified
    directory, never taken from the server."""
    for people, heading in ((readers.now, "Can read this report now:"),
                            (readers.on_escalation,
                             "Can read it if the case is escalated to the Board:")):
        if people:
            click.echo(heading)
            for reader in people:
                click.echo(f"  {protocol.describe_person(shown(reader.username), reader.roles)}")


def _show_sb53_sharing(officers: tuple[protocol.Reader, ...]) -> None:
    """What an SB 53 disclosure shares each quarter, and with whom (SB 53, Labor Code
    §1107.1(e)(2)): names from the verified directory, minus those named as concerned."""
    click.echo("As an SB 53 disclosure, each quarter the case team writes a summary of it and "
               "of the lab's response; you receive the same words. The report itself, your "
               "identity and your files are not shared. The summary is encrypted to:")
    if not officers:
        click.echo("  no one yet: no officer or director holds a signed key")
    for officer in officers:
        click.echo(f"  {protocol.describe_person(shown(officer.username), officer.roles)}")


def _read_text(source: TextIO | None, what: str) -> str:
    stdin = sys.stdin
    if source is None and stdin.isatty():
        click.echo(f"Type the {what}; end it with Ctrl-D on a line of its own.", err=True)
    try:
        text = (source or stdin).read().strip()
    except UnicodeDecodeError:
        raise click.UsageError(f"the {what} is not UTF-8 text") from None
    if not text:
        raise click.UsageError(f"the {what} is empty")
    return text


# --- read and reply ---------------------------------------------------------------------------
codename_stdin_option = click.option(
    "--codename-stdin", is_flag=True,
    help="Read the codename from the first line of standard input instead of a hidden prompt.")


def _codename(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().strip()
    return str(click.prompt("Codename", hide_input=True))


def _open(client: CandorServer, fingerprint: str, codename: str
          ) -> tuple[dict[str, Any], protocol.OpenedCase]:
    """Verify the server, then open the case the codename names."""
    fetch_recipients(client, fingerprint)  # never send a codename-derived value elsewhere
    try:
        lookup = protocol.lookup_request(codename)
    except CryptoError as error:
        raise click.ClickException(f"that is not a codename: {error}") from None
    view = client.post("/api/v1/reporter/open", lookup)
    try:
        return view, protocol.open_case(view, codename)
    except (CryptoError, KeyError, ValueError) as error:
        raise click.ClickException(f"the case could not be opened with this codename "
                                   f"({error})") from None


def _show_case(view: Mapping[str, Any], opened: protocol.OpenedCase) -> None:
    try:
        messages = protocol.read_messages(view, opened)
    except (CryptoError, KeyError, ValueError) as error:
        raise click.ClickException(f"a record of the case failed to decrypt ({error}); it may "
                                   "have been tampered with") from None
    click.echo(shown(f"Case {view['number']}: {view['status']}"))
    click.echo(shown(f"Route: {view['route']}; category: {view['category']}"))
    click.echo(shown(f"Received {view['received_on']}; acknowledgement due by "
                     f"{view['acknowledge_by'] or NO_DATE}; feedback due by "
                     f"{view['feedback_by'] or NO_DATE}; next status update due by "
                     f"{view.get('next_update_by') or NO_DATE}"))
    click.echo("\nTimeline:")
    for event in view["timeline"]:
        click.echo(shown(f"  {event['on']}  {event['detail'] or event['kind']}"))
    click.echo("\nConversation:")
    for message in messages:
        author = AUTHOR_LABELS.get(message.author, message.author)
        click.echo(shown(f"\n--- {message.created_on}  {author}, "
                         f"{KIND_LABELS.get(message.kind, message.kind)}"))
        click.echo(shown(message.text))
    click.echo("\nAttachments:" if view["attachments"] else "\nNo attachments.")
    for item in view["attachments"]:
        try:
            incoming = protocol.open_attachment(opened, item)
            name, stated = incoming.name, incoming.stated_size
        except (CryptoError, UnicodeDecodeError, KeyError, ValueError):
            name, stated = "(could not be decrypted: it may have been altered)", None
        author = AUTHOR_LABELS.get(item["author"], item["author"])
        click.echo(shown(f"  {item['created_on']}  {author:<6} {name}  "
                         f"({size_before_decrypting(int(item['frames']), stated)})"))


@report_group.command("read")
@server_option
@fingerprint_option
@codename_stdin_option
@click.option("--save-attachments", "save_to", metavar="DIR",
              type=click.Path(file_okay=False, writable=True, path_type=Path),
              help="Download every attachment, decrypt it here and save it in DIR.")
def read(server: str, fingerprint: str, codename_stdin: bool, save_to: Path | None) -> None:
    """Show your case: status, deadlines, timeline, the conversation and attachments."""
    client = CandorServer(server)
    view, opened = _open(client, fingerprint, _codename(codename_stdin))
    _show_case(view, opened)
    if save_to is not None:
        _save_attachments(client, view, opened, save_to)


@report_group.command("reply")
@server_option
@fingerprint_option
@codename_stdin_option
@text_file_option
@attach_option
@click.option("--no-text", is_flag=True, help="Send only the --attach files, no message.")
def reply(server: str, fingerprint: str, codename_stdin: bool,
          text_file: TextIO | None, attach: tuple[Path, ...], no_text: bool) -> None:
    """Send a message on your case, with files if you like. The text comes from --text-file or
    standard input (after the codename's line with --codename-stdin)."""
    if no_text and not attach:
        raise click.UsageError("--no-text sends only files: give at least one --attach")
    client = CandorServer(server)
    codename = _codename(codename_stdin)
    text = None if no_text else _read_text(text_file, "message")
    _check_attachments(attach)
    view, opened = _open(client, fingerprint, codename)
    for path in attach:
        upload_attachment(client, opened.case_ref, opened.case_key, opened.key_epoch, path)
    if text is not None:
        view = client.post("/api/v1/reporter/messages", protocol.build_message(opened, text))
        click.echo("Message sent.\n")
    else:
        view = client.get("/api/v1/reporter/case")
    _show_case(view, opened)
