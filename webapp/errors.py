"""Error pages: every failure a user can cause gets a clear Norwegian page, never a bare 500."""
from __future__ import annotations

import logging

from flask import render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import BadRequest, HTTPException

log = logging.getLogger(__name__)

NUL = "\x00"
#: Endpoints that read every posted field through ``read_submission``, which reports a NUL byte as
#: an error on its field and shows the rest of the input again (task forms). The guard below still
#: checks their path and query string.
FORM_FIELDS_CHECKED_BY_VIEW = frozenset({"tasks.task"})


class NulByte(BadRequest):
    """A NUL byte in the request: no database stores it (PostgreSQL refuses it in text)."""


def _has_nul(value) -> bool:
    if isinstance(value, str):
        return NUL in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return any(_has_nul(v) for v in value)
    return False


def refuse_nul_bytes() -> None:
    """``before_request``: a NUL byte in the path, the query string, a posted field (name, value or
    file name) or JSON is refused with a 400 page, before any view or database sees it."""
    if NUL in request.path or _has_nul(list(request.args.items(multi=True))):
        raise NulByte()
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    if request.endpoint not in FORM_FIELDS_CHECKED_BY_VIEW and _has_nul(list(request.form.items(multi=True))):
        raise NulByte()
    if any(_has_nul(name) or _has_nul(f.filename) for name, f in request.files.items(multi=True)):
        raise NulByte()
    if request.is_json and _has_nul(request.get_json(silent=True)):
        raise NulByte()


def register(app) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(exc):
        return render_template("error.html", code=400, title=_("Skjemaet er utløpt"),
                               message=_("Siden var for gammel eller kom ikke fra dette nettstedet. "
                                         "Gå tilbake, last siden på nytt og send inn igjen.")), 400

    @app.errorhandler(NulByte)
    def nul_byte(exc):
        return render_template("error.html", code=400, title=_("Ugyldig tegn"),
                               message=_("Teksten inneholder et tegn som ikke er tillatt (NUL).") + " "
                               + _("Gå tilbake, fjern tegnet og send inn igjen.")), 400

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        titles = {
            400: (_("Ugyldig forespørsel"), _("Forespørselen kunne ikke behandles.")),
            403: (_("Ingen tilgang"), _("Du har ikke tilgang til denne siden.")),
            404: (_("Fant ikke siden"), _("Siden finnes ikke, eller du har ikke tilgang til den.")),
            405: (_("Ikke tillatt"), _("Denne handlingen er ikke tillatt her.")),
            409: (_("Konflikt"), _("Noen andre har endret dette samtidig.")),
            413: (_("For stor fil"), _("Det du sendte inn er for stort.")),
            429: (_("For mange forsøk"), _("Vent litt og prøv igjen.")),
        }
        title, message = titles.get(exc.code, (_("Feil"), _("Noe gikk galt.")))
        return render_template("error.html", code=exc.code, title=title, message=message), exc.code

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        log.exception("unhandled error")
        return render_template("error.html", code=500, title=_("Noe gikk galt"),
                               message=_("En uventet feil oppstod. Ingenting ble lagret halvveis; "
                                         "prøv igjen, eller kontakt systemansvarlig.")), 500
