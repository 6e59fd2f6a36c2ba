"""Configuration is read once, typed, and fails closed in production."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from app import create_app
from app.config import Config, ConfigError

STRONG = "k" * 48


def test_production_without_secret_or_database_names_both(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as error:
        Config.from_env(tmp_path, {"CANDOR_ENV": "production"})
    message = str(error.value)
    assert "CANDOR_SECRET_KEY" in message and "CANDOR_DATABASE_URL" in message


@pytest.mark.parametrize("weak", ["", "changeme", "short-secret"])
def test_production_refuses_a_weak_secret(tmp_path: Path, weak: str) -> None:
    env = {"CANDOR_ENV": "production", "CANDOR_SECRET_KEY": weak,
           "CANDOR_DATABASE_URL": "postgresql+psycopg://x@/y"}
    with pytest.raises(ConfigError, match="CANDOR_SECRET_KEY"):
        Config.from_env(tmp_path, env)


def test_production_does_not_fall_back_to_sqlite(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as error:
        Config.from_env(tmp_path, {"CANDOR_ENV": "production", "CANDOR_SECRET_KEY": STRONG})
    assert "CANDOR_DATABASE_URL" in str(error.value)
    assert "CANDOR_SECRET_KEY" not in str(error.value)


def test_production_with_both_starts_with_secure_cookies(tmp_path: Path) -> None:
    config = Config.from_env(tmp_path, {"CANDOR_ENV": "production", "CANDOR_SECRET_KEY": STRONG,
                                        "CANDOR_DATABASE_URL": "sqlite:///:memory:"})
    assert config.https and config.flask_settings()["SESSION_COOKIE_SECURE"] is True
    assert STRONG not in repr(config)


def test_create_app_refuses_production_without_secret(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CANDOR_ENV", "production")
    monkeypatch.setenv("CANDOR_INSTANCE_PATH", str(tmp_path))
    monkeypatch.delenv("CANDOR_SECRET_KEY", raising=False)
    monkeypatch.delenv("CANDOR_DATABASE_URL", raising=False)
    with pytest.raises(ConfigError, match="CANDOR_SECRET_KEY"):
        create_app()


def test_cli_says_what_is_missing_without_a_traceback(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CANDOR_")}
    env.update(CANDOR_ENV="production", CANDOR_INSTANCE_PATH=str(tmp_path))
    result = subprocess.run([sys.executable, "-m", "app.cli", "staff", "list"], env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "CANDOR_SECRET_KEY" in result.stderr and "CANDOR_DATABASE_URL" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_development_defaults_to_sqlite_in_instance_with_private_secret(tmp_path: Path) -> None:
    config = Config.from_env(tmp_path, {})
    assert config.environment == "development"
    assert config.database_url == f"sqlite:///{tmp_path / 'candor.sqlite3'}"
    secret_file = tmp_path / "secret_key"
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    assert Config.from_env(tmp_path, {}).secret_key == config.secret_key  # kept, not remade


@pytest.mark.parametrize(("name", "value"), [("CANDOR_STAFF_IDLE_MINUTES", "soon"),
                                             ("CANDOR_LOGIN_ATTEMPTS", "0"),
                                             ("CANDOR_HTTPS", "maybe"),
                                             ("CANDOR_ENV", "staging")])
def test_bad_values_are_named(tmp_path: Path, name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=name):
        Config.from_env(tmp_path, {name: value})


def test_config_is_frozen(tmp_path: Path) -> None:
    config = Config.from_env(tmp_path, {})
    with pytest.raises(AttributeError):
        config.database_url = "x"  # type: ignore[misc]


def test_the_wsgi_entry_point_defaults_to_production(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CANDOR_")}
    env["CANDOR_INSTANCE_PATH"] = str(tmp_path)
    result = subprocess.run([sys.executable, "-c", "import app.wsgi"], env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "Candor cannot start in production" in result.stderr
    assert not (tmp_path / "secret_key").exists()  # no development secret was made up
