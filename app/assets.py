"""Subresource Integrity for every script and stylesheet the pages load, computed at start-up."""

from __future__ import annotations

import base64
import hashlib
import json
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
_MODULE_PRELOAD = Markup(
    '<link rel="modulepreload" href="{}" integrity="{}" crossorigin="anonymous">'
)
_META = Markup('<meta name="{}" content="{}">')

# The two cryptography backends (app/static/js/crypto-loader.js loads the one a browser can run),
# each as its classic scripts in load order.
CRYPTO_BACKENDS = {
    "wasm": ("vendor/libsodium-sumo.js", "vendor/libsodium-wrappers.js"),
    "pure": ("vendor/noble-sodium.js",),
}


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


def init_app(app: Flask, static_prefix: str | None) -> None:
    """Give templates the tags that load assets, each with its hash, from ``static_prefix``: the
    versioned prefix of app/static_files.py, under which files are cached for good."""
    assert app.static_folder is not None
    integrity = compute_integrity(Path(app.static_folder))
    prefix = static_prefix

    def static_url(filename: str) -> str:
        return prefix + filename if prefix else url_for("static", filename=filename)

    def _integrity(filename: str) -> str:
        try:
            return integrity[filename]
        except KeyError:
            raise RuntimeError(
                f"static/{filename} is missing: run `make vendor` (or `make run`) first"
            ) from None

    def script_tag(filename: str, module: bool = False) -> Markup:
        template = _MODULE_SCRIPT if module else _CLASSIC_SCRIPT
        return template.format(static_url(filename), _integrity(filename))

    def stylesheet_tag(filename: str) -> Markup:
        return _STYLESHEET.format(static_url(filename), _integrity(filename))

    def modulepreload_tag(filename: str) -> Markup:
        """Fetch a module that another imports in parallel with it, checked against its hash."""
        return _MODULE_PRELOAD.format(static_url(filename), _integrity(filename))

    def crypto_scripts() -> Markup:
        """The backends' scripts and hashes, as data for crypto-loader.js."""
        backends = {
            name: [{"src": static_url(f), "integrity": _integrity(f)}
                   for f in files]
            for name, files in CRYPTO_BACKENDS.items()
        }
        # In an attribute (escaped by format), not an inline script: the CSP allows none.
        return _META.format("candor-crypto-scripts", json.dumps(backends))

    app.jinja_env.globals.update(script_tag=script_tag, stylesheet_tag=stylesheet_tag,
                                 modulepreload_tag=modulepreload_tag,
                                 crypto_scripts=crypto_scripts)
