"""The staff pages' blueprint, apart from the modules that attach pages to it."""

from flask import Blueprint

bp = Blueprint("staff", __name__, url_prefix="/staff")
