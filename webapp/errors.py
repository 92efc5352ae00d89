"""Error pages: every failure a user can cause gets a clear Norwegian page, never a bare 500."""
from __future__ import annotations

import logging

from flask import render_template
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)


def register(app) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(exc):
        return render_template("error.html", code=400, title=_("Skjemaet er utløpt"),
                               message=_("Siden var for gammel eller kom ikke fra dette nettstedet. "
                                         "Gå tilbake, last siden på nytt og send inn igjen.")), 400

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
