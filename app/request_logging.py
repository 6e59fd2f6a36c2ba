"""Logging that never records who asked: no client address, no user agent, no request time,
and no line at all about a reporter's request; and that a request cannot forge.

Werkzeug's development server writes ``ADDRESS - - [TIME] "GET / HTTP/1.1" 200 -``; its filter
cuts the address and the time before any handler sees the line, and drops reporter requests.
Candor's server (``app/server.py``) logs staff requests only, without either, and scrubs every
line of addresses in case a server warning names the peer.

Every line is one line: control characters (CR, LF, NUL, ESC, DEL, the C1 range, Unicode line
separators) in a message are written as ``\\xNN`` escapes, so a path such as
``/staff/x%0AINFO candor.scheduler: tick done`` (logged decoded) cannot start a line of its own.
Values taken from a request are escaped where they are logged (``escape_for_log``, which also
escapes backslashes, so an escape in the log is never the client's own text); the filter on
every handler escapes whatever else reaches a log.
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


_CONTROL = r"\x00-\x1f\x7f-\x9f\u2028\u2029"
_UNSAFE = re.compile(f"[{_CONTROL}\\\\]")
_CONTROL_ONLY = re.compile(f"[{_CONTROL}]")


def scrub_addresses(text: str) -> str:
    # IPv4 first, so the IPv4 part of a mapped address (::ffff:10.0.0.1) goes too.
    return _IPV6_ADDRESS.sub("[address]", _IPV4_ADDRESS.sub("[address]", text))


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def escape_for_log(text: str) -> str:
    """A request's value as it may be logged: every control character and backslash escaped."""
    return _UNSAFE.sub(_escape, text)


def escape_controls(text: str) -> str:
    return _CONTROL_ONLY.sub(_escape, text)


class SafeLineFilter(logging.Filter):
    """Escapes control characters in a record's final message and replaces every IPv4 or IPv6
    literal in it. (A traceback, formatted after the message, keeps its lines.)"""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        safe = scrub_addresses(escape_controls(message))
        if safe != message:
            record.msg, record.args = safe, None
        return True


class AnonymousRequestFilter(SafeLineFilter):
    """For Werkzeug: drops the ``ADDRESS - - [TIME]`` prefix and every line about a reporter
    request, then scrubs what is left."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = _ANSI_STYLE.sub("", _WERKZEUG_PREFIX.sub("", record.msg, count=1))
            request_line = _REQUEST_LINE.search(_ANSI_STYLE.sub("", record.getMessage()))
            if request_line and not is_staff_path(request_line.group(1)):
                return False
        return super().filter(record)


def init_logging(app_logger: logging.Logger | None = None) -> None:
    """The development server's request lines, and the app's own logger (Flask logs
    ``Exception on <path> [<method>]`` for an error)."""
    werkzeug_logger = logging.getLogger("werkzeug")
    if not any(isinstance(f, AnonymousRequestFilter) for f in werkzeug_logger.filters):
        werkzeug_logger.addFilter(AnonymousRequestFilter())
    if app_logger is not None and not any(isinstance(f, SafeLineFilter)
                                          for f in app_logger.filters):
        app_logger.addFilter(SafeLineFilter())
