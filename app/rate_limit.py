"""Global rate limits that identify no one: a count of recent events per kind, kept in each
process's memory only. Nothing is stored, so no database row records when a reporter acted;
with several workers each enforces its own share of the limit."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable


class RateLimited(Exception):
    def __init__(self, retry_after: int) -> None:
        super().__init__(retry_after)
        self.retry_after = retry_after


class GlobalRateLimit:
    """At most ``limit`` events in any ``window`` seconds, across all callers."""

    def __init__(self, limit: int, window: float = 60.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.limit, self.window, self.clock = limit, window, clock
        self._events: deque[float] = deque()
        self._lock = threading.Lock()

    def take(self) -> None:
        """Count one event, or raise :class:`RateLimited` with the seconds to wait."""
        with self._lock:
            now = self.clock()
            while self._events and now - self._events[0] >= self.window:
                self._events.popleft()
            if len(self._events) >= self.limit:
                raise RateLimited(max(1, int(self.window - (now - self._events[0])) + 1))
            self._events.append(now)
