"""The forms on the person's and guardians' own pages (JSON Schema, read by ``taskforms`` like
every other form), in plain words."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from webapp.meetings.models import EXCLUDED_MATTERS

#: the four statements of guideline 002's written consent, as the person reads them
STATEMENTS = ("statement_composition", "statement_confidential", "statement_registration", "statement_voluntary")

CONSENT_FORM = {
    "type": "object", "required": list(STATEMENTS), "x-order": list(STATEMENTS),
    "properties": {
        "statement_composition": {"type": "boolean", "const": True, "title": _l(
            "Jeg vet hvem som er med i ansvarsgruppen og hvordan den arbeider, og jeg vil at den opprettes.")},
        "statement_confidential": {"type": "boolean", "const": True, "title": _l(
            "De som er med i gruppen kan dele opplysninger om meg (eller barnet mitt) med hverandre når det "
            "trengs for å hjelpe.")},
        "statement_registration": {"type": "boolean", "const": True, "title": _l(
            "Koordinerende enhet kan registrere at gruppen opprettes, endres og avsluttes, og få en årlig "
            "melding om den.")},
        "statement_voluntary": {"type": "boolean", "const": True, "title": _l(
            "Jeg vet at det er frivillig, og at jeg kan trekke samtykket tilbake når som helst. Det gjelder "
            "til jeg sier noe annet.")},
    },
}

WITHDRAW_FORM = {
    "type": "object", "required": ["reason"], "x-order": ["reason"],
    "properties": {
        "reason": {"type": "string", "title": _l("Hvorfor vil du trekke samtykket?"), "minLength": 1,
                   "maxLength": 2000, "x-widget": "textarea",
                   "x-help": _l("Koordinatoren og koordinerende enhet får vite at samtykket er trukket.")},
    },
}

MATTER_FORM = {
    "type": "object", "required": ["title", "screening"], "x-order": ["title", "description", "screening"],
    "properties": {
        "title": {"type": "string", "title": _l("Hva vil du ta opp?"), "minLength": 2, "maxLength": 300},
        "description": {"type": "string", "title": _l("Fortell mer (valgfritt)"), "maxLength": 4000,
                        "x-widget": "textarea"},
        "screening": {"type": "string", "title": _l("Gjelder det noe av dette?"), "x-widget": "radio",
                      "x-help": _l("Ansvarsgruppen kan ikke behandle disse sakene, men vi sier hvor du kan ta dem."),
                      "oneOf": [{"const": "none", "title": _l("Nei, ingen av disse")}]
                      + [{"const": k, "title": v[0]} for k, v in EXCLUDED_MATTERS.items()]},
    },
}

REPLY_FORM = {
    "type": "object", "required": ["attends"], "x-order": ["attends", "note"],
    "properties": {
        "attends": {"type": "string", "title": _l("Kommer du på møtet?"), "x-widget": "radio",
                    "oneOf": [{"const": "ja", "title": _l("Ja, jeg kommer")},
                              {"const": "nei", "title": _l("Nei, jeg kan ikke komme")}]},
        "note": {"type": "string", "title": _l("Vil du si noe til koordinatoren? (valgfritt)"), "maxLength": 1000,
                 "x-widget": "textarea"},
    },
}

REQUEST_FORM = {
    "type": "object", "required": ["reason"], "x-order": ["reason"],
    "properties": {
        "reason": {"type": "string", "title": _l("Hvorfor vil du ha et møte?"), "minLength": 1, "maxLength": 2000,
                   "x-widget": "textarea", "x-help": _l("Koordinatoren tar kontakt med deg.")},
    },
}

GUARDIANS_FORM = {
    "type": "object", "required": ["guardians_may_see"], "x-order": ["guardians_may_see"],
    "properties": {
        "guardians_may_see": {"type": "string", "title": _l("Skal foresatte kunne se saken din her?"),
                              "x-widget": "radio",
                              "oneOf": [{"const": "ja", "title": _l("Ja")}, {"const": "nei", "title": _l("Nei")}],
                              "x-help": _l("Du bestemmer selv. Du kan endre svaret når du vil.")},
    },
}
