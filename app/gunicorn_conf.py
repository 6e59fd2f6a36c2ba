"""Gunicorn settings: ``gunicorn -c python:app.gunicorn_conf app.wsgi:app``.

The access log covers staff requests only, and records method, path (without query string),
status and size: never the client address (%(h)s), the user agent (%(a)s), the referrer
(%(f)s) or the time (%(t)s)."""

from __future__ import annotations

import os
from typing import Any

from gunicorn.glogging import Logger

from app.request_logging import ScrubAddressesFilter
from app.surfaces import is_staff_path

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '5000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
accesslog = "-"
access_log_format = '"%(m)s %(U)s" %(s)s %(B)s'
errorlog = "-"
# A no-JavaScript upload is one long request (the server encrypts it as it streams in); over
# Tor a large file takes minutes. Sync workers killed at the default 30 s would cut it off.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "900"))
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# No runtime control socket: two instances on one machine (tests, make run) must not collide.
control_socket_disable = True


class AnonymousLogger(Logger):  # type: ignore[misc]
    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            log.addFilter(ScrubAddressesFilter())

    def access(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> None:
        # Reporter requests are never access-logged: whatever stamps the log lines (journald,
        # a container runtime) would otherwise record when a reporter was active.
        if is_staff_path(environ.get("PATH_INFO", "")):
            super().access(resp, req, environ, request_time)


logger_class = AnonymousLogger
