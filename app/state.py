"""What one Candor app holds beside Flask's own: its configuration and the state built from it
once, as the app is assembled. Surfaces reach it through ``candor()``; services never do (they
are handed what they need).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from flask import Flask, current_app

from app.config import Config, ConfigError
from app.extensions import DbSession, db
from app.services.deadline_policy import PolicyError, load_policies
from app.services.deadline_store import PolicySource
from app.services.deadlines import sync_policies
from app.services.proof_of_work import SpentChallenges
from app.taxonomy import Taxonomy, load_taxonomy

EXTENSION = "candor"


@dataclass
class Candor:
    """One app's state. ``config`` may be replaced by a test; nothing else changes after
    ``build``."""

    config: Config
    # The deadline policy file, from which each request and each tick copies new versions to
    # the database (app/services/deadline_store.py).
    policy_source: PolicySource

    @classmethod
    def build(cls, config: Config) -> Candor:
        """Check the deadline policy file as the app is assembled (a broken file stops the start
        with its message rather than failing the first report filed)."""
        try:
            load_policies(config.instance_path)
        except PolicyError as error:
            raise ConfigError(str(error)) from None
        return cls(config=config, policy_source=PolicySource(config.instance_path))

    def taxonomy(self) -> Taxonomy:
        """The installation's categories, read from its instance folder at each call, so a
        changed file applies without a restart."""
        return load_taxonomy(self.config.instance_path)

    def spent_challenges(self, session: DbSession) -> SpentChallenges:
        """The proof-of-work challenges used anywhere in the deployment, through ``session``
        (a claim commits it)."""
        return SpentChallenges(session)

    def take_rate_limit(self, session: DbSession, kind: str) -> None:
        """Count one anonymous event of ``kind`` ("submission", "codename" or "passkey", a
        passkey sign-in challenge) with every node's, and commit ``session``'s transaction
        with it (what it holds is kept with the count);
        raise RateLimited, having rolled it back, when there are too many."""
        from app.rate_limit import GlobalRateLimit, RateLimited

        limit = {"submission": self.config.submissions_per_minute,
                 "codename": self.config.codename_attempts_per_minute,
                 "passkey": self.config.passkey_challenges_per_minute}[kind]
        try:
            GlobalRateLimit(kind, limit).take(session, time.time())
        except RateLimited:
            session.rollback()
            raise
        session.commit()


def install(app: Flask, config: Config) -> Candor:
    state = Candor.build(config)
    app.extensions[EXTENSION] = state

    @app.before_request
    def _sync_policy() -> None:
        """A changed policy file applies from the next request on, without a restart: reading
        it costs one small file read, and it is stored only when it changed."""
        sync_policies(db.session, state.policy_source)

    return state


def state_of(app: Flask) -> Candor:
    state: Candor = app.extensions[EXTENSION]
    return state


def candor() -> Candor:
    """The state of the app handling the current request or command."""
    return state_of(current_app)
