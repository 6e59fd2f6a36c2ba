"""Fixtures in layers: database → app → client / runner → helpers; live server → browser → page.

``CANDOR_TEST_DATABASE=postgresql`` runs the whole suite on a throwaway PostgreSQL cluster
started in a temporary directory; the default is SQLite.
"""

from __future__ import annotations

import os
import re
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from werkzeug.serving import make_server

from app import create_app
from app.config import Config
from app.extensions import db
from app.state import state_of
from tests.support import databases
from tests.support.deadline_world import D0, Clock, World
from tests.support.smtp import Mailbox
from tests.support.staff import StaffLogin

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SECRET = "test-secret-key-that-is-long-enough-to-pass-checks"


def pytest_report_header() -> str:
    return f"candor database: {databases.backend()}"


@pytest.fixture(scope="session")
def database_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[databases.Server]:
    with databases.start(tmp_path_factory.mktemp("db")) as server:
        yield server


@pytest.fixture(scope="session")
def migrated_template(database_server: databases.Server, tmp_path_factory: pytest.TempPathFactory
                      ) -> str:
    """A database upgraded through every migration, copied for each test."""
    import flask_migrate

    url = database_server.create_database("candor_template")
    app = create_app(make_config(tmp_path_factory.mktemp("template"), url))
    with app.app_context():
        flask_migrate.upgrade()
        db.engine.dispose()
    return url


def make_config(tmp_path: Path, database_url: str, **overrides: Any) -> Config:
    settings: dict[str, Any] = {
        "environment": "testing",
        "secret_key": SECRET,
        "database_url": database_url,
        "instance_path": tmp_path / "instance",
        "fast_kdf_for_tests": True,
        "proof_of_work_bits": 6,  # a few dozen attempts; tests/test_proof_of_work.py goes higher
    }
    settings.update(overrides)
    return Config(**settings)


@pytest.fixture
def database_url(database_server: databases.Server, migrated_template: str,
                 request: pytest.FixtureRequest) -> str:
    name = "t_" + re.sub(r"\W", "_", request.node.name)[-40:].lower() + f"_{os.getpid()}"
    return database_server.create_database(name, template=migrated_template)


@contextmanager
def organisation_app(tmp_path: Path, database_url: str, **overrides: Any) -> Iterator[Flask]:
    """An app on the test database with its organisation key made, closed afterwards."""
    application = create_app(make_config(tmp_path, database_url, **overrides))
    with application.app_context():
        from app.services.directory import init_organisation_key

        config = state_of(application).config
        init_organisation_key(db.session, config.org_signing_key_path, config.instance_path)
        db.session.commit()
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def app(tmp_path: Path, database_url: str) -> Iterator[Flask]:
    with organisation_app(tmp_path, database_url) as application:
        yield application


@pytest.fixture
def make_app(tmp_path: Path, database_url: str) -> Iterator[Callable[..., Flask]]:
    """More apps on the test database with other settings; their connections are closed."""
    made: list[Flask] = []

    def factory(**overrides: Any) -> Flask:
        made.append(create_app(make_config(tmp_path / f"app{len(made)}", database_url,
                                           **overrides)))
        return made[-1]

    yield factory
    for other in made:
        with other.app_context():
            db.engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


@pytest.fixture
def staff(app: Flask) -> StaffLogin:
    """Create staff accounts and sign them in, speaking the same protocol as the browser."""
    return StaffLogin(app)


# --- deadline tests: a small organisation on dates the test chooses --------------------------
@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    return Clock(monkeypatch, D0)


@pytest.fixture
def world(app: Flask, staff: StaffLogin, clock: Clock) -> World:
    return World(app, staff, clock)


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    """A real SMTP server on loopback that keeps what it receives."""
    box = Mailbox()
    box.start()
    yield box
    box.stop()


# --- live server and browser ------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def live_server(app: Flask) -> Iterator[str]:
    server = make_server("127.0.0.1", free_port(), app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def playwright_instance() -> Iterator[Any]:
    """One Playwright for the session: its sync API cannot run twice in one process."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing; .ci/run installs Debian's chromium package")
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium); CI never skips this")
    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def browser(playwright_instance: Any) -> Iterator[Any]:
    chromium = playwright_instance.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield chromium
    chromium.close()


# V8 without its JIT compilers also has no WebAssembly: the JavaScript of Tor Browser's "Safer"
# security level, which the reporter pages serve with the pure-JavaScript backend.
JITLESS_ARGS = ["--js-flags=--jitless"]


@pytest.fixture(scope="session")
def jitless_browser(playwright_instance: Any) -> Iterator[Any]:
    chromium = playwright_instance.chromium.launch(executable_path=CHROMIUM,
                                                   args=CHROMIUM_ARGS + JITLESS_ARGS)
    yield chromium
    chromium.close()


class PageLog:
    """What a page did: console errors and every request it made."""

    def __init__(self) -> None:
        self.console_errors: list[str] = []
        self.requests: list[Any] = []


@pytest.fixture
def page_log() -> PageLog:
    return PageLog()


@pytest.fixture
def page(browser: Any, page_log: PageLog) -> Iterator[Any]:
    context = browser.new_context()
    new_page = context.new_page()
    new_page.on("console", lambda m: m.type == "error" and page_log.console_errors.append(m.text))
    new_page.on("pageerror", lambda e: page_log.console_errors.append(str(e)))
    new_page.on("request", lambda r: page_log.requests.append(r))
    yield new_page
    context.close()


@pytest.fixture
def make_page(browser: Any) -> Iterator[Callable[..., Any]]:
    """Pages in extra contexts, e.g. ``make_page(java_script_enabled=False)``."""
    contexts: list[Any] = []

    def factory(**options: Any) -> Any:
        context = browser.new_context(**options)
        contexts.append(context)
        return context.new_page()

    yield factory
    for context in contexts:
        context.close()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Keep the fast tests first, so a failure shows before the browser starts.
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)


