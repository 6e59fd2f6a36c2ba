"""The JSON API's blueprint, apart from the package so that the modules that attach endpoints to
it and the package that imports them do not import each other."""

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")
