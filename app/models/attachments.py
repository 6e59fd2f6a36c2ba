"""attachments tables (filled in by their capability)."""

from __future__ import annotations

__all__: list[str] = []
