"""The notice of rights: what a reporter may do and how the law protects them.

California's Labor Code §1107.1(d) asks a frontier developer to give clear notice to its
employees of their rights under the section, by posting it and by a yearly written notice. The
page at ``/rights`` shows this text and prints as a poster; every reporter page links to it.

The default states the rights in plain words. An installation replaces it with
``instance/notice_of_rights.txt``: plain text, where a line starting with ``# `` is the title,
``## `` a heading, ``- `` an item of a list, and a blank line ends a paragraph. No markup is
interpreted, so the file can hold nothing that runs in a reporter's browser.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from candor_reporter.languages import N_

NOTICE_FILE = "notice_of_rights.txt"
MAX_NOTICE_CHARS = 20_000

# Each paragraph, heading and item is one message of the catalogues, so that the default reads in
# the reporter's language (``translated``); a lab's own file is shown as written.
DEFAULT_NOTICE = "\n\n".join([
    "# " + N_("Your rights when you raise a concern"),
    N_("You may report, anonymously if you choose, a concern that the lab may be breaking its "
       "Responsible Scaling Policy or the law. Retaliation against anyone who reports in good "
       "faith, or who helps with an investigation, is prohibited."),
    "## " + N_("Reporting inside the lab"),
    "\n".join("- " + item for item in (
        N_("Through Candor you can report anonymously or with your name, to the Responsible "
           "Scaling Officer (RSO), to an executive who does not report to the RSO, or to the "
           "Board. A report that concerns the RSO always reaches the Board."),
        N_("The lab must acknowledge your report within 7 days, and tell you within 3 months "
           "what it has done or plans to do about it and why."),
        N_("For a disclosure covered by California law (SB 53), you are told the status of the "
           "investigation and the actions taken at least once a month."),
        N_("Anyone you name as concerned by your report is left out of its readers."))),
    "## " + N_("Going outside the lab"),
    "\n".join("- " + item for item in (
        N_("California's Labor Code §1107.1 protects covered employees of frontier AI "
           "developers who disclose to the California Attorney General, to a federal authority, "
           "to a person with authority over them, or to another employee with authority to "
           "investigate, that they have reasonable cause to believe the developer's activities "
           "pose a specific and substantial danger to public health or safety resulting from a "
           "catastrophic risk, or that it has broken the Transparency in Frontier Artificial "
           "Intelligence Act."),
        N_("The lab may not make, adopt, enforce or enter into any rule, policy or contract that "
           "prevents such a disclosure, and may not retaliate against you for making one."),
        N_("If you work for the lab in the European Union, Directive 2019/1937 protects "
           "reporting a breach of EU law inside the lab or to the competent authority of your "
           "country, and keeps your identity confidential."),
        N_("You never have to report inside the lab first."))),
    "## " + N_("Where to find this notice"),
    N_("This notice is always on Candor's start page, under \"Your rights\". The outside "
       "authorities you can go to, and when each applies, are listed there too."),
]) + "\n"


class NoticeError(Exception):
    """The configured notice is unusable; the message says why."""


Kind = Literal["title", "heading", "paragraph", "list"]


@dataclass(frozen=True)
class Block:
    kind: Kind
    lines: tuple[str, ...]


def parse_notice(text: str) -> tuple[Block, ...]:
    """The notice's blocks, in order. Lines of a paragraph are joined with spaces."""
    blocks: list[Block] = []
    paragraph: list[str] = []
    items: list[str] = []

    def flush() -> None:
        if paragraph:
            blocks.append(Block("paragraph", (" ".join(paragraph),)))
            paragraph.clear()
        if items:
            blocks.append(Block("list", tuple(items)))
            items.clear()

    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            flush()
        elif line.startswith("## "):
            flush()
            blocks.append(Block("heading", (line[3:].strip(),)))
        elif line.startswith("# "):
            flush()
            blocks.append(Block("title", (line[2:].strip(),)))
        elif line.startswith("- "):
            if paragraph:
                flush()
            items.append(line[2:].strip())
        elif items:
            items[-1] += " " + line  # a list item continued on the next line
        else:
            paragraph.append(line)
    flush()
    return tuple(blocks)


def load_notice(instance_path: Path, language: str = "en",
                translate: Callable[[str], str] = str) -> tuple[Block, ...]:
    """The installation's notice in ``language`` (``instance/notice_of_rights.fr.txt``), else
    its notice (``instance/notice_of_rights.txt``), else the default through ``translate``."""
    path = instance_path / NOTICE_FILE.replace(".txt", f".{language}.txt")
    if language == "en" or not path.exists():
        path = instance_path / NOTICE_FILE
    if not path.exists():
        return tuple(Block(block.kind, tuple(translate(line) for line in block.lines))
                     for block in parse_notice(DEFAULT_NOTICE))
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise NoticeError(f"{path} cannot be read as UTF-8 text: {error}") from None
    if not text.strip() or len(text) > MAX_NOTICE_CHARS:
        raise NoticeError(f"{path} must hold between 1 and {MAX_NOTICE_CHARS:,} characters")
    return parse_notice(text)
