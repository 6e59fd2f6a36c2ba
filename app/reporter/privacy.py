"""The privacy notice for reporters (GDPR Arts. 13-14): the lab's own text from
``instance/privacy-notice.txt`` if present, else a default that says what Candor itself does.

The file is plain text: a line starting with ``# `` is a heading, blank lines separate
paragraphs, and nothing in it is treated as markup (it is escaped like any other text).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from candor_reporter.languages import N_

PRIVACY_NOTICE_FILE = "privacy-notice.txt"
MAX_NOTICE_BYTES = 64 * 1024


@dataclass(frozen=True)
class Block:
    heading: bool
    text: str


# The outcomes a period of retention is set for, as the default notice names them.
_OUTCOME_WORDS = {"substantiated": N_("substantiated"),
                  "partly_substantiated": N_("partly substantiated"),
                  "not_substantiated": N_("not substantiated"),
                  "out_of_scope": N_("out of scope")}


def _years(days: int, translate: Callable[[str], str]) -> str:
    if days % 365 == 0 and days >= 730:
        return translate(N_("%(count)s years")) % {"count": days // 365}
    if days == 365:
        return translate(N_("1 year"))
    return translate(N_("%(count)s days")) % {"count": days}


def default_text(retention_days: Mapping[str, int], backup_keep_days: int,
                 translate: Callable[[str], str] = str) -> str:
    """What Candor does with a reporter's data, with this installation's periods in it, each
    heading and paragraph through ``translate`` (the reporter's language)."""
    kept = ", ".join(
        f"{translate(_OUTCOME_WORDS.get(outcome, outcome.replace('_', ' ')))}: "
        f"{_years(days, translate)}"
        for outcome, days in retention_days.items() if outcome != "none")
    otherwise = _years(retention_days.get("none", max(retention_days.values())), translate)
    how_long = translate(N_(
        "After a case is closed, its content is destroyed when its period ends (%(kept)s; "
        "otherwise %(otherwise)s), unless it is under legal hold. What remains is reduced to the "
        "figures the statistics need. Backup copies are deleted %(backup_days)s days after they "
        "are made. A recipient can destroy earlier anything in the case that is manifestly "
        "irrelevant to it; you are told if they do.")) % {
        "kept": kept, "otherwise": otherwise, "backup_days": backup_keep_days}
    blocks = [
        "# " + translate(N_("Who is responsible")),
        translate(N_(
            "The organisation that runs this reporting channel is the controller of the "
            "personal data in your report. Its contact for data protection is given in its own "
            "privacy policy; you can also ask through your case, with your codename.")),
        "# " + translate(N_("What this channel keeps")),
        translate(N_(
            "What you write and the files you attach are encrypted before they are stored, so "
            "that only the recipients of your report (and you, with your codename) can read "
            "them. If you give your name or contact details, they are kept apart from the report "
            "and shown to a recipient only when that recipient records why they need them; you "
            "are told when that happens.")),
        translate(N_(
            "The channel also keeps what it needs to handle the case: its route, category, "
            "status, dates (never a time of day), deadlines, outcome and flags. It does not "
            "store your IP address, your browser's details, or when in the day you reported.")),
        "# " + translate(N_("Why")),
        translate(N_(
            "To receive and follow up your report, as the law on reporting channels requires of "
            "the organisation (EU Directive 2019/1937; California Labor Code section 1107.1), "
            "and to keep the records that show reports were handled.")),
        "# " + translate(N_("Who may see it")),
        translate(N_(
            "Only the recipients you chose when reporting, and anyone they share the case with, "
            "which the case records. Your identity is not passed beyond them unless the law "
            "requires it (for example, for an investigation by an authority or for court "
            "proceedings), and you are told in writing first unless that would jeopardise the "
            "investigation. Every such disclosure is recorded.")),
        "# " + translate(N_("How long")),
        how_long,
        "# " + translate(N_("Your rights")),
        translate(N_(
            "You may ask to see the personal data the case holds about you, to have it "
            "corrected, and to have what is not needed deleted; you may object to its use or ask "
            "for it to be restricted. Write to the recipients through your case with your "
            "codename; you will be answered within one month. You may also complain to a data "
            "protection authority. Some rights can be limited where they would harm the "
            "investigation or others' rights; you are told if they are.")),
    ]
    return "\n\n".join(blocks) + "\n"


def parse(text: str) -> list[Block]:
    blocks: list[Block] = []
    paragraph: list[str] = []

    def close() -> None:
        if paragraph:
            blocks.append(Block(False, " ".join(paragraph)))
            paragraph.clear()

    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("# "):
            close()
            blocks.append(Block(True, stripped[2:].strip()))
        elif not stripped:
            close()
        else:
            paragraph.append(stripped)
    close()
    return blocks


def load(instance_path: Path, retention_days: Mapping[str, int], backup_keep_days: int,
         language: str = "en", translate: Callable[[str], str] = str
         ) -> tuple[list[Block], bool]:
    """The notice's blocks, and whether they are the lab's own text (else the default): in
    ``language`` if the lab wrote one (``instance/privacy-notice.fr.txt``), else its
    ``privacy-notice.txt``, else the default through ``translate``."""
    path = instance_path / PRIVACY_NOTICE_FILE.replace(".txt", f".{language}.txt")
    if language == "en" or not path.is_file():
        path = instance_path / PRIVACY_NOTICE_FILE
    if path.is_file() and path.stat().st_size <= MAX_NOTICE_BYTES:
        own = parse(path.read_text(encoding="utf-8", errors="replace"))
        if own:
            return own, True
    return parse(default_text(retention_days, backup_keep_days, translate)), False
