"""Candor: anonymous, end-to-end encrypted reporting of Responsible Scaling Policy concerns.

``create_app`` assembles the web application and does nothing else: no scheduler, no
migrations, no network, no prompts.
"""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask

from app.config import Config

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def create_app(config: Config | None = None) -> Flask:
    instance_path = config.instance_path if config else default_instance_path()
    app = Flask(
        __name__,
        instance_path=str(instance_path),
        template_folder=str(PROJECT_ROOT / "templates"),
    )
    if config is None:
        config = Config.from_env(Path(app.instance_path))
    app.config.from_mapping(config.flask_settings())
    from app import state

    state.install(app, config)  # checks the deadline policy file: a broken one stops the start
    from app import request_numbers

    request_numbers.init_app(app)  # before any route is added: every <int:...> is bounded
    from app import assets, errors, request_logging, security_headers, static_files
    from app.extensions import csrf, db, migrate, use_sqlite_settings
    from app.surfaces import SurfaceSessionInterface

    request_logging.init_logging(app.logger)
    app.session_interface = SurfaceSessionInterface(config)
    db.init_app(app)
    with app.app_context():
        use_sqlite_settings(db.engine)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"), render_as_batch=True,
                     compare_type=True)
    csrf.init_app(app)
    security_headers.init_app(app, https=config.https,
                              hsts_include_subdomains=config.hsts_include_subdomains)
    errors.init_app(app)
    assets.init_app(app, static_prefix=static_files.init_app(app, https=config.https))
    from app import languages
    from app.roles import Permission

    app.jinja_env.globals["Permission"] = Permission  # templates show what a role may do
    # Last, so that its prefix comes off before anything else (static files too) sees the path;
    # also gives templates page_words, the labels and messages the pages' scripts show.
    languages.init_app(app)

    from app import auth, cli
    from app.api import bp as api_bp
    from app.governance.routes import bp as governance_bp
    from app.reporter.plain import bp as reporter_plain_bp
    from app.reporter.routes import bp as reporter_bp
    from app.staff import bp as staff_bp

    auth.init_app(app)
    from app.staff.deadlines import bp as deadlines_bp

    for blueprint in (reporter_bp, reporter_plain_bp, staff_bp, deadlines_bp, governance_bp,
                      api_bp):
        app.register_blueprint(blueprint)
    cli.init_app(app)
    return app


def default_instance_path() -> Path:
    return Path(os.environ.get("CANDOR_INSTANCE_PATH") or PROJECT_ROOT / "instance").resolve()
