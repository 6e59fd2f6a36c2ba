"""All periodic work, run once: what ``candor tick`` and each scheduler run do (the tick, then
the statistics kept ready for governance, timed apart from the tick).

Every job is safe to run twice, at any time and from two processes at once (see each module);
``now`` is a parameter so tests and operators can run the tick as if it were another moment.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from app import rate_limit
from app.config import Config
from app.extensions import DbSession
from app.services import (
    attachments,
    audit,
    escalation,
    notifications,
    passkeys,
    proof_of_work,
    receipts,
    releases,
    retention,
    throttle,
)
from app.services.deadline_store import PolicySource
from app.services.deadlines import current_policies, sync_policies
from app.services.housekeeping import purge_idle_staff_sessions
from app.taxonomy import load_taxonomy

STALL_VARIABLE = "CANDOR_TEST_STALL_AT"

# Nothing Candor logs, counts or stores may move with a reporter's action at a finer grain than
# the day (README, "What Candor logs and keeps"). Of the tick's counts, these can: an upload
# adds a blob for the next tick to touch, and a case filed today is among the cases the next
# tick looks at whenever its policy's ladder starts on its first day. They stay in
# ``run_tick``'s result for benchmarks and tests, and are never logged or printed
# (``for_the_log``). Every other count moves with staff actions, with the date, or once a day.
REPORTER_TIMED_RESULTS = frozenset({"cases_looked_at", "blob_times_blurred"})


def for_the_log(results: dict[str, int]) -> dict[str, int]:
    """The tick's results that may be logged or printed."""
    return {name: count for name, count in results.items()
            if name not in REPORTER_TIMED_RESULTS}


def stall_hook(config: Config) -> Callable[[str], None]:
    """Test hook for crash tests: in the testing environment only, ``CANDOR_TEST_STALL_AT=<point>``
    makes the tick announce the point on stderr and sleep there, so a test can kill it at a
    known moment. Points: escalation-step, outbox-claimed, smtp-accepted."""
    wanted = os.environ.get(STALL_VARIABLE) if config.environment == "testing" else None

    def stall(point: str) -> None:
        if point == wanted:
            print(f"stalled at {point}", file=sys.stderr, flush=True)
            time.sleep(3600)

    return stall


def run_tick(session: DbSession, config: Config, now: datetime,
             policy_source: PolicySource) -> dict[str, int]:
    """Deadlines and escalations, digests, email delivery, then housekeeping."""
    stall = stall_hook(config)
    sync_policies(session, policy_source)  # a changed policy file applies from this tick on
    policies = current_policies(session)
    ladders = escalation.run_case_ladders(session, now, policies, stall)
    results = {
        "cases_looked_at": ladders.cases_looked_at,
        # Cases under a policy version unknown here (named in the log): left untouched.
        "cases_left_alone": sum(ladders.left_alone.values()),
        "escalation_steps_taken": ladders.steps_taken,
        "escalated_to_board": ladders.escalated_to_board,
        "quarterly_pack_steps_taken": escalation.run_quarterly_pack(session, now,
                                                                    policies.current),
        "digests_built": notifications.build_digests(session, now, config.digest_hour),
    }
    delivery = notifications.deliver(session, config, now, stall)
    results.update(emails_sent=delivery.sent, emails_retrying=delivery.retrying,
                   emails_failed=delivery.failed)
    idle = timedelta(minutes=config.staff_idle_minutes)
    results["idle_staff_sessions_purged"] = purge_idle_staff_sessions(session, now, idle)
    results["sign_in_counts_forgotten"] = throttle.purge_forgotten(session, now, config)
    results["spent_challenges_forgotten"] = proof_of_work.purge_spent(session, now.date())
    results["passkey_challenges_expired"] = passkeys.delete_expired_challenges(session, now)
    results["rate_limit_counts_forgotten"] = rate_limit.purge_past(session, now)
    store = attachments.store_for(config, session)
    results["stale_uploads_purged"] = attachments.purge_stale_uploads(session, now, store)
    results["uncollected_receipts_purged"] = receipts.purge_uncollected(session, now.date())
    results["blob_times_blurred"] = store.blur_change_times()
    results["content_destroyed"] = len(retention.apply(session, now, config).destroyed)
    results["audit_checkpoints"] = int(audit.checkpoint_if_due(session, config, now) is not None)
    session.commit()
    return results


def refresh_statistics(session: DbSession, config: Config, now: datetime) -> dict[str, int]:
    """Make the statistics releases due today, once (app/services/releases.py)."""
    made = releases.release_due(session, now.date(), load_taxonomy(config.instance_path),
                                releases.Limits(config.statistics_min_cell,
                                                config.public_min_cell))
    return {"statistics_releases_made": len(made)}
