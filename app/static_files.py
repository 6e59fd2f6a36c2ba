"""Static files for slow links: compressed ahead of time and cached for good under a versioned path.

WhiteNoise serves ``app/static`` in front of Flask from a built copy,
``app/static-build/<version>/``, where ``<version>`` is a digest of every static file's name and
content, and each text file has a gzip twin made ahead (WhiteNoise's own compressor), so nothing
is compressed per request.

- ``/static/<version>/<file>``: what pages link to (``static_url``). Any change to any file changes
  the version, so these URLs never change meaning and are cached for a year as ``immutable``; a
  return visit fetches none of them again. Relative module imports (``./candor-crypto.js``) stay
  within the same version.
- ``/static/<file>``: the same files under their plain names, for tools and older links; revalidated
  on every use (``max-age=0`` with an ETag), so they are never stale.

``make vendor`` builds the copy (``python -m app.static_files``); an app that finds none for the
current files (a file was edited since) builds it at start-up, once, atomically, or, where it
cannot write, serves ``app/static`` uncompressed and says so in its log.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Flask
from whitenoise import WhiteNoise
from whitenoise.compress import Compressor

from app.security_headers import BASELINE_HEADERS

STATIC = Path(__file__).resolve().parent / "static"
BUILD = Path(__file__).resolve().parent / "static-build"
VERSION_LENGTH = 16
COMPRESSED = (".js", ".css", ".txt", ".svg", ".json")
YEAR = 365 * 24 * 3600


def static_files(static_folder: Path) -> list[Path]:
    return sorted(p for p in static_folder.rglob("*") if p.is_file() and not p.name.startswith("."))


def version_of(static_folder: Path) -> str:
    """A digest of every static file's path and content: changes whenever any file does."""
    digest = hashlib.sha256()
    for path in static_files(static_folder):
        name = path.relative_to(static_folder).as_posix().encode()
        digest.update(len(name).to_bytes(4, "big") + name)
        data = path.read_bytes()
        digest.update(len(data).to_bytes(8, "big") + data)
    return digest.hexdigest()[:VERSION_LENGTH]


def build(static_folder: Path, build_root: Path | None = None) -> Path:
    """The built copy of ``static_folder`` for its current version (under ``build_root``,
    default ``BUILD``), made if missing."""
    build_root = BUILD if build_root is None else build_root
    version = version_of(static_folder)
    target = build_root / version
    if target.is_dir():
        return target
    build_root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".building-", dir=build_root))
    try:
        compressor = Compressor(extensions=None, use_gzip=True, use_brotli=False, quiet=True)
        for source in static_files(static_folder):
            copy = staging / source.relative_to(static_folder)
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, copy)
            if copy.suffix in COMPRESSED:
                for _ in compressor.compress(str(copy)):
                    pass
        try:
            os.rename(staging, target)
        except OSError:  # another process built the same version first: use theirs
            if not target.is_dir():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def _headers(https: bool) -> Callable[[Any, str, str], None]:
    def add_headers(headers: Any, path: str, url: str) -> None:
        for name, value in BASELINE_HEADERS.items():
            headers[name] = value
        if https:
            headers["Strict-Transport-Security"] = "max-age=63072000"

    return add_headers


def init_app(app: Flask, https: bool) -> str:
    """Serve the static files through WhiteNoise; returns the URL prefix pages should use."""
    assert app.static_folder is not None
    static_folder = Path(app.static_folder)
    try:
        built = build(static_folder)
    except OSError as error:  # a read-only install that was not built: serve uncompressed
        app.logger.warning("static files served uncompressed: %s cannot be built (%s); run "
                           "`python -m app.static_files` when installing", BUILD, error)
        built = static_folder
    prefix = f"static/{version_of(static_folder)}/"
    served = WhiteNoise(
        app.wsgi_app, max_age=0, allow_all_origins=False, add_headers_function=_headers(https),
        immutable_file_test=lambda path, url: url.startswith("/" + prefix),
    )
    served.add_files(str(built), prefix=prefix)
    served.add_files(str(built), prefix="static/")
    app.wsgi_app = served  # type: ignore[method-assign]
    return "/" + prefix


if __name__ == "__main__":  # `make vendor`: build the copy of app/static
    print(build(Path(sys.argv[1]) if len(sys.argv) > 1 else STATIC))
