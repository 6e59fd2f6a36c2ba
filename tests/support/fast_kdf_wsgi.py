"""WSGI entry point for benchmarks and soak tests: ``app.wsgi`` (production, configuration from
``CANDOR_*``), except that the reporter key derivation uses the cheapest parameters, so load
clients can derive thousands of codename keys. Everything else is the production app."""

from app import create_app, default_instance_path
from app.config import Config

app = create_app(Config.from_env(default_instance_path(), default_environment="production")
                 .with_overrides(fast_kdf_for_tests=True))
