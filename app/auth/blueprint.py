"""The staff sign-in blueprint, apart from the modules that attach routes to it."""

from flask import Blueprint

bp = Blueprint("auth", __name__, url_prefix="/auth")
