import json

from werkzeug.datastructures import MultiDict

from tests.conftest import DIAGRAMS
from webapp.taskforms.schema import coerce, fields_of, validate

NUMBER = json.loads((DIAGRAMS / "forms" / "number.json").read_text())
CONSENT = json.loads((DIAGRAMS.parent.parent / "forms" / "consent.json").read_text())


def test_fields_follow_order_and_hints():
    fields = fields_of(NUMBER)
    assert [f.name for f in fields] == ["x", "note"]
    assert fields[0].required and fields[0].widget == "number" and fields[0].help.startswith("Et helt")
    assert fields[1].widget == "textarea"


def test_coerce_and_validate(app):
    with app.test_request_context():
        data, errors = coerce(NUMBER, MultiDict({"x": "tolv", "note": ""}))
        assert errors == {"x": "Skriv et helt tall."}
        data, errors = coerce(NUMBER, MultiDict({"x": "5000"}))
        assert data == {"x": 5000} and errors == {}
        assert validate(NUMBER, data) == {"x": "Verdien kan høyst være 1000."}
        assert validate(NUMBER, {}) == {"x": "Dette feltet må fylles ut."}
        assert validate(NUMBER, {"x": 3}) == {}


def test_conditional_requirements(app):
    with app.test_request_context():
        given = {"consent_decision": "gitt", "signed_by": "Mor", "signed_how": "paper",
                 "signed_on": "2026-11-20", "statement_composition": True, "statement_confidential": False,
                 "statement_registration": True, "statement_voluntary": True}
        assert set(validate(CONSENT, given)) == {"statement_confidential"}
        assert validate(CONSENT, {**given, "statement_confidential": True}) == {}
        assert validate(CONSENT, {**given, "signed_on": "2026-13-45", "statement_confidential": True}) == {
            "signed_on": "Skriv en gyldig dato (dd.mm.åååå)."}
