"""Deviations of a case: record (any member), list."""
from flask import Blueprint

bp = Blueprint("deviations", __name__)
