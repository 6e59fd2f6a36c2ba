"""Whole numbers from a request's path and query, bounded before anything uses them.

Every integer column in Candor is a 32-bit signed integer on PostgreSQL, and SQLite refuses
Python integers beyond 64 bits with an OverflowError: an unbounded number from a URL was a
500. The ``int`` converter of every route is replaced by :class:`IntegerConverter` (a number
out of range matches no route: 404), and query parameters are read with :func:`query_int`
(out of range or not a number: 400).

The converter keeps Werkzeug's class name, ``IntegerConverter``: whatever names a converter by
its class (tools that walk the URL map) still sees the integer converter it is.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, abort, request
from werkzeug import routing
from werkzeug.routing import Map, ValidationError

# The largest value of a PostgreSQL INTEGER, the narrowest integer column Candor has.
DB_INT_MAX = 2**31 - 1


class IntegerConverter(routing.IntegerConverter):
    """Werkzeug's ``int`` converter with an upper bound unless the rule gives its own."""

    def __init__(self, map: Map, fixed_digits: int = 0, min: int | None = None,
                 max: int | None = DB_INT_MAX, signed: bool = False) -> None:
        bound = DB_INT_MAX if max is None or max > DB_INT_MAX else max
        super().__init__(map, fixed_digits, min, bound, signed)

    def to_python(self, value: str) -> Any:
        # Werkzeug's own check converts first; a 30-digit value is cheap to convert, but a
        # value longer than any bounded one is refused without converting it at all.
        if len(value.lstrip("-")) > len(str(DB_INT_MAX)):
            raise ValidationError()
        return super().to_python(value)


def init_app(app: Flask) -> None:
    """Must run before any blueprint is registered: a rule takes its converter when added."""
    app.url_map.converters["int"] = IntegerConverter


def query_int(name: str, default: int, minimum: int = 0, maximum: int = DB_INT_MAX) -> int:
    """The query parameter ``name`` as a whole number in ``[minimum, maximum]``, ``default``
    when absent or empty; anything else is a 400 that names the parameter."""
    text = request.args.get(name, "")
    if text == "":
        return default
    if not (text.isascii() and text.isdecimal()) or len(text) > len(str(maximum)) \
            or not minimum <= int(text) <= maximum:
        abort(400, description=f"The parameter {name!r} must be a whole number from {minimum} "
                               f"to {maximum}.")
    return int(text)
