"""Transitions of a case: list and add (coordinator)."""
from flask import Blueprint

bp = Blueprint("transitions", __name__)
