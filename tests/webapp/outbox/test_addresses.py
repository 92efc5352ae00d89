"""Every place that accepts an e-mail address checks it with email-validator (no DNS): a line
break, a second address or a display name is refused beside the field with the input kept and
nothing saved; the outbox refuses what slips through anyway."""
import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.conftest import csrf_token, login_client
from tests.webapp.cases.helpers import establish, municipality, open_task
from webapp.auth.models import User
from webapp.auth.operations import create_user
from webapp.cases.models import Case, CaseMember
from webapp.outbox.addresses import is_address, normalised_domains
from webapp.outbox.models import OutboxMessage
from webapp.outbox.operations import INVALID_RECIPIENT, Outbox
from webapp.taskforms.schema import validate

FORMS = Path(__file__).resolve().parents[3] / "forms"
BAD = ["per@x.no\r\nBcc: alle@example.org", "per@x.no\nBcc: alle@example.org", "a@b.no, c@d.no",
       "Per <per@x.no>", "per@", "@x.no", "per x@x.no", "per@x..no", "ikke-epost"]
GOOD = ["per@x.no", "per.hansen+ag@legekontor.kommune.no", "ola@bø.kommune.no"]
MESSAGE = "Skriv en gyldig e-postadresse."


def test_the_rule():
    assert all(is_address(a) for a in GOOD)
    assert not any(is_address(a) for a in BAD)
    assert normalised_domains(" Kommune.no,skole.kommune.no ") == "kommune.no, skole.kommune.no"
    assert normalised_domains("") == "" and normalised_domains("kommune.no; x") is None


def _email_fields(schema):
    """(where to put a value, error key) for every e-mail field, also inside rows."""
    for name, prop in schema.get("properties", {}).items():
        if prop.get("type") == "array" and isinstance(prop.get("items"), dict):
            for sub, subprop in prop["items"].get("properties", {}).items():
                if subprop.get("format") == "email" or "email" in sub:
                    yield (lambda v, n=name, s=sub: {n: [{s: v}]}), f"{name}.0.{sub}"
        elif prop.get("format") == "email" or "email" in name:
            yield (lambda v, n=name: {n: v}), name


def _all_forms():
    from webapp.admin import forms as admin_forms
    forms = {path.name: json.loads(path.read_text()) for path in sorted(FORMS.glob("*.json"))}
    forms.update({f"admin {name}": value for name, value in vars(admin_forms).items()
                  if name.endswith("_FORM") and isinstance(value, dict)})
    return forms


def test_every_email_field_of_every_form_uses_the_rule(app):
    checked = 0
    with app.test_request_context():
        for form_name, schema in _all_forms().items():
            for place, key in _email_fields(schema):
                for bad in BAD:
                    assert validate(schema, place(bad)).get(key) == MESSAGE, (form_name, key, bad)
                for good in GOOD:
                    assert key not in validate(schema, place(good)), (form_name, key, good)
                checked += 1
        # a field named like an e-mail field is checked even without "format": "email"
        loose = {"type": "object", "properties": {"contact_email": {"type": "string"}}}
        assert validate(loose, {"contact_email": BAD[0]}) == {"contact_email": MESSAGE}
    assert checked >= 6  # register_wish (2), propose_members, transition_review, admin users (new, edit)


def test_admin_user_form_refuses_a_header_injection(app, services):
    with services.db.transaction() as s:
        create_user(s, "ada", "Ada Admin", "passord123", roles=("staff", "admin"), at=services.clock.now())
    admin = login_client(app, "ada")
    page = admin.get("/admin/brukere")
    response = admin.post("/admin/brukere", data={
        "username": "per", "full_name": "Per Hansen", "email": "per@x.no\r\nBcc: alle@example.org",
        "roles": "staff", "password": "passord123456", "csrf_token": csrf_token(page.text)})
    assert response.status_code == 400 and MESSAGE in response.text
    assert "Per Hansen" in response.text and "per@x.no" in response.text  # the input is kept
    with services.db.session() as s:
        assert s.scalar(select(User.id).where(User.username == "per")) is None


def test_wish_registration_refuses_bad_addresses(app, services):
    municipality(services)
    ola = login_client(app, "ola")
    page = ola.get("/saker/ny")
    form = {"full_name": "Emma Berg", "birth_date": "20.05.2019", "requested_by_kind": "guardian",
            "requested_by_name": "Anne Berg", "wish": "Bedre samarbeid", "email": "emma@x.no\r\nBcc: a@b.no",
            "guardians-0-name": "Anne Berg", "guardians-0-kind": "guardian",
            "guardians-0-email": "anne@example.org, per@example.org", "csrf_token": csrf_token(page.text)}
    response = ola.post("/saker/ny", data=form)
    assert response.status_code == 400 and response.text.count(MESSAGE) >= 2
    assert "Bedre samarbeid" in response.text and "anne@example.org, per@example.org" in response.text
    with services.db.session() as s:
        assert s.scalar(select(func.count(Case.id))) == 0


def test_proposed_member_with_a_bad_address_is_refused(app, services):
    users = municipality(services)
    case_id = establish(services, users, until="consented")
    task = open_task(services, case_id, "propose")
    kari = login_client(app, "kari")
    url = f"/oppgaver/{task.instance_id}/{task.task_id}"
    page = kari.get(url)
    with services.db.session() as s:
        before = s.scalar(select(func.count(CaseMember.id)))
    response = kari.post(url, data={"members-0-name": "Siri", "members-0-email": "siri@x.no\r\nBcc: a@b.no",
                                    "agreed_with_person": "on", "csrf_token": csrf_token(page.text)})
    assert response.status_code == 400 and MESSAGE in response.text and "siri@x.no" in response.text
    with services.db.session() as s:
        assert s.scalar(select(func.count(CaseMember.id))) == before


@pytest.mark.parametrize("recipient", BAD[:4])
def test_the_outbox_refuses_what_is_not_one_address(services, recipient):
    with services.db.transaction() as s:
        Outbox(s, services.clock, None).send(recipient, "Hei", "Tekst")
    with services.db.session() as s:
        message = s.scalar(select(OutboxMessage))
        assert (message.status, message.last_error, message.body) == ("failed", INVALID_RECIPIENT, "")


def test_the_own_domains_setting_is_checked_and_kept(app, services):
    from webapp.settings.operations import all_settings, get_setting
    with services.db.transaction() as s:
        create_user(s, "ada", "Ada Admin", "passord123", roles=("staff", "admin"), at=services.clock.now())
        form = {key: ("on" if value is True else value) for key, value in all_settings(s).items()
                if value is not False}
    admin = login_client(app, "ada")
    page = admin.get("/admin/innstillinger")
    assert page.status_code == 200 and 'name="mail_attachment_domains"' in page.text
    bad = admin.post("/admin/innstillinger", data={**form, "mail_attachment_domains": "kommune.no; x@y",
                                                   "csrf_token": csrf_token(page.text)})
    assert bad.status_code == 400 and "Skriv e-postdomener skilt med komma" in bad.text
    assert "kommune.no; x@y" in bad.text  # the input is kept
    good = admin.post("/admin/innstillinger", data={**form, "mail_attachment_domains": " Kommune.no,skole.kommune.no",
                                                    "csrf_token": csrf_token(page.text)})
    assert good.status_code == 302
    with services.db.session() as s:
        assert get_setting(s, "mail_attachment_domains") == "kommune.no, skole.kommune.no"
    # an own domain (and its subdomains) gets the content and attachments; others a notice only
    from webapp.outbox.operations import attachment
    with services.db.transaction() as s:
        outbox = Outbox(s, services.clock, None)
        for recipient in ("per@kommune.no", "per@barnehage.skole.kommune.no", "per@kommune.no.example.org"):
            outbox.send(recipient, "Referat", "Referatet: Emma trenger assistent",
                        [attachment("referat.pdf", "application/pdf", b"%PDF-1.4")])
    with services.db.session() as s:
        got = {m.recipient: (m.body, len(m.attachments)) for m in s.scalars(select(OutboxMessage))}
    assert got["per@kommune.no"] == ("Referatet: Emma trenger assistent", 1)
    assert got["per@barnehage.skole.kommune.no"][1] == 1
    body, attachments = got["per@kommune.no.example.org"]
    assert attachments == 0 and "Emma" not in body and "http://127.0.0.1:5000/" in body


def test_links_use_the_base_url_setting(make_app):
    app = make_app(BASE_URL="https://ag.kommune.no/")
    services = app.extensions["ansvarsgruppe"]
    with app.app_context(), services.db.transaction() as s:  # requests and the worker run in one
        Outbox(s, services.clock, None).send("per@example.org", "Hei", "Innhold", link="/oppgaver")
    with services.db.session() as s:
        body = s.scalar(select(OutboxMessage.body))
    assert "https://ag.kommune.no/oppgaver\n" in body and "Innhold" not in body
