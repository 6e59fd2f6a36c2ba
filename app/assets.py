"""Subresource Integrity for every script and stylesheet the pages load, computed at start-up."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

from flask import Flask, url_for
from markupsafe import Markup

ASSET_FOLDERS = ("css", "js", "vendor")
# Markup.format escapes every argument; the templates themselves are constants.
_CLASSIC_SCRIPT = Markup('<script src="{}" integrity="{}" crossorigin="anonymous"></script>')
_MODULE_SCRIPT = Markup(
    '<script type="module" src="{}" integrity="{}" crossorigin="anonymous"></script>'
)
_STYLESHEET = Markup('<link rel="stylesheet" href="{}" integrity="{}" crossorigin="anonymous">')


def compute_integrity(static_folder: Path) -> dict[str, str]:
    """Map each servable asset (``vendor/libsodium-sumo.js``) to its ``sha384-...`` hash."""
    hashes: dict[str, str] = {}
    for folder in ASSET_FOLDERS:
        for path in sorted((static_folder / folder).glob("**/*")):
            if path.is_file() and path.suffix in {".js", ".css"}:
                digest = hashlib.sha384(path.read_bytes()).digest()
                name = path.relative_to(static_folder).as_posix()
                hashes[name] = "sha384-" + base64.b64encode(digest).decode("ascii")
    return hashes


def init_app(app: Flask) -> None:
    assert app.static_folder is not None
    integrity = compute_integrity(Path(app.static_folder))
    app.extensions["candor_asset_integrity"] = integrity

    def _integrity(filename: str) -> str:
        try:
            return integrity[filename]
        except KeyError:
            raise RuntimeError(
                f"static/{filename} is missing: run `make vendor` (or `make run`) first"
            ) from None

    def script_tag(filename: str, module: bool = False) -> Markup:
        template = _MODULE_SCRIPT if module else _CLASSIC_SCRIPT
        return template.format(url_for("static", filename=filename), _integrity(filename))

    def stylesheet_tag(filename: str) -> Markup:
        return _STYLESHEET.format(url_for("static", filename=filename), _integrity(filename))

    app.jinja_env.globals.update(script_tag=script_tag, stylesheet_tag=stylesheet_tag)
