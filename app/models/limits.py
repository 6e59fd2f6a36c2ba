"""What every node shares to decide whether an anonymous request is allowed: the proof-of-work
challenges already spent and the counts of the global rate limits. Kept in the database, so
that a deployment of several nodes (several processes, several machines) decides as one."""

from __future__ import annotations

from datetime import date

from sqlalchemy import BigInteger, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import Base

__all__ = ["RateLimitCount", "SpentChallenge"]


class SpentChallenge(Base):
    """A proof-of-work challenge already used (app/services/proof_of_work.py): the primary key
    makes spending it an insert that at most one request in the deployment wins. Held by a
    digest of the challenge, which names no case and no one, and forgotten after
    ``forget_after``, the day the challenge expires: no time of day, so nothing here dates a
    report more finely than the day. Without a rowid on SQLite, the rows sit in the order of
    their random keys, not in the order they were spent."""

    __tablename__ = "spent_challenges"
    __table_args__ = ({"sqlite_with_rowid": False},)

    digest: Mapped[bytes] = mapped_column(LargeBinary(16), primary_key=True)
    forget_after: Mapped[date]


class RateLimitCount(Base):
    """One global rate limit (app/rate_limit.py): how many events of ``kind`` fell in each
    of the last few slots of its window, the newest being ``slot``. Counts only: nothing
    about who acted, and no time finer than a slot (a sixth of the window)."""

    __tablename__ = "rate_limit_counts"

    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    slot: Mapped[int] = mapped_column(BigInteger)
    counts: Mapped[str] = mapped_column(String(200))  # comma-separated, oldest first
