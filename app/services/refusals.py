"""What every service raises to refuse a request: a message safe to show whoever asked."""

from __future__ import annotations


class Refused(Exception):
    """Refused for a reason ``str(error)`` states; each service names its own subclass."""

    @classmethod
    def unless(cls, condition: bool, message: str) -> None:
        """The one guard: refuse with ``message`` unless ``condition`` holds."""
        if not condition:
            raise cls(message)
