"""Configuration: one typed, frozen object, read once from ``CANDOR_*`` variables and the
instance folder, and validated before the app is assembled.

Production fails closed: a missing or placeholder secret key, or a missing database URL, stops
start-up with a message naming every missing item.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from crypto.proof_of_work import PROOF_OF_WORK_MAX_BITS

Environment = Literal["development", "production", "testing"]
ENVIRONMENTS: tuple[Environment, ...] = ("development", "production", "testing")
# Where attachment ciphertext lives (app/services/blobs.py).
BLOB_STORES = ("filesystem", "database")

# Values people paste from examples; a production secret must be none of these.
_PLACEHOLDER_SECRETS = frozenset({"", "changeme", "change-me", "secret", "dev", "development"})
MIN_SECRET_LENGTH = 32
SECRET_KEY_FILE = "secret_key"  # noqa: S105 - a file name, not a secret  # nosec B105


def derive_key(secret_key: str, purpose: str) -> bytes:
    """A 32-byte key for one purpose, derived from the secret key. Every server-side use of the
    secret (sealed session cookies, codename look-ups, throttles, proof of work...) takes its
    own purpose, so no value made for one use is ever valid for another."""
    return hmac.new(secret_key.encode(), b"candor/derived-key\0" + purpose.encode(),
                    hashlib.sha256).digest()


# Days content is kept after closure, per outcome; "none" is a case closed without findings.
# Substantiated cases are kept longest: they may be needed for corrective action and litigation.
DEFAULT_RETENTION_DAYS: tuple[tuple[str, int], ...] = (
    ("substantiated", 7 * 365), ("partly_substantiated", 7 * 365),
    ("not_substantiated", 3 * 365), ("out_of_scope", 365), ("none", 3 * 365),
)
# Never shorter: the last retaliation check-in comes six months after closure.
MIN_RETENTION_DAYS = 200


# A blank page: it names no site and needs no network, so it suits any installation until the
# lab picks something ordinary-looking of its own (a news or weather site, its intranet).
DEFAULT_LEAVE_URL = "about:blank"


class ConfigError(Exception):
    """The configuration cannot be used. ``str(error)`` says exactly what to fix."""


def env_int(env: Mapping[str, str], name: str, default: int, minimum: int = 0,
         maximum: int | None = None) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, not {raw!r}") from None
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, not {value}")
    if maximum is not None and value > maximum:
        raise ConfigError(f"{name} must be at most {maximum}, not {value}")
    return value


def database_url_with_hosts(url: str) -> str:
    """A PostgreSQL URL naming several hosts the way libpq does, ``...://candor@db1:5432,
    db2:5432/candor?target_session_attrs=read-write``, rewritten into the form SQLAlchemy
    reads (``...://candor@/candor?host=db1:5432&host=db2:5432&...``); any other URL as it is.
    libpq tries the hosts in turn and, with ``target_session_attrs=read-write``, takes the
    one that accepts writes: after a failover, the promoted standby."""
    scheme, separator, rest = url.partition("://")
    authority, _slash, path = rest.partition("/")
    userinfo, at, hosts = authority.rpartition("@")
    if not separator or "," not in hosts:
        return url
    database, _mark, query = path.partition("?")
    listed = "&".join(f"host={host}" for host in hosts.split(","))
    return f"{scheme}://{userinfo}{at}/{database}?{listed}{'&' + query if query else ''}"


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in {"1", "true", "yes", "on"}:
        return True
    if raw.lower() in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name} must be true or false, not {raw!r}")


@dataclass(frozen=True)
class Config:
    """Everything Candor reads from its environment. See the README's configuration table."""

    environment: Environment
    secret_key: str = field(repr=False)
    database_url: str
    instance_path: Path
    # Pooled database connections older than this are closed and opened again, so that
    # none outlives a failover or a firewall's idle timeout; each is also checked before use.
    database_pool_recycle_seconds: int = 300
    https: bool = False
    org_key_file: Path | None = None
    staff_idle_minutes: int = 30
    reporter_idle_minutes: int = 15
    max_request_bytes: int = 16 * 1024 * 1024
    # Failed sign-ins with one name before each attempt needs a puzzle, and how long a count
    # lasts after its last failure (the names are older than the puzzles: nothing locks).
    login_attempts_before_lockout: int = 5
    login_lockout_minutes: int = 15
    login_puzzle_max_bits: int = 20
    # Global limits on anonymous traffic, counted with every node's (app/rate_limit.py).
    submissions_per_minute: int = 30
    codename_attempts_per_minute: int = 300
    # Passkey sign-in challenges handed to visitors not yet signed in (each is a row until used
    # or expired), counted with every node's.
    passkey_challenges_per_minute: int = 600
    # Leading zero bits a report's proof of work needs (app/services/proof_of_work.py); 0: none.
    proof_of_work_bits: int = 18
    # The organisation key every client checks the directory against. Kept outside the
    # database, so that whoever can write the database cannot swap the key (see README).
    org_fingerprint: str | None = None
    # Test suites replace the production key-derivation cost with the cheapest allowed one.
    fast_kdf_for_tests: bool = False
    # Deadline notifications (app/services/notifications.py); no host: the outbox only fills.
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_username: str | None = None
    smtp_password: str | None = field(default=None, repr=False)
    smtp_starttls: bool = False
    smtp_from: str = "candor@localhost"
    smtp_timeout_seconds: int = 20
    smtp_max_attempts: int = 12
    digest_hour: int = 7
    # The scheduler process (app/scheduling.py): how often it ticks, how long its lease lasts.
    scheduler_interval_seconds: int = 60
    scheduler_lease_seconds: int = 180
    # Where attachment ciphertext is kept (app/services/blobs.py): "filesystem" (files under
    # blob_dir; None: <instance>/blobs) or "database" (rows of the database, which every app
    # node and the standby share).
    blob_store: str = "filesystem"
    blob_dir: Path | None = None
    # Ciphertext bytes one attachment, and all the attachments of one case, may take.
    max_attachment_bytes: int = 2 * 1024**3
    max_case_attachment_bytes: int = 8 * 1024**3
    # The audit trail's checkpoint key (app/services/audit.py): the private half's file, the
    # pinned public half (hex; else <instance>/audit-checkpoint.pub), how often one is signed.
    audit_key_file: Path | None = None
    audit_verify_key: str | None = None
    audit_checkpoint_minutes: int = 60
    # Days a closed case's content is kept, per outcome (app/services/retention.py).
    retention_days: tuple[tuple[str, int], ...] = DEFAULT_RETENTION_DAYS
    # Days a ``candor backup`` archive is kept before the next backup deletes it (app/backup.py).
    backup_keep_days: int = 35
    # Smallest count printed in internal packs and in the public transparency report.
    statistics_min_cell: int = 5
    public_min_cell: int = 10
    # Where a reporter's "Leave now" goes: a page that says nothing about reporting.
    leave_url: str = DEFAULT_LEAVE_URL
    # Whether the secret key came from CANDOR_SECRET_KEY (else from the instance file): a
    # restore must say which one a server will use.
    secret_key_from_environment: bool = True
    # HSTS for every subdomain too (CANDOR_HSTS_INCLUDE_SUBDOMAINS), for operators who want it.
    hsts_include_subdomains: bool = False
    # Staff passkeys (app/services/passkeys.py): the WebAuthn relying party's id (the site's
    # host name, never an IP address) and the exact origin staff pages are served from. No RP
    # id: passkeys are off, and TOTP is the only second factor.
    webauthn_rp_id: str | None = None
    webauthn_origin: str | None = None
    webauthn_rp_name: str = "Candor"
    # How long a fresh user verification lets a session take step-up actions (reveal a
    # reporter's identity, share or revoke a case, disable staff).
    step_up_seconds: int = 300

    @property
    def blob_path(self) -> Path:
        return self.blob_dir or self.instance_path / "blobs"

    @property
    def org_signing_key_path(self) -> Path:
        return self.org_key_file or self.instance_path / "org-signing.key"

    @property
    def audit_key_path(self) -> Path:
        return self.audit_key_file or self.instance_path / "audit-checkpoint.key"

    @classmethod
    def from_env(cls, instance_path: Path, env: Mapping[str, str] | None = None,
                 default_environment: Environment = "development") -> Config:
        """Read the configuration; raise :class:`ConfigError` naming everything missing.

        ``default_environment`` applies when ``CANDOR_ENV`` is unset: the WSGI entry point
        passes "production", so a server started without it fails closed.
        """
        env = os.environ if env is None else env
        environment = env.get("CANDOR_ENV") or default_environment
        if environment not in ENVIRONMENTS:
            raise ConfigError(
                f"CANDOR_ENV must be one of {', '.join(ENVIRONMENTS)}, not {environment!r}"
            )
        production = environment == "production"
        problems: list[str] = []

        secret_key = env.get("CANDOR_SECRET_KEY", "")
        if not secret_key:
            secret_key = _read_secret_file(instance_path)
        if not secret_key and not production:
            secret_key = _create_secret_file(instance_path)
        if secret_key.lower() in _PLACEHOLDER_SECRETS or len(secret_key) < MIN_SECRET_LENGTH:
            problems.append(
                "CANDOR_SECRET_KEY is missing or too weak: set it to at least "
                f"{MIN_SECRET_LENGTH} random characters (for example the output of "
                "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`)"
            )

        database_url = env.get("CANDOR_DATABASE_URL", "")
        if not database_url:
            if production:
                problems.append(
                    "CANDOR_DATABASE_URL is missing: set it to the PostgreSQL URL, for example "
                    "postgresql+psycopg://candor@/candor"
                )
            else:
                database_url = f"sqlite:///{instance_path / 'candor.sqlite3'}"
        blob_store = env.get("CANDOR_BLOB_STORE", "filesystem")
        if blob_store not in BLOB_STORES:
            raise ConfigError(f"CANDOR_BLOB_STORE must be one of {', '.join(BLOB_STORES)}, "
                              f"not {blob_store!r}")
        if problems:
            raise ConfigError("Candor cannot start in production:\n- " + "\n- ".join(problems))

        org_key = env.get("CANDOR_ORG_KEY_FILE")
        blob_dir = env.get("CANDOR_BLOB_PATH")
        audit_key = env.get("CANDOR_AUDIT_KEY_FILE")
        return cls(
            environment=environment,
            secret_key=secret_key,
            database_url=database_url_with_hosts(database_url),
            instance_path=instance_path,
            database_pool_recycle_seconds=env_int(env, "CANDOR_DATABASE_POOL_RECYCLE_SECONDS",
                                                  300, minimum=1),
            https=_bool(env, "CANDOR_HTTPS", production),
            org_key_file=Path(org_key) if org_key else None,
            org_fingerprint=env.get("CANDOR_ORG_FINGERPRINT") or None,
            staff_idle_minutes=env_int(env, "CANDOR_STAFF_IDLE_MINUTES", 30, minimum=1),
            reporter_idle_minutes=env_int(env, "CANDOR_REPORTER_IDLE_MINUTES", 15, minimum=1),
            max_request_bytes=env_int(env, "CANDOR_MAX_REQUEST_BYTES", 16 * 1024 * 1024, 1024),
            login_attempts_before_lockout=env_int(env, "CANDOR_LOGIN_ATTEMPTS", 5, minimum=1),
            login_lockout_minutes=env_int(env, "CANDOR_LOGIN_LOCKOUT_MINUTES", 15, minimum=1),
            login_puzzle_max_bits=env_int(env, "CANDOR_LOGIN_PUZZLE_MAX_BITS", 20, minimum=8,
                                       maximum=28),
            submissions_per_minute=env_int(env, "CANDOR_SUBMISSIONS_PER_MINUTE", 30, minimum=1),
            codename_attempts_per_minute=env_int(env, "CANDOR_CODENAME_ATTEMPTS_PER_MINUTE", 300,
                                              minimum=1),
            passkey_challenges_per_minute=env_int(env, "CANDOR_PASSKEY_CHALLENGES_PER_MINUTE",
                                                  600, minimum=1),
            proof_of_work_bits=env_int(env, "CANDOR_PROOF_OF_WORK_BITS", 18,
                                    maximum=PROOF_OF_WORK_MAX_BITS),
            smtp_host=env.get("CANDOR_SMTP_HOST") or None,
            smtp_port=env_int(env, "CANDOR_SMTP_PORT", 25, minimum=1, maximum=65535),
            smtp_username=env.get("CANDOR_SMTP_USERNAME") or None,
            smtp_password=env.get("CANDOR_SMTP_PASSWORD") or None,
            smtp_starttls=_bool(env, "CANDOR_SMTP_STARTTLS", False),
            smtp_from=env.get("CANDOR_SMTP_FROM") or "candor@localhost",
            smtp_timeout_seconds=env_int(env, "CANDOR_SMTP_TIMEOUT_SECONDS", 20, minimum=1),
            smtp_max_attempts=env_int(env, "CANDOR_SMTP_MAX_ATTEMPTS", 12, minimum=1),
            digest_hour=env_int(env, "CANDOR_DIGEST_HOUR", 7, maximum=23),
            scheduler_interval_seconds=env_int(env, "CANDOR_SCHEDULER_INTERVAL_SECONDS", 60,
                                            minimum=1),
            scheduler_lease_seconds=env_int(env, "CANDOR_SCHEDULER_LEASE_SECONDS", 180, minimum=2),
            blob_store=blob_store,
            blob_dir=Path(blob_dir) if blob_dir else None,
            max_attachment_bytes=env_int(env, "CANDOR_MAX_ATTACHMENT_BYTES", 2 * 1024**3,
                                      minimum=1024 * 1024),
            max_case_attachment_bytes=env_int(env, "CANDOR_MAX_CASE_ATTACHMENT_BYTES",
                                           8 * 1024**3, minimum=1024 * 1024),
            audit_key_file=Path(audit_key) if audit_key else None,
            audit_verify_key=env.get("CANDOR_AUDIT_VERIFY_KEY") or None,
            audit_checkpoint_minutes=env_int(env, "CANDOR_AUDIT_CHECKPOINT_MINUTES", 60, minimum=1),
            retention_days=_retention(env),
            backup_keep_days=env_int(env, "CANDOR_BACKUP_KEEP_DAYS", 35, minimum=1),
            statistics_min_cell=env_int(env, "CANDOR_STATISTICS_MIN_CELL", 5, minimum=3),
            public_min_cell=env_int(env, "CANDOR_PUBLIC_MIN_CELL", 10, minimum=5),
            leave_url=_leave_url(env),
            secret_key_from_environment=bool(env.get("CANDOR_SECRET_KEY")),
            hsts_include_subdomains=_bool(env, "CANDOR_HSTS_INCLUDE_SUBDOMAINS", False),
            **_webauthn(env),
            step_up_seconds=env_int(env, "CANDOR_STEP_UP_SECONDS", 300, minimum=30,
                                    maximum=3600),
        )

    def derived_key(self, purpose: str) -> bytes:
        return derive_key(self.secret_key, purpose)

    def with_overrides(self, **changes: Any) -> Config:
        return replace(self, **changes)

    def flask_settings(self) -> dict[str, Any]:
        """The subset of settings Flask and its extensions read from ``app.config``."""
        return {
            "SECRET_KEY": self.secret_key,
            "SQLALCHEMY_DATABASE_URI": self.database_url,
            # A connection is checked before each use (a dead one, say to a primary that
            # failed, is replaced at once) and recycled after a while.
            "SQLALCHEMY_ENGINE_OPTIONS": {
                "pool_pre_ping": True, "pool_recycle": self.database_pool_recycle_seconds},
            "MAX_CONTENT_LENGTH": self.max_request_bytes,
            "SESSION_COOKIE_HTTPONLY": True,
            "SESSION_COOKIE_SAMESITE": "Strict",
            "SESSION_COOKIE_SECURE": self.https,
            "REMEMBER_COOKIE_HTTPONLY": True,
            "REMEMBER_COOKIE_SAMESITE": "Strict",
            "REMEMBER_COOKIE_SECURE": self.https,
            "PREFERRED_URL_SCHEME": "https" if self.https else "http",
            "WTF_CSRF_ENABLED": True,
            "WTF_CSRF_TIME_LIMIT": None,  # tokens live as long as the session that holds them
            "WTF_CSRF_SSL_STRICT": False,  # the Referer header is never sent (no-referrer)
            "TESTING": self.environment == "testing",
        }


def _webauthn(env: Mapping[str, str]) -> dict[str, Any]:
    """``CANDOR_WEBAUTHN_RP_ID`` and ``CANDOR_WEBAUTHN_ORIGIN``: both or neither. The origin
    must be on the RP id's host or a subdomain of it, as browsers require."""
    rp_id = env.get("CANDOR_WEBAUTHN_RP_ID", "").strip().lower()
    origin = env.get("CANDOR_WEBAUTHN_ORIGIN", "").strip().rstrip("/")
    if not rp_id and not origin:
        return {}
    if not rp_id or not origin:
        raise ConfigError("Set both CANDOR_WEBAUTHN_RP_ID and CANDOR_WEBAUTHN_ORIGIN, or "
                          "neither (no passkeys)")
    scheme, _sep, host_port = origin.partition("://")
    host = host_port.rsplit(":", 1)[0] if host_port.count(":") == 1 else host_port
    if scheme not in {"https", "http"} or not host or "/" in host_port:
        raise ConfigError(f"CANDOR_WEBAUTHN_ORIGIN must be like https://candor.example.org, "
                          f"not {origin!r}")
    if host != rp_id and not host.endswith("." + rp_id):
        raise ConfigError(f"CANDOR_WEBAUTHN_ORIGIN's host {host!r} is not {rp_id!r} or one of "
                          "its subdomains")
    if scheme == "http" and host != "localhost" and not host.endswith(".localhost"):
        raise ConfigError("CANDOR_WEBAUTHN_ORIGIN must be https (browsers allow http for "
                          "localhost only)")
    return {"webauthn_rp_id": rp_id, "webauthn_origin": origin,
            "webauthn_rp_name": env.get("CANDOR_WEBAUTHN_RP_NAME") or "Candor"}


def _leave_url(env: Mapping[str, str]) -> str:
    """``CANDOR_LEAVE_URL``: an http(s) address, a path on this site, or about:blank."""
    raw = env.get("CANDOR_LEAVE_URL", "").strip()
    if not raw:
        return DEFAULT_LEAVE_URL
    lowered = raw.lower()
    if lowered == "about:blank" or lowered.startswith(("https://", "http://")) or (
            raw.startswith("/") and not raw.startswith("//")):
        if any(c.isspace() or c in "\"<>" for c in raw):
            raise ConfigError("CANDOR_LEAVE_URL must not contain spaces, quotes or angle "
                              "brackets")
        return raw
    raise ConfigError("CANDOR_LEAVE_URL must be an http:// or https:// address, a path on "
                      f"this site starting with /, or about:blank; {raw!r} is none of these")


def _retention(env: Mapping[str, str]) -> tuple[tuple[str, int], ...]:
    """``CANDOR_RETENTION_DAYS="substantiated=2555,out_of_scope=365"``: the outcomes named
    replace their defaults; the others keep them."""
    raw = env.get("CANDOR_RETENTION_DAYS", "").strip()
    periods = dict(DEFAULT_RETENTION_DAYS)
    for item in filter(None, (part.strip() for part in raw.split(","))):
        outcome, _, days = item.partition("=")
        outcome = outcome.strip()
        if outcome not in periods or not days.strip().isdigit():
            raise ConfigError(
                "CANDOR_RETENTION_DAYS must look like substantiated=2555,out_of_scope=365 with "
                f"outcomes among {', '.join(periods)}; {item!r} is not understood")
        if int(days) < MIN_RETENTION_DAYS:
            raise ConfigError(f"CANDOR_RETENTION_DAYS: {outcome} must be kept at least "
                              f"{MIN_RETENTION_DAYS} days (the last retaliation check-in is "
                              "six months after closure)")
        periods[outcome] = int(days)
    return tuple(periods.items())


def _read_secret_file(instance_path: Path) -> str:
    path = instance_path / SECRET_KEY_FILE
    try:
        return path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        return ""


def _create_secret_file(instance_path: Path) -> str:
    """Development only: make a random secret once and keep it in the instance folder."""
    instance_path.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = instance_path / SECRET_KEY_FILE
    secret = secrets.token_urlsafe(48)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another worker created it first
        return _read_secret_file(instance_path)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(secret)
    return secret
