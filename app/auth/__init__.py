"""Staff authentication: server-side sessions behind Flask-Login, and the route guard."""

from __future__ import annotations

from flask import Flask

from app.extensions import login_manager


def init_app(app: Flask) -> None:
    from datetime import timedelta

    from app.auth import routes  # noqa: F401  (attaches its routes, and app.auth.passkeys's)
    from app.auth.blueprint import bp
    from app.extensions import db
    from app.services import staff_sessions
    from app.state import state_of

    idle = timedelta(minutes=state_of(app).config.staff_idle_minutes)

    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please sign in to continue."
    # Our own server-side sessions already bind a login to one browser; Flask-Login's
    # "strong" protection would hash the client's address and user agent, which we never read.
    login_manager.session_protection = None
    # Flask-Login otherwise puts a hash of the client's address and user agent in the cookie
    # at every login, whatever session_protection says.
    login_manager._session_identifier_generator = lambda: ""
    login_manager.user_loader(lambda token: staff_sessions.load_principal(db.session, token, idle))
    app.register_blueprint(bp)
