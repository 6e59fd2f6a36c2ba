"""Reading JSON request bodies strictly: every field checked, every failure a clear 400."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from flask import abort, request

from app.request_numbers import DB_INT_MAX
from app.services.staff_accounts import PasswordMaterial


def json_body() -> dict[str, Any]:
    try:
        data = request.get_json(silent=True)
    except RecursionError:  # nesting deeper than the parser goes is not a request body
        data = None
    if not isinstance(data, dict):
        abort(400, description="The request body must be a JSON object.")
    return data


def text_field(data: dict[str, Any], name: str, max_length: int, allow_empty: bool = False) -> str:
    value = data.get(name)
    if not isinstance(value, str) or (not value and not allow_empty):
        abort(400, description=f"The field {name!r} is required and must be text.")
    if len(value) > max_length:
        abort(400, description=f"The field {name!r} is longer than {max_length} characters.")
    return value


def int_field(data: dict[str, Any], name: str) -> int:
    value = data.get(name)
    # Bounded like every number from a request (app/request_numbers.py): each is stored in,
    # or compared with, a 32-bit integer column.
    if not isinstance(value, int) or isinstance(value, bool) or abs(value) > DB_INT_MAX:
        abort(400, description=f"The field {name!r} must be a whole number between "
                               f"-{DB_INT_MAX} and {DB_INT_MAX}.")
    return value


def bool_field(data: dict[str, Any], name: str, default: bool = False) -> bool:
    value = data.get(name, default)
    if not isinstance(value, bool):
        abort(400, description=f"The field {name!r} must be true or false.")
    return value


def list_field(data: dict[str, Any], name: str, max_items: int) -> list[Any]:
    value = data.get(name, [])
    if not isinstance(value, list):
        abort(400, description=f"The field {name!r} must be a list.")
    if len(value) > max_items:
        abort(400, description=f"The field {name!r} has more than {max_items} items.")
    return value


def object_item(value: Any, name: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        abort(400, description=f"Each item of {name!r} must be an object.")
    return value


def bytes_field(data: dict[str, Any], name: str, size: int | None = None,
                max_size: int = 4096) -> bytes:
    """A base64 (standard alphabet, padded) field, optionally of an exact decoded size."""
    encoded = text_field(data, name, max_length=(max_size * 4) // 3 + 4)
    try:
        value = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        abort(400, description=f"The field {name!r} must be base64.")
    if base64.b64encode(value).decode("ascii") != encoded:
        abort(400, description=f"The field {name!r} is not canonical base64.")
    if size is not None and len(value) != size:
        abort(400, description=f"The field {name!r} must decode to {size} bytes.")
    return value


def password_material(data: dict[str, Any]) -> PasswordMaterial:
    """The fields every new-password request carries (activation, change, recovery)."""
    return PasswordMaterial(
        login_secret=bytes_field(data, "login_secret"),
        salt=bytes_field(data, "salt"),
        kdf_version=int_field(data, "kdf_version"),
        wrapped_private_key=bytes_field(data, "wrapped_private_key"),
    )


def b64(value: bytes) -> str:
    return base64.b64encode(value).decode("ascii")
