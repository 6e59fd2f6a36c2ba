"""Outside channels: the authorities a reporter may go to instead of, or as well as, Candor.

California's Labor Code §1107.1(a) and (c) protect disclosures to the Attorney General and to
federal authorities; the EU Directive 2019/1937 (Art. 9(1)(g)) asks that reporters be told how
to report externally to the competent authorities. One list, shown on the landing page, the
receipt, the reporter's case page and at closure, and given to the command-line client.

The default is deliberately modest: it names each authority and when it applies, without phone
numbers or addresses that could go stale. An installation replaces it with
``instance/outside_channels.json``::

    {"channels": [{"authority": "...", "applies_when": "...", "how": "...",
                   "website": "https://...", "hotline": "...", "address": "..."}]}

``authority``, ``applies_when`` and ``how`` are required; the others may be left out.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

OUTSIDE_CHANNELS_FILE = "outside_channels.json"
MAX_CHANNELS = 30
MAX_FIELD = 600


class OutsideChannelsError(Exception):
    """The configured list is unusable; the message says why."""


@dataclass(frozen=True)
class OutsideChannel:
    authority: str
    applies_when: str
    how: str
    website: str = ""
    hotline: str = ""
    address: str = ""

    def as_json(self) -> dict[str, str]:
        return asdict(self)


DEFAULT_CHANNELS: tuple[OutsideChannel, ...] = (
    OutsideChannel(
        authority="The California Attorney General",
        applies_when=(
            "You believe the lab's activities pose a specific and substantial danger to public "
            "health or safety resulting from a catastrophic risk, or that the lab has broken "
            "California's Transparency in Frontier Artificial Intelligence Act (SB 53). Labor "
            "Code §1107.1 protects such a disclosure to the Attorney General."),
        how="Through the Attorney General's office; its website lists how to reach it.",
        website="https://oag.ca.gov/",
    ),
    OutsideChannel(
        authority="Federal authorities",
        applies_when=(
            "The same concerns, or a possible breach of federal law: Labor Code §1107.1 also "
            "protects disclosures to a federal authority, such as a regulator or law "
            "enforcement agency responsible for the matter."),
        how="Through the federal agency responsible for the matter.",
    ),
    OutsideChannel(
        authority="The European AI Office",
        applies_when=(
            "Your concern is about a general-purpose AI model placed on the market in the "
            "European Union, under the EU AI Act."),
        how="Through the European Commission's AI Office; the Commission's website describes "
            "how to report to it.",
        website="https://digital-strategy.ec.europa.eu/en/policies/ai-office",
    ),
    OutsideChannel(
        authority="The competent authority of your EU country",
        applies_when=(
            "You work for the lab in the European Union: under Directive 2019/1937 you may "
            "report a breach of EU law to the authority your country designated, before, "
            "after or instead of reporting here."),
        how="Through the authority your country designated to receive such reports.",
    ),
)


def load_outside_channels(instance_path: Path) -> tuple[OutsideChannel, ...]:
    """The installation's list: ``instance/outside_channels.json`` if present, else the
    default. Raises OutsideChannelsError for a file that cannot be used."""
    path = instance_path / OUTSIDE_CHANNELS_FILE
    if not path.exists():
        return DEFAULT_CHANNELS
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        items = data["channels"]
        if not isinstance(items, list) or not 0 < len(items) <= MAX_CHANNELS:
            raise ValueError(f"'channels' must be a list of 1 to {MAX_CHANNELS} entries")
        channels = tuple(_channel(item) for item in items)
    except (ValueError, KeyError, TypeError) as error:
        raise OutsideChannelsError(f"{path} is not a valid list of outside channels: "
                                   f"{error}") from None
    return channels


def _channel(item: object) -> OutsideChannel:
    if not isinstance(item, dict):
        raise TypeError("each channel must be an object")
    unknown = set(item) - set(OutsideChannel.__dataclass_fields__)
    if unknown:
        raise ValueError(f"unknown fields {sorted(unknown)}")
    values = {name: item.get(name, "") for name in OutsideChannel.__dataclass_fields__}
    for name, value in values.items():
        if not isinstance(value, str) or len(value) > MAX_FIELD:
            raise ValueError(f"{name!r} must be text of at most {MAX_FIELD} characters")
    for name in ("authority", "applies_when", "how"):
        if not values[name].strip():
            raise ValueError(f"every channel needs {name!r}")
    if values["website"] and not values["website"].startswith(("https://", "http://")):
        raise ValueError("'website' must start with https:// or http://")
    return OutsideChannel(**values)
