"""``candor report``: report, read replies and answer from a reporter's own machine.

For reporters who trust no code a server serves them. Every key is derived, every report and
message encrypted and decrypted here (``candor_reporter.protocol``); the server gets ciphertext
and metadata only. The key directory is checked against the organisation key fingerprint given
on the command line before anything is encrypted or any codename-derived value is sent.

Nothing here reads server configuration or writes a file: the codename is printed once and
kept nowhere, and the session cookie lives in memory for one command.
"""

from __future__ import annotations

import gettext
import http.client
import http.cookiejar
import ipaddress
import json
import os
import re
import sys
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO, TypeVar
from urllib.parse import urlsplit

import click

from candor_reporter import languages, protocol
from candor_reporter.file_size import format_bytes, size_before_decrypting
from candor_reporter.languages import N_
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

FC = TypeVar("FC", bound=Callable[..., Any] | click.Command)
TIMEOUT_SECONDS = 60
NO_DATE = N_("(not available)")
DOWNLOAD_PIECE = 256 * 1024
READ_PIECE = 1024 * 1024
CHUNK_ATTEMPTS = 4
AUTHOR_LABELS = {"reporter": N_("You"), "staff": N_("Staff")}
KIND_LABELS = {"report": N_("report"), "identity": N_("your identity"), "message": N_("message")}
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


# The catalogue of the language chosen with --language (or LANGUAGE, LC_ALL, LC_MESSAGES, LANG):
# one command per process, so it is set once, before the command runs.
_catalogue: gettext.NullTranslations = languages.translations(languages.ENGLISH.code)
_language = languages.ENGLISH.code


def _(message: str, **values: Any) -> str:
    """``message`` in the chosen language, its ``%(name)s`` placeholders filled from ``values``."""
    text = _catalogue.gettext(message)
    return text % values if values else text


def language_from_environment(environ: Mapping[str, str]) -> str:
    """The first shipped language the usual variables name ("fr_FR.UTF-8" is French), as
    gettext reads them; English when none does, or when the locale is C or POSIX."""
    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        for entry in environ.get(name, "").split(":"):
            code = re.split(r"[_.@-]", entry, maxsplit=1)[0].lower()
            if code and languages.by_code(code) is not None:
                return code
    return languages.ENGLISH.code


def use_language(code: str) -> None:
    global _catalogue, _language
    _catalogue, _language = languages.translations(code), code


def describe(username: str, roles: Iterable[str]) -> str:
    """``protocol.describe_person`` with the roles in the chosen language."""
    return protocol.describe_person(
        username, roles, {role: _(label) for role, label in protocol.READER_ROLE_LABELS.items()})


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
            raise click.BadParameter(_("give the server as an http:// or https:// address"))
        self.base_url = base_url.rstrip("/")
        # The server's own messages in the chosen language: its API under the language's
        # URL prefix, as the pages use it (English has none).
        self.prefix = "" if _language == languages.ENGLISH.code else "/" + _language
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
                raise ServerError(_("the server answered HTTP %(status)s",
                                    status=error.code)) from None
        except (urllib.error.URLError, http.client.HTTPException, OSError) as error:
            reason = getattr(error, "reason", error)
            raise ServerError(_("cannot reach %(server)s: %(reason)s", server=self.base_url,
                                reason=reason)) from None

    def _request(self, path: str, method: str, data: bytes | None = None
                 ) -> urllib.request.Request:
        # S310: __init__ admits only http and https, never file: or other schemes.
        return urllib.request.Request(self.base_url + self.prefix + path,  # noqa: S310
                                      data=data, method=method)

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
            raise ServerError(_("the server answered HTTP %(status)s", status=error.code),
                              error.code) from None
        except (urllib.error.URLError, http.client.HTTPException, OSError) as error:
            reason = getattr(error, "reason", error)
            raise ServerError(_("cannot reach %(server)s: %(reason)s", server=self.base_url,
                                reason=reason)) from None

    def _answer(self, raw: bytes, required: bool = True) -> Any:
        try:
            answer = json.loads(raw)
        except ValueError:
            if not required:
                return None
            raise ServerError(_("%(server)s did not answer as a Candor server (not JSON)",
                                server=self.base_url)) from None
        if isinstance(answer, dict) and isinstance(answer.get("csrf_token"), str):
            self.csrf_token = answer["csrf_token"]
        return answer


def server_url(value: str) -> str:
    """Accept only http(s) URLs; warn when plain http could be read on the way."""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise click.BadParameter(_("give the server as an http:// or https:// address"))
    if parts.scheme == "http" and not _private_network(parts.hostname):
        click.echo(_("Warning: %(server)s is plain http: anyone on the way can see and change "
                     "what is sent. Use https:// or the .onion address.", server=value),
                   err=True)
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
        raise click.ClickException(_(
            "the key directory of %(server)s failed verification (%(error)s). Nothing was "
            "sent. Check the organisation key fingerprint with a source you trust, such as the "
            "staff handbook; if it is right, this server must not be used.",
            server=server.base_url, error=shown(error))) from None


@contextmanager
def _help_in_language(item: click.Command | click.Option) -> Iterator[None]:
    """``item``'s help text in the chosen language while its help is written out."""
    english = item.help
    item.help = _(english) if english else english
    try:
        yield
    finally:
        item.help = english


class TranslatedOption(click.Option):
    """An option whose help is shown in the chosen language (``--language``, or the
    environment, is read before any help is written)."""

    def get_help_record(self, ctx: click.Context) -> tuple[str, str] | None:
        with _help_in_language(self):
            return super().get_help_record(ctx)


def option(*names: str, **settings: Any) -> Callable[[FC], FC]:
    return click.option(*names, cls=TranslatedOption, **settings)


class TranslatedCommand(click.Command):
    def format_help_text(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with _help_in_language(self):
            super().format_help_text(ctx, formatter)

    def get_short_help_str(self, limit: int = 45) -> str:
        with _help_in_language(self):
            return super().get_short_help_str(limit)


server_option = option(
    "--server", required=True, callback=lambda _ctx, _param, value: server_url(value),
    help=N_("The Candor server, e.g. https://candor.example.org"))
fingerprint_option = option(
    "--fingerprint", required=True,
    help=N_("The organisation key fingerprint, from a source you trust (not the server)."))
text_file_option = option(
    "--text-file", type=click.File("r", encoding="utf-8"),
    help=N_("Read the text from this file instead of standard input."))
attach_option = option(
    "--attach", "attach", multiple=True, metavar="FILE",
    type=click.Path(exists=True, dir_okay=False, readable=True, path_type=Path),
    help=N_("A file to send, encrypted here; repeatable. Photos (JPEG, PNG) lose their location, "
            "camera and other hidden details first; documents (PDF, Word, Excel, PowerPoint, "
            "OpenDocument) their author, company, comment and change authors and earlier "
            "versions; other files are sent as they are."))


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
            raise click.ClickException(_(
                "%(name)s cannot be cleaned: %(error)s. Nothing was sent.",
                name=shown(path.name), error=error)) from None
        report = document[1].report if document else None
        if report is not None:
            click.echo(_("%(name)s: a document, cleaned before it is encrypted; %(summary)s.",
                         name=shown(path.name), summary=report.summary(_)), err=True)
        elif kind in ("jpeg", "png"):
            click.echo(_("%(name)s: a %(kind)s image; its hidden details (location, camera, "
                         "dates, embedded text) are removed before it is encrypted.",
                         name=shown(path.name), kind=kind.upper()), err=True)
        else:
            click.echo(_("Warning: %(name)s cannot be cleaned here. Videos, archives and other "
                         "files can hold your name, your device, dates, locations and earlier "
                         "versions: check it before sending.", name=shown(path.name)), err=True)


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
            click.echo("  " + _("retrying after: %(error)s", error=failure.message), err=True)
    raise failure


def upload_attachment(client: CandorServer, case_ref: str, case_key: CaseKey, key_epoch: int,
                      path: Path) -> None:
    """Clean, encrypt and upload one file to the case this session has open."""
    try:
        document = _document(path)
    except MetadataError as error:
        raise click.ClickException(_("%(name)s was not sent: it cannot be cleaned (%(error)s)",
                                     name=path.name, error=error)) from None
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
        raise click.ClickException(_(
            "%(name)s was not sent: the image is damaged, so its hidden details could not be "
            "removed (%(error)s)", name=path.name, error=error)) from None
    client.post(f"{base}/complete", upload.completion_body(case_key, case_ref, frames, size))
    click.echo(_("Sent %(name)s (%(size)s), encrypted.", name=shown(upload.name),
                 size=format_bytes(size)), err=True)


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
            raise click.ClickException(_(
                "%(name)s could not be saved: %(error)s. Nothing of it was kept.",
                name=shown(incoming.name), error=error)) from None
        click.echo(_("Saved %(name)s (%(size)s)", name=shown(target),
                     size=format_bytes(decrypted)))
        mismatch = protocol.size_mismatch(incoming, decrypted, _)
        if mismatch:
            click.echo(shown(_("Warning: %(name)s: %(problem)s", name=incoming.name,
                               problem=mismatch)), err=True)


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
    message, never a traceback. Its commands' and options' help is in the chosen language."""

    command_class = TranslatedCommand

    def format_help_text(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with _help_in_language(self):
            super().format_help_text(ctx, formatter)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise click.ClickException(_(
                "the server's answer was not understood (%(error)s); is this a Candor server?",
                error=shown(repr(error)))) from None


def _choose_language(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str:
    code = value or language_from_environment(os.environ)
    use_language(code)
    return code


@click.group("report", cls=ReportGroup, help=N_(
    "Report, read replies and answer, encrypting on this machine.\n\nNeeds no server "
    "configuration: give the server's address and the organisation key fingerprint you got "
    "from a source you trust."))
@option("--language", type=click.Choice([language.code for language in languages.SHIPPED]),
        callback=_choose_language, is_eager=True, expose_value=False,
        help=N_("The language of this command's messages (default: from LANGUAGE, LC_ALL, "
                "LC_MESSAGES or LANG; English otherwise)."))
def report_group() -> None:
    pass


# --- submit -----------------------------------------------------------------------------------
@report_group.command("submit", help=N_(
    "Encrypt a report here and file it. The text comes from --text-file or standard input."))
@server_option
@fingerprint_option
@option("--route", type=click.Choice(["rso", "executive", "board"]), default="rso",
        show_default=True, help=N_("Who receives the report."))
@option("--category", help=N_("Category id (see --list-categories)."))
@option("--list-categories", is_flag=True, help=N_("Print the categories and exit."))
@option("--concerns-rso", is_flag=True,
        help=N_("The report concerns the RSO: the Board receives it, not the RSO."))
@option("--concerned", "concerned", multiple=True, metavar="USERNAME",
        help=N_("A recipient the report concerns; they get no copy. Repeatable."))
@option("--identity-file", "identity_file", type=click.File("r", encoding="utf-8"),
        help=N_("A file holding your name or contact, encrypted with the report; leave it "
                "out to stay anonymous. (A file, so it never shows in the process list or your "
                "shell history.)"))
@option("--material-risk", is_flag=True, help=N_("The concern involves material safety risk."))
@option("--sb53", is_flag=True,
        help=N_("This is a disclosure under California SB 53 (Labor Code §1107.1)."))
@option("--critical-incident", "critical_incident", is_flag=True,
        help=N_("This may be a critical safety incident the lab must report to the "
                "authorities (California B&P §22757.13(c))."))
@option("--imminent-risk", "imminent_risk", is_flag=True,
        help=N_("There is imminent risk of death or serious injury (implies "
                "--critical-incident)."))
@text_file_option
@attach_option
@option("--yes", is_flag=True, help=N_("Submit without asking to confirm the readers."))
def submit(server: str, fingerprint: str, route: str, category: str | None,
           list_categories: bool, concerns_rso: bool, concerned: tuple[str, ...],
           identity_file: TextIO | None, material_risk: bool, sb53: bool,
           critical_incident: bool, imminent_risk: bool, text_file: TextIO | None,
           attach: tuple[Path, ...], yes: bool) -> None:
    client = CandorServer(server)
    options = client.get("/api/v1/report-options")
    categories = {c["id"]: c["label"] for c in options["taxonomy"]["categories"]}
    if list_categories:
        for category_id, label in categories.items():
            click.echo(f"{shown(category_id):<24} {shown(label)}")
        return
    if category is None or category not in categories:
        raise click.UsageError(_("choose a --category; --list-categories shows them"))
    if text_file is None and not yes and not sys.stdin.isatty():
        raise click.UsageError(_("the confirmation is read from standard input too: give the "
                                 "report with --text-file, or pass --yes"))
    params = _reporter_kdf(options["reporter_kdf"])
    recipients = fetch_recipients(client, fingerprint)
    by_username = {r.username: r.staff_id for r in recipients.values()}
    unknown = [name for name in concerned if name not in by_username]
    if unknown:
        raise click.UsageError(_(
            "not in the key directory: %(names)s. Only people in the directory (recipients, "
            "officers and directors) can be named; they are the ones left out.",
            names=", ".join(unknown)))
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
        raise click.ClickException(_(str(error)) + _outside_channels(options)) from None
    _show_readers(readers)
    if concerned:
        click.echo(_("Left out, as the report concerns them: %(names)s",
                     names=", ".join(concerned)))
    if sb53:
        _show_sb53_sharing(protocol.sb53_sharers(recipients, concerns_rso,
                                                 report.concerned_staff_ids))
    _check_attachments(attach)
    if not yes:
        click.confirm(_("Encrypt the report to these people and submit it?"), abort=True)
    try:
        body, codename, case_key = protocol.build_submission_with_key(report, recipients,
                                                                      params)
    except (CryptoError, protocol.NoReaders) as error:
        raise click.ClickException(_("the report was not encrypted: %(error)s",
                                     error=_(str(error)))) from None
    click.echo(_("Solving the anti-abuse puzzle…"), err=True)
    try:
        body = protocol.with_proof_of_work(body, client.get("/api/v1/proof-of-work"))
    except (KeyError, TypeError, ValueError) as error:
        raise click.ClickException(_(
            "the server's anti-abuse puzzle could not be solved (%(error)s). Nothing was sent.",
            error=shown(error))) from None
    filed = client.post("/api/v1/reports", body)
    click.echo("\n" + _("Report filed as case %(number)s.", number=shown(filed["number"])) + "\n")
    click.echo(_("Your codename, shown only this once. It is the only way back to your report:"))
    click.echo("\n    " + _("Codename: %(codename)s", codename=codename) + "\n")
    click.echo(_("Write it down and keep it somewhere safe and private. It is stored nowhere, "
                 "not even on this computer, and anyone who has it can read your case."))
    click.echo(_outside_channels(options))
    for path in attach:  # the new report's session is open: its files follow
        upload_attachment(client, body["case_ref"], case_key, 1, path)


def _outside_channels(options: Mapping[str, Any]) -> str:
    """The authorities a reporter can go to outside the lab, as the server lists them."""
    channels = options.get("outside_channels")
    if not isinstance(channels, list) or not channels:
        return ""
    lines = ["", "", _("You can also go outside the lab; reporting here first is never "
                       "required:")]
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
        raise click.ClickException(_(
            "the server asks for key derivation this client does not know (%(error)s)",
            error=error)) from None
    if (served.get("opslimit"), served.get("memlimit")) != (params.opslimit, params.memlimit):
        raise click.ClickException(_("the server's key derivation parameters do not match "
                                     "their version; refusing to continue"))
    if not params.is_at_least(kdf.REPORTER_CODENAME_V1):
        click.echo(_("Warning: the server asks for test-only key derivation parameters; a "
                     "production server never does."), err=True)
    return params


def _show_readers(readers: protocol.Readers) -> None:
    """Name the readers as the organisation signed them: worked out here from the verified
    directory, never taken from the server."""
    for people, heading in ((readers.now, _("Can read this report now:")),
                            (readers.on_escalation,
                             _("Can read it if the case is escalated to the Board:"))):
        if people:
            click.echo(heading)
            for reader in people:
                click.echo(f"  {describe(shown(reader.username), reader.roles)}")


def _show_sb53_sharing(officers: tuple[protocol.Reader, ...]) -> None:
    """What an SB 53 disclosure shares each quarter, and with whom (SB 53, Labor Code
    §1107.1(e)(2)): names from the verified directory, minus those named as concerned."""
    click.echo(_("As an SB 53 disclosure, each quarter the case team writes a summary of it and "
                 "of the lab's response; you receive the same words. The report itself, your "
                 "identity and your files are not shared. The summary is encrypted to:"))
    if not officers:
        click.echo("  " + _("no one yet: no officer or director holds a signed key"))
    for officer in officers:
        click.echo(f"  {describe(shown(officer.username), officer.roles)}")


_TEXT_PROMPTS = {
    "report": (N_("Type the report; end it with Ctrl-D on a line of its own."),
               N_("the report is not UTF-8 text"), N_("the report is empty")),
    "message": (N_("Type the message; end it with Ctrl-D on a line of its own."),
                N_("the message is not UTF-8 text"), N_("the message is empty")),
}


def _read_text(source: TextIO | None, what: str) -> str:
    prompt, not_utf8, empty = _TEXT_PROMPTS[what]
    stdin = sys.stdin
    if source is None and stdin.isatty():
        click.echo(_(prompt), err=True)
    try:
        text = (source or stdin).read().strip()
    except UnicodeDecodeError:
        raise click.UsageError(_(not_utf8)) from None
    if not text:
        raise click.UsageError(_(empty))
    return text


# --- read and reply ---------------------------------------------------------------------------
codename_stdin_option = option(
    "--codename-stdin", is_flag=True,
    help=N_("Read the codename from the first line of standard input instead of a hidden prompt."))


def _codename(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().strip()
    return str(click.prompt(_("Codename"), hide_input=True))


def _open(client: CandorServer, fingerprint: str, codename: str
          ) -> tuple[dict[str, Any], protocol.OpenedCase]:
    """Verify the server, then open the case the codename names."""
    fetch_recipients(client, fingerprint)  # never send a codename-derived value elsewhere
    try:
        lookup = protocol.lookup_request(codename)
    except CryptoError as error:
        raise click.ClickException(_("that is not a codename: %(error)s", error=error)) from None
    view = client.post("/api/v1/reporter/open", lookup)
    try:
        return view, protocol.open_case(view, codename)
    except (CryptoError, KeyError, ValueError) as error:
        raise click.ClickException(_("the case could not be opened with this codename "
                                     "(%(error)s)", error=error)) from None


def _show_case(view: Mapping[str, Any], opened: protocol.OpenedCase) -> None:
    try:
        messages = protocol.read_messages(view, opened)
    except (CryptoError, KeyError, ValueError) as error:
        raise click.ClickException(_("a record of the case failed to decrypt (%(error)s); it "
                                     "may have been tampered with", error=error)) from None
    click.echo(shown(_("Case %(number)s: %(status)s", number=view["number"],
                       status=view["status"] if _language == languages.ENGLISH.code
                       else view.get("status_label") or view["status"])))
    click.echo(shown(_("Route: %(route)s; category: %(category)s", route=view["route"],
                       category=view["category"])))
    no_date = _(NO_DATE)
    click.echo(shown(_("Received %(received)s; acknowledgement due by %(acknowledge)s; feedback "
                       "due by %(feedback)s; next status update due by %(update)s",
                       received=view["received_on"],
                       acknowledge=view["acknowledge_by"] or no_date,
                       feedback=view["feedback_by"] or no_date,
                       update=view.get("next_update_by") or no_date)))
    click.echo("\n" + _("Timeline:"))
    for event in view["timeline"]:
        click.echo(shown(f"  {event['on']}  {event['detail'] or event['kind']}"))
    click.echo("\n" + _("Conversation:"))
    for message in messages:
        author = _(AUTHOR_LABELS.get(message.author, message.author))
        kind = _(KIND_LABELS.get(message.kind, message.kind))
        click.echo(shown(f"\n--- {message.created_on}  {author}, {kind}"))
        click.echo(shown(message.text))
    click.echo("\n" + (_("Attachments:") if view["attachments"] else _("No attachments.")))
    for item in view["attachments"]:
        try:
            incoming = protocol.open_attachment(opened, item)
            name, stated = incoming.name, incoming.stated_size
        except (CryptoError, UnicodeDecodeError, KeyError, ValueError):
            name, stated = _("(could not be decrypted: it may have been altered)"), None
        author = _(AUTHOR_LABELS.get(item["author"], item["author"]))
        click.echo(shown(f"  {item['created_on']}  {author:<6} {name}  "
                         f"({size_before_decrypting(int(item['frames']), stated, _)})"))


@report_group.command("read", help=N_(
    "Show your case: status, deadlines, timeline, the conversation and attachments."))
@server_option
@fingerprint_option
@codename_stdin_option
@option("--save-attachments", "save_to", metavar="DIR",
        type=click.Path(file_okay=False, writable=True, path_type=Path),
        help=N_("Download every attachment, decrypt it here and save it in DIR."))
def read(server: str, fingerprint: str, codename_stdin: bool, save_to: Path | None) -> None:
    client = CandorServer(server)
    view, opened = _open(client, fingerprint, _codename(codename_stdin))
    _show_case(view, opened)
    if save_to is not None:
        _save_attachments(client, view, opened, save_to)


@report_group.command("reply", help=N_(
    "Send a message on your case, with files if you like. The text comes from --text-file or "
    "standard input (after the codename's line with --codename-stdin)."))
@server_option
@fingerprint_option
@codename_stdin_option
@text_file_option
@attach_option
@option("--no-text", is_flag=True, help=N_("Send only the --attach files, no message."))
def reply(server: str, fingerprint: str, codename_stdin: bool,
          text_file: TextIO | None, attach: tuple[Path, ...], no_text: bool) -> None:
    if no_text and not attach:
        raise click.UsageError(_("--no-text sends only files: give at least one --attach"))
    client = CandorServer(server)
    codename = _codename(codename_stdin)
    text = None if no_text else _read_text(text_file, "message")
    _check_attachments(attach)
    view, opened = _open(client, fingerprint, codename)
    for path in attach:
        upload_attachment(client, opened.case_ref, opened.case_key, opened.key_epoch, path)
    if text is not None:
        view = client.post("/api/v1/reporter/messages", protocol.build_message(opened, text))
        click.echo(_("Message sent.") + "\n")
    else:
        view = client.get("/api/v1/reporter/case")
    _show_case(view, opened)
