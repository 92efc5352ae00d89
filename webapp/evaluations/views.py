"""Starting a closing on the person's wish, the closing report, and re-establishment."""
from flask import Blueprint

bp = Blueprint("closing", __name__)
