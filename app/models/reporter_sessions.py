"""What the server keeps of reporter sessions: only those ended with "Leave now"."""

from __future__ import annotations

from datetime import date

from sqlalchemy import LargeBinary
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import Base

__all__ = ["EndedReporterSession"]


class EndedReporterSession(Base):
    """A reporter session ended with "Leave now": no cookie of it opens anything again, however
    it was copied (issue 16, finding 4). Held by a digest of the session's random identifier,
    which names no case and no one, and forgotten after ``forget_after``, a day on which no
    cookie of it can be in use any more. No time of day: nothing here dates the reporter's
    leaving more finely than the day. Without a rowid on SQLite, the rows sit in the order of
    their random keys, not in the order the sessions ended."""

    __tablename__ = "ended_reporter_sessions"
    __table_args__ = ({"sqlite_with_rowid": False},)

    digest: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    forget_after: Mapped[date]
