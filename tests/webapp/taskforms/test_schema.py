import json

from werkzeug.datastructures import MultiDict

from tests.conftest import DIAGRAMS
from webapp.taskforms.schema import PostedRows, coerce, fields_of, posted_values, validate

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


# --- rows of objects and dynamic options --------------------------------------------------------

MEMBERS = {
    "type": "object",
    "x-order": ["coordinator", "members"],
    "properties": {
        "coordinator": {"type": "string", "title": "Koordinator", "x-options": "staff_users"},
        "members": {
            "type": "array", "title": "Medlemmer", "x-rows": 3, "minItems": 1,
            "items": {
                "type": "object", "required": ["name", "role"], "x-order": ["name", "role", "unit", "email"],
                "properties": {
                    "name": {"type": "string", "title": "Navn", "maxLength": 200},
                    "role": {"type": "string", "title": "Rolle", "oneOf": [
                        {"const": "tjenesteyter", "title": "Tjenesteyter"},
                        {"const": "foresatt", "title": "Foresatt"}]},
                    "unit": {"type": "string", "title": "Enhet/tjeneste", "x-options": "units"},
                    "email": {"type": "string", "format": "email", "title": "E-post"},
                    "deadline": {"type": "string", "format": "date", "title": "Frist"},
                    "count": {"type": "integer", "title": "Antall"},
                    "attends": {"type": "boolean", "title": "Til stede"},
                },
            },
        },
    },
}

PROVIDED = {
    "staff_users": [("7", "Kari Nordmann"), ("9", "Ola Nordmann")],
    "units": [("bhg", "Barnehage"), ("hs", "Helsestasjon"), ("ppt", "PPT"), ("skole", "Skole"), ("bv", "Barnevern")],
    "nobody": [],
}


def provider(name):
    return PROVIDED[name]


def test_fields_of_rows_and_dynamic_options():
    coordinator, members = fields_of(MEMBERS, options=provider)
    assert coordinator.widget == "radio" and coordinator.options == PROVIDED["staff_users"]
    assert members.widget == "rows" and members.columns[0].name == "name"
    assert [(c.name, c.widget, c.required) for c in members.columns] == [
        ("name", "text", True), ("role", "select", True), ("unit", "select", False), ("email", "email", False),
        ("deadline", "date", False), ("count", "number", False), ("attends", "checkbox", False)]
    assert members.columns[1].options == [("tjenesteyter", "Tjenesteyter"), ("foresatt", "Foresatt")]
    assert members.columns[2].options == PROVIDED["units"]
    # Without a provider, x-options fields simply have no options; more than four means a select.
    assert fields_of(MEMBERS)[0].options == [] and fields_of(MEMBERS)[1].columns[2].options == []
    many = {"type": "object", "properties": {
        "unit": {"type": "string", "x-options": "units"},
        "units": {"type": "array", "items": {"type": "string", "x-options": "units"}}}}
    unit, units = fields_of(many, options=provider)
    assert unit.widget == "select" and units.widget == "checkboxes" and units.options == PROVIDED["units"]
    # The old single-argument call still works.
    assert [f.name for f in fields_of(NUMBER)] == ["x", "note"]


def test_coerce_rows_gaps_order_and_empty_rows(app):
    form = MultiDict([
        ("coordinator", "7"),
        ("members-10-name", "Per"), ("members-10-role", "foresatt"),
        ("members-2-name", " Kari "), ("members-2-role", "tjenesteyter"), ("members-2-unit", "hs"),
        ("members-2-count", "3"), ("members-2-attends", "on"), ("members-2-deadline", ""),
        ("members-5-name", "  "), ("members-5-role", ""), ("members-5-email", ""),   # empty row: dropped
        ("members-0-unit", ""),                                                      # empty row: dropped
        ("members-201-name", "For langt ned"), ("members-x-name", "Ugyldig"), ("members-01-name", "Null"),
        ("members-3-unknown", "ikke en kolonne"),
    ])
    with app.test_request_context():
        data, errors = coerce(MEMBERS, form, options=provider)
    assert errors == {}
    assert data == {"coordinator": "7", "members": [
        {"name": "Kari", "role": "tjenesteyter", "unit": "hs", "count": 3, "attends": True},
        {"name": "Per", "role": "foresatt", "attends": False},
    ]}


def test_coerce_rows_cell_errors_use_renumbered_index(app):
    schema = {"type": "object", "properties": {"members": {**MEMBERS["properties"]["members"], "items": {
        **MEMBERS["properties"]["members"]["items"],
        "properties": {**MEMBERS["properties"]["members"]["items"]["properties"],
                       "share": {"type": "number", "title": "Andel"}}}}}}
    form = MultiDict({
        "members-4-name": "Kari", "members-4-count": "tre",
        "members-9-name": "Per", "members-9-share": "1,5", "members-9-unit": "tannlege",
        "members-12-name": "Ola", "members-12-share": "halv", "members-12-count": "2.5",
    })
    with app.test_request_context():
        data, errors = coerce(schema, form, options=provider)
    assert errors == {
        "members.0.count": "Skriv et helt tall.",
        "members.1.unit": "Velg et av alternativene.",
        "members.2.share": "Skriv et tall.",
        "members.2.count": "Skriv et helt tall.",
    }
    assert data["members"][1] == {"name": "Per", "share": 1.5, "attends": False}


def test_coerce_rows_only_checkbox_keeps_row_and_empty_table(app):
    with app.test_request_context():
        data, errors = coerce(MEMBERS, MultiDict({"members-0-attends": "on"}), options=provider)
        assert errors == {} and data == {"members": [{"attends": True}]}
        data, errors = coerce(MEMBERS, MultiDict({"members-0-name": ""}), options=provider)
        assert errors == {} and data == {"members": []}
        # Required and minItems: "add at least one row"; only required: "must be filled in".
        required = {**MEMBERS, "required": ["members"]}
        data, errors = coerce(required, MultiDict({"members-0-name": ""}), options=provider)
        assert validate(required, data, options=provider) == {"members": "Legg til minst 1 rad."}
        members = {k: v for k, v in MEMBERS["properties"]["members"].items() if k != "minItems"}
        required = {"type": "object", "required": ["members"], "properties": {"members": members}}
        data, errors = coerce(required, MultiDict({"members-0-name": ""}), options=provider)
        assert "members" not in data
        assert validate(required, data, options=provider) == {"members": "Dette feltet må fylles ut."}


def test_validate_rows(app):
    with app.test_request_context():
        good = {"members": [{"name": "Kari", "role": "foresatt", "unit": "bhg", "email": "kari@example.org",
                             "deadline": "2026-11-20", "count": 1, "attends": True}]}
        assert validate(MEMBERS, good, options=provider) == {}
        errors = validate(MEMBERS, {"members": [
            {"name": "Kari", "role": "foresatt"},
            {"name": "Per", "email": "per-at-example.org"},
            {"role": "sjef", "unit": "tannlege", "deadline": "2026-02-30", "name": "x" * 201},
        ]}, options=provider)
        assert errors == {
            "members.1.role": "Dette feltet må fylles ut.",
            "members.1.email": "Skriv en gyldig e-postadresse.",
            "members.2.name": "Teksten er for lang (maks 200 tegn).",
            "members.2.role": "Velg et av alternativene.",
            "members.2.unit": "Velg et av alternativene.",
            "members.2.deadline": "Skriv en gyldig dato (dd.mm.åååå).",
        }
        assert validate(MEMBERS, {"members": []}, options=provider) == {"members": "Legg til minst 1 rad."}
        two = {"type": "object", "properties": {"members": {**MEMBERS["properties"]["members"], "minItems": 2}}}
        assert validate(two, {"members": [{"name": "A", "role": "foresatt"}]}) == {
            "members": "Legg til minst 2 rader."}
        assert validate(MEMBERS, {"members": [{"name": "A", "role": "foresatt", "count": "tre"}]}) == {
            "members.0.count": "Ugyldig verdi."}


def test_dynamic_options_refuse_unknown_values(app):
    schema = {"type": "object", "required": ["coordinator"], "properties": {
        "coordinator": {"type": "string", "title": "Koordinator", "x-options": "staff_users"},
        "helpers": {"type": "array", "title": "Hjelpere", "items": {"type": "string", "x-options": "staff_users"}},
        "empty": {"type": "string", "title": "Tom", "x-options": "nobody"}}}
    with app.test_request_context():
        data, errors = coerce(schema, MultiDict([("coordinator", "9"), ("helpers", "7"), ("helpers", "9")]),
                              options=provider)
        assert errors == {} and data == {"coordinator": "9", "helpers": ["7", "9"]}
        assert validate(schema, data, options=provider) == {}

        data, errors = coerce(schema, MultiDict([("coordinator", "8"), ("helpers", "7"), ("helpers", "1"),
                                                 ("empty", "noe")]), options=provider)
        assert errors == {"coordinator": "Velg et av alternativene.", "helpers": "Velg et av alternativene.",
                          "empty": "Velg et av alternativene."}
        assert validate(schema, {"coordinator": "8", "helpers": ["7", "1"], "empty": "noe"}, options=provider) == {
            "coordinator": "Velg et av alternativene.", "helpers": "Velg et av alternativene.",
            "empty": "Velg et av alternativene."}
        # No provider at all: every value is refused, a missing value is still just "required".
        data, errors = coerce(schema, MultiDict({"coordinator": "7"}))
        assert errors == {"coordinator": "Velg et av alternativene."}
        assert validate(schema, {"coordinator": "7"}) == {"coordinator": "Velg et av alternativene."}
        assert validate(schema, {}, options=provider) == {"coordinator": "Dette feltet må fylles ut."}


def test_provider_called_once_per_name(app):
    calls = []

    def counting(name):
        calls.append(name)
        return PROVIDED[name]

    with app.test_request_context():
        validate(MEMBERS, {"coordinator": "7", "members": [{"name": "A", "role": "foresatt", "unit": "bhg"}]},
                 options=counting)
    assert sorted(calls) == ["staff_users", "units"]


def test_posted_values(app):
    schema = {**MEMBERS, "properties": {**MEMBERS["properties"],
                                        "tags": {"type": "array", "items": {"enum": ["a", "b"]}},
                                        "ok": {"type": "boolean"}}}
    form = MultiDict([("coordinator", "7"), ("tags", "a"), ("tags", "b"),
                      ("members-3-name", "Kari "), ("members-3-count", "tre"),
                      ("members-1-name", ""), ("members-8-attends", "on")])
    values = posted_values(schema, form)
    assert values["coordinator"] == "7" and values["tags"] == ["a", "b"] and values["ok"] == ""
    assert isinstance(values["members"], PostedRows)
    assert values["members"] == [{"name": "Kari", "count": "tre"}, {"attends": "on"}]
    assert posted_values(schema, MultiDict())["members"] == []
