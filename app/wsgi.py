"""WSGI entry point (app/server.py serves it): production unless ``CANDOR_ENV`` says otherwise."""

from app import create_app, default_instance_path
from app.config import Config

app = create_app(Config.from_env(default_instance_path(), default_environment="production"))
