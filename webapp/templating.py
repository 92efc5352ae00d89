"""Jinja filters and globals: Oslo time, Norwegian formats."""
from __future__ import annotations

from datetime import date, datetime

from webapp.clock import OSLO

from flask import g, has_request_context, request, url_for
from jinja2 import pass_context
from markupsafe import Markup
from flask_babel import get_locale, get_translations, gettext as _, lazy_gettext as _l


def local_datetime(value: datetime | None) -> str:
    if value is None:
        return ""
    local = value.astimezone(OSLO)
    return _("%(date)s kl. %(time)s", date=local.strftime("%d.%m.%Y"), time=local.strftime("%H:%M"))


def local_date(value) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, datetime):
        value = value.astimezone(OSLO).date()
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value)
        except ValueError:
            return value
    return value.strftime("%d.%m.%Y")


def status_label(status: str | None) -> str:
    labels = {
        "requested": _l("Ønske registrert"), "awaiting_consent": _l("Venter på samtykke"),
        "establishing": _l("Under etablering"), "active": _l("Aktiv"),
        "not_established": _l("Ikke opprettet"), "consent_withdrawn": _l("Samtykke trukket tilbake"),
        "closed": _l("Avsluttet"), "running": _l("Pågår"), "completed": _l("Fullført"),
        "cancelled": _l("Avbrutt"), "incident": _l("Feil – venter på ny kjøring"),
        "declined": _l("Ønsket er avslått"), "duplicate": _l("Duplikat"),
    }
    return str(labels.get(status or "", status or ""))


def role_label(role: str | None) -> str:
    labels = {
        "koordinator": _l("Koordinator"), "bruker": _l("Personen selv"), "foresatt": _l("Foresatt"),
        "parorende": _l("Pårørende"), "medlem": _l("Tjenesteyter"), "referent": _l("Referent"),
        "koordinerende_enhet": _l("Koordinerende enhet"), "systemansvarlig": _l("Systemansvarlig"),
        "linjeleder": _l("Linjeleder"),
    }
    return str(labels.get(role or "", role or ""))


def access_page_label(page: str | None) -> str:
    """The reader's-language name of a page in the access log (``AccessLog.record(page=...)``)."""
    labels = {
        "case": _l("Saken"), "case_register": _l("Registeropplysninger"), "task": _l("Oppgave"),
        "access_log": _l("Innsynslogg"), "register": _l("Registeret"), "supervision": _l("Tilsyn"),
        "supervision_action": _l("Tilsyn"), "supervision_csv": _l("Tilsyn"),
        "submit_matter": _l("Meld inn sak"), "outbox_attachment": _l("Vedlegg i utboksen"),
        "minutes": _l("Referat"), "letter": _l("Brev"), "closing_report": _l("Avslutningsrapport"),
        "deviations": _l("Avvik"), "transitions": _l("Overganger"), "plan": _l("Planen"),
        "plan_history": _l("Planens versjoner"), "plan_diff": _l("Endringer i planen"),
        "plan_pdf": _l("Planen som PDF"),
        "portal_case": _l("Min side: gruppen"), "portal_meeting": _l("Min side: møtet"),
        "portal_minutes": _l("Min side: referat"), "portal_plan": _l("Min side: planen"),
        "portal_consent": _l("Min side: samtykke"), "portal_log": _l("Min side: hvem har sett saken"),
        "portal_step": _l("Min side: ønsker før møtet"), "portal_form": _l("Min side: skjema"),
    }
    return str(labels.get(page or "", page or ""))


def transition_label(kind: str | None) -> str:
    """The reader's-language name of a transition kind (``TRANSITION_KINDS`` holds the Norwegian
    text that goes into stored data such as agenda matters)."""
    labels = {
        "school_start": _l("Skolestart"), "lower_secondary": _l("Overgang til ungdomsskolen"),
        "upper_secondary": _l("Overgang til videregående skole"), "adulthood": _l("Myndig (18 år)"),
        "own_home": _l("Flytting til egen bolig"), "work": _l("Overgang til arbeid"),
        "school_change": _l("Skolebytte"), "moving": _l("Flytting"),
        "composition_change": _l("Endret sammensetning etter evaluering"), "other": _l("Annen overgang"),
    }
    return str(labels.get(kind or "", kind or ""))


def event_title(event) -> str:
    """A timeline line for an audit event, built in the reader's language from the event's kind
    and details, or else from the catalogue entry the event was recorded with (``title_msgid`` and
    ``title_args``, see ``webapp.audit.operations.titled``); the stored bokmål ``title`` is only a
    fallback for events recorded before titles were translated."""
    d = event.detail or {}
    kind = event.kind
    if kind == "case_status_changed":
        return _("Status: %(status)s", status=status_label(d.get("to_status")))
    named = {
        "task_completed": _l("Utført: %(name)s"), "member_added": _l("Medlem lagt til: %(name)s"),
        "member_removed": _l("Medlem ute av gruppen: %(name)s"),
        "coordinator_appointed": _l("Koordinator oppnevnt: %(name)s"),
        "mandate_clarified": _l("Mandat avklart: %(name)s"), "instance_started": _l("Startet: %(name)s"),
        "instance_cancelled": _l("Prosess avbrutt: %(name)s"),
    }
    if kind in named:
        args = d.get("title_args") if isinstance(d.get("title_args"), dict) else {}
        name = (d.get("name") or args.get("name") or d.get("title", "").split(": ", 1)[-1]
                or d.get("reason", ""))
        if kind in ("task_completed", "instance_started"):  # a step's or a process's name in the library
            from webapp.library_texts import title as library_title
            name = library_title(name)
        return str(named[kind]) % {"name": name}
    plain = {
        "instance_completed": _l("Prosessen er fullført"), "case_opened": _l("Sak opprettet"),
        "wish_registered": _l("Ønske om ansvarsgruppe registrert"),
        "consent_given": _l("Skriftlig samtykke registrert"), "consent_refused": _l("Samtykke ikke gitt"),
        "consent_withdrawn": _l("Samtykke trukket tilbake"),
        "plan_need_assessed": _l("Behov for individuell plan vurdert"),
        "incident_opened": _l("Feil i prosessen registrert"), "incident_resolved": _l("Feil i prosessen løst"),
        "timers_checked": _l("Frist eller tidspunkt nådd"),
        "consent_renewed": _l("Samtykket er fornyet for den nye sammensetningen"),
        "transition_consent_not_renewed": _l("Samtykket ble ikke fornyet; sammensetningen er ikke endret"),
        "coordinator_overlap_ended": _l("Overlappen mellom forrige og ny koordinator er avsluttet"),
        "coordinator_tasks_reassigned": _l("Koordinators åpne oppgaver er overført til ny koordinator"),
        "instance_migrated": _l("Prosessen er flyttet til en ny versjon"),
        "supervision_retry": _l("Tilsynet prøvde et steg igjen"),
        "supervision_reassign": _l("Tilsynet ga et steg til en annen"),
        "supervision_handover": _l("Tilsynet overleverte steg fra en som slutter"),
        "supervision_cancel": _l("Tilsynet avbrøt en prosess"),
        "supervision_reminder": _l("Tilsynet minnet koordinatoren på saken"),
    }
    if kind in plain:
        return str(plain[kind])
    msgid, args = d.get("title_msgid"), d.get("title_args")
    if isinstance(msgid, str) and isinstance(args, dict):
        from webapp.library_texts import title as library_title
        from webapp.transitions.models import TRANSITION_KINDS
        # Title args that are a label from a closed set: the bokmål label as stored (lower case) ->
        # the reader's language. The labels are webapp.transitions.models.TRANSITION_KINDS,
        # webapp.plans.operations.KIND_LABELS and SOURCE_LABELS, webapp.closing.operations.
        # INITIATOR_LABELS and the decisions in webapp.evaluations.operations.record_evaluation.
        labels = {
            # TRANSLATORS: the kind of plan inside a sentence ("Samtykke til individuell plan gitt")
            "plan": {"individuell plan": _l("individuell plan"), "stafettlogg": _l("stafettlogg")},
            # TRANSLATORS: how a version of a plan came about ("Individuell plan: versjon 2 (vedtatt)")
            "source": {"utkast": _l("utkast"), "vedtatt": _l("vedtatt"), "oppdatert i møte": _l("oppdatert i møte"),
                       "revidert": _l("revidert"), "ny stafettholder": _l("ny stafettholder"),
                       "godkjent": _l("godkjent")},
            # TRANSLATORS: who started the closing of a group ("Avslutning startet (personen selv)")
            "initiator": {"personen selv": _l("personen selv"), "foresatte": _l("foresatte"),
                          "evaluering": _l("evaluering"), "tilbaketrukket samtykke": _l("tilbaketrukket samtykke")},
            # TRANSLATORS: an evaluation's decision ("Evaluering registrert: gruppen fortsetter")
            "decision": {"gruppen fortsetter": _l("gruppen fortsetter"),
                         "sammensetningen endres": _l("sammensetningen endres"),
                         "gruppen avsluttes": _l("gruppen avsluttes")},
        }

        def shown(key: str, value):
            if not isinstance(value, str):
                return value
            if key == "process":  # a process's name in the library: the diagrams' own catalogue
                return library_title(value)
            if key == "transition":  # translated only when found: an event names one kind
                code = next((c for c, label in TRANSITION_KINDS.items() if label.lower() == value.lower()), None)
                found = transition_label(code) if code else None
            else:
                found = labels.get(key, {}).get(value.lower())
            if found is None:  # a name, a reference, a date: kept as recorded
                return value
            text = str(found)
            return text[:1].upper() + text[1:] if value[:1].isupper() else text

        try:
            return _(msgid) % {key: shown(key, value) for key, value in args.items()}
        except (KeyError, TypeError, ValueError):
            pass
    return d.get("title") or kind


def _catalogue():
    """The reader's catalogue, kept on ``g`` for the locale it was found for (a forced locale, as
    for a recipient's mail, is another): Flask-Babel finds it anew for every string, and a page
    has dozens of them."""
    locale = get_locale()
    found = g.get("_catalogue")
    if found is None or found[0] is not locale:
        found = g._catalogue = (locale, get_translations())
    return found[1]


def _catalogue_gettext(string: str) -> str:
    return _catalogue().ugettext(string)


@pass_context
def _template_gettext(context, string: str, **variables):
    """``_()`` and ``gettext()`` in templates: what Jinja's new-style gettext does (the text marked
    safe where the template escapes, then ``%`` with the variables, escaped), in one call instead
    of three wrapped ones; a page calls it dozens of times. The catalogue comes with the render's
    context (found once per render, under any forced locale); a macro imported without context
    finds it itself."""
    catalogue = context.get("_catalogue_") or _catalogue()
    text = catalogue.ugettext(string)
    if context.eval_ctx.autoescape:
        text = Markup(text)
    return text % variables


#: most URLs a process keeps (``_plain_url_for``); the templates name a few dozen
MAX_KEPT_URLS = 1000


def _plain_url_for(app):
    """``url_for`` in templates: a URL that takes no values (a menu's link) or only a static file's
    name is built once per script root and kept; every page builds a dozen of them. Anything
    else, a relative endpoint (``.index``) and debug mode (static files edited while the server
    runs) go to Flask's ``url_for`` as before."""
    kept: dict[tuple, str] = {}

    def plain_url_for(endpoint: str, **values) -> str:
        if values.keys() - {"filename"} or endpoint.startswith(".") or app.debug or not has_request_context():
            return url_for(endpoint, **values)
        key = (request.script_root, endpoint, values.get("filename"))
        found = kept.get(key)
        if found is None:
            found = url_for(endpoint, **values)
            if len(kept) < MAX_KEPT_URLS:
                kept[key] = found
        return found

    return plain_url_for


def register(app) -> None:
    # Flask-Babel's callables with the catalogue found once; ``_`` and ``gettext``, the ones every
    # page calls, then replaced by the single-call version
    app.jinja_env.install_gettext_callables(
        gettext=_catalogue_gettext,
        ngettext=lambda s, p, n: _catalogue().ungettext(s, p, n),
        pgettext=lambda c, s: _catalogue().upgettext(c, s),
        npgettext=lambda c, s, p, n: _catalogue().unpgettext(c, s, p, n),
        newstyle=True)
    app.jinja_env.globals.update(_=_template_gettext, gettext=_template_gettext, url_for=_plain_url_for(app))
    app.jinja_env.filters["event_title"] = event_title
    app.jinja_env.filters["datetime"] = local_datetime
    app.jinja_env.filters["date"] = local_date
    app.jinja_env.filters["status_label"] = status_label
    app.jinja_env.filters["role_label"] = role_label
    app.jinja_env.filters["access_page"] = access_page_label
    app.jinja_env.filters["transition_label"] = transition_label
    from webapp import library_texts  # the process library's own texts in the reader's language
    # in the render's language (``lang`` of the context; a macro imported without context finds it)
    app.jinja_env.filters["library"] = pass_context(
        lambda context, text: library_texts.translate(text, context.get("lang")))
    app.jinja_env.filters["library_title"] = pass_context(
        lambda context, value: library_texts.title(value, context.get("lang")))
    from webapp.cases import register_data  # the privacy boundary's helpers (task_title, ...)
    register_data.register(app)

    @app.context_processor
    def globals_():
        return {"current_user": g.get("user"), "lang": str(get_locale() or "nb"), "_catalogue_": _catalogue(),
                "current_path": request.full_path.rstrip("?")}
