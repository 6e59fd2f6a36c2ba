"""Logging that never records who asked: no client address, no user agent, no request time,
and no line at all about a reporter's request.

Werkzeug's development server writes ``ADDRESS - - [TIME] "GET / HTTP/1.1" 200 -``; its filter
cuts the address and the time before any handler sees the line, and drops reporter requests.
Gunicorn's access-log format (``app/gunicorn_conf.py``) has neither and skips reporter requests;
its error log is scrubbed of addresses because a few of its warnings name the peer ("Invalid
request from ip=...").
"""

from __future__ import annotations

import logging
import re

from app.surfaces import is_staff_path

_WERKZEUG_PREFIX = re.compile(r"^.*? - - \[[^\]]*\] ", re.DOTALL)
_REQUEST_LINE = re.compile(r'"[A-Z]+ ([^ ?"]*)[^"]*" \d{3}')
# Werkzeug colours the request line of 4xx/5xx answers when it writes to a terminal.
_ANSI_STYLE = re.compile(r"\x1b\[[0-9;]*m")
_IPV4 = r"(?<![\w.])\d{1,3}(?:\.\d{1,3}){3}(?![\w.])"
# IPv6 needs "::" or at least five colons, so that clock times like 17:31:29 are left alone.
_IPV6 = (r"(?<![\w:])(?:(?=[0-9A-Fa-f:]*::)[0-9A-Fa-f:]{2,}"
         r"|[0-9A-Fa-f]{1,4}(?::[0-9A-Fa-f]{1,4}){5,7})(?![\w:])")
_IPV4_ADDRESS = re.compile(_IPV4)
_IPV6_ADDRESS = re.compile(_IPV6)


def scrub_addresses(text: str) -> str:
    # IPv4 first, so the IPv4 part of a mapped address (::ffff:10.0.0.1) goes too.
    return _IPV6_ADDRESS.sub("[address]", _IPV4_ADDRESS.sub("[address]", text))


class ScrubAddressesFilter(logging.Filter):
    """Replaces every IPv4 or IPv6 literal in a record's final message."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        scrubbed = scrub_addresses(message)
        if scrubbed != message:
            record.msg, record.args = scrubbed, None
        return True


class AnonymousRequestFilter(ScrubAddressesFilter):
    """For Werkzeug: drops the ``ADDRESS - - [TIME]`` prefix and every line about a reporter
    request, then scrubs what is left."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = _WERKZEUG_PREFIX.sub("", record.msg, count=1)
            request_line = _REQUEST_LINE.search(_ANSI_STYLE.sub("", record.getMessage()))
            if request_line and not is_staff_path(request_line.group(1)):
                return False
        return super().filter(record)


def init_logging() -> None:
    werkzeug_logger = logging.getLogger("werkzeug")
    if not any(isinstance(f, AnonymousRequestFilter) for f in werkzeug_logger.filters):
        werkzeug_logger.addFilter(AnonymousRequestFilter())
