"""The coordinating unit's register and yearly figures."""
from flask import Blueprint

bp = Blueprint("register", __name__)


@bp.get("/register")
def index():
    return "", 404
