"""The versioned category list a reporter chooses from. A case keeps the version it was filed
under, so renaming or adding categories later never changes what an old report said.

The default follows RSP v3; an installation may replace it with ``instance/taxonomy.json``:
``{"version": "...", "categories": [{"id": "...", "label": "..."}, ...]}``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from candor_reporter.languages import N_

_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,47}")


class TaxonomyError(Exception):
    """The configured taxonomy file is unusable; the message says why."""


@dataclass(frozen=True)
class Category:
    id: str
    label: str


@dataclass(frozen=True)
class Taxonomy:
    version: str
    categories: tuple[Category, ...]

    def get(self, category_id: str) -> Category | None:
        return next((c for c in self.categories if c.id == category_id), None)


RSP_V3 = Taxonomy(
    version="rsp-v3.0",
    categories=tuple(Category(*pair) for pair in (  # labels translated where shown
        ("capability-cbrn", N_("Capability thresholds and evaluations: CBRN weapons")),
        ("capability-ai-rnd", N_("Capability thresholds and evaluations: automated AI R&D")),
        ("capability-sabotage", N_("Capability thresholds and evaluations: high-stakes sabotage")),
        ("asl3-deployment", N_("ASL-3 deployment safeguards")),
        ("weights-security", N_("Security of model weights")),
        ("risk-reports", N_("Risk Reports and their redactions")),
        ("safety-roadmap", N_("The Frontier Safety Roadmap")),
        ("internal-deployment", N_("Internal deployment")),
        ("governance", N_("Governance commitments")),
        ("retaliation", N_("Retaliation against someone who raised a concern")),
        ("other", N_("Something else")),
    )),
)

TAXONOMY_FILE = "taxonomy.json"


def load_taxonomy(instance_path: Path) -> Taxonomy:
    """The installation's taxonomy: ``instance/taxonomy.json`` if present, else RSP v3."""
    path = instance_path / TAXONOMY_FILE
    if not path.exists():
        return RSP_V3
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        taxonomy = Taxonomy(
            version=str(data["version"]),
            categories=tuple(Category(str(c["id"]), str(c["label"])) for c in data["categories"]),
        )
    except (ValueError, KeyError, TypeError) as error:
        raise TaxonomyError(f"{path} is not a valid taxonomy: {error}") from None
    ids = [c.id for c in taxonomy.categories]
    if not ids or len(set(ids)) != len(ids) or not all(_ID.fullmatch(i) for i in ids):
        raise TaxonomyError(f"{path}: category ids must be unique lowercase slugs")
    if "retaliation" not in ids or "other" not in ids:
        raise TaxonomyError(f"{path}: the categories 'retaliation' and 'other' are required")
    return taxonomy
