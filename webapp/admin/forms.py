"""JSON Schema forms of the administration pages (rendered with the same macros as task forms)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from webapp.auth.models import ROLES

UNIT_KINDS = [
    ("kindergarten", _l("Barnehage")), ("school", _l("Skole")), ("health", _l("Helsestasjon / helse")),
    ("nav", _l("NAV")), ("child_welfare", _l("Barnevern")), ("gp", _l("Fastlege")), ("specialist", _l("Spesialisthelsetjenesten")),
    ("other", _l("Annet")),
]

ROLE_TITLES = {
    "staff": _l("Ansatt (kan være med i ansvarsgrupper)"), "coordinating_unit": _l("Koordinerende enhet"),
    "system_owner": _l("Systemansvarlig (tilsyn)"), "process_owner": _l("Prosesseier"), "admin": _l("Administrator"),
}

UNIT_FORM = {
    "type": "object", "required": ["name", "kind"], "x-order": ["name", "kind"],
    "properties": {
        "name": {"type": "string", "title": _l("Navn"), "minLength": 2, "maxLength": 200},
        "kind": {"type": "string", "title": _l("Type"), "oneOf": [{"const": k, "title": t} for k, t in UNIT_KINDS]},
    },
}

USER_FORM = {
    "type": "object", "required": ["username", "full_name", "password", "roles"],
    "x-order": ["username", "full_name", "email", "roles", "password"],
    "properties": {
        "username": {"type": "string", "title": _l("Brukernavn"), "pattern": "^[a-z0-9._-]{2,80}$",
                     "x-help": _l("Små bokstaver, tall, punktum, bindestrek.")},
        "full_name": {"type": "string", "title": _l("Fullt navn"), "minLength": 2, "maxLength": 200},
        "email": {"type": "string", "title": _l("E-post"), "format": "email", "maxLength": 254},
        "roles": {"type": "array", "title": _l("Roller"), "minItems": 1, "uniqueItems": True,
                  "items": {"type": "string", "oneOf": [{"const": r, "title": ROLE_TITLES[r]} for r in ROLES]}},
        "password": {"type": "string", "title": _l("Førstegangspassord"), "minLength": 10, "maxLength": 200,
                     "x-widget": "password", "x-help": _l("Minst 10 tegn.")},
    },
}

#: Editing an existing account (the username stays; the password has its own form).
USER_EDIT_FORM = {
    "type": "object", "required": ["full_name", "roles"], "x-order": ["full_name", "email", "roles"],
    "properties": {k: USER_FORM["properties"][k] for k in ("full_name", "email", "roles")},
}

PASSWORD_MIN, PASSWORD_MAX = 10, 200
