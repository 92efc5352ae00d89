"""The form macros (webapp/templates/macros/forms.html) rendered for real and read back with lxml."""
from __future__ import annotations

import lxml.html
from flask import render_template_string
from werkzeug.datastructures import MultiDict

from tests.webapp.taskforms.test_schema import MEMBERS, NUMBER, provider
from webapp.taskforms.schema import coerce, fields_of, posted_values, validate

PAGE = ('{% from "macros/forms.html" import field, error_summary %}'
        '<div>{{ error_summary(errors, fields) }}<form>{% for f in fields %}'
        '{{ field(f, values.get(f.name), errors) }}{% endfor %}</form></div>')


def render(app, schema, values, errors, options=provider, method="GET"):
    with app.test_request_context(method=method):
        fields = fields_of(schema, options=options)
        html = render_template_string(PAGE, fields=fields, values=values, errors=errors)
    return lxml.html.fromstring(html)


def controls(doc):
    return doc.xpath("//form//input | //form//select | //form//textarea")


def accessible_name(doc, control) -> str:
    """The text a label[for] or aria-labelledby gives the control ('' when it has none)."""
    cid = control.get("id")
    labels = doc.xpath("//label[@for=$id]", id=cid) if cid else []
    if labels:
        return " ".join(" ".join(label.text_content().split()) for label in labels)
    ids = (control.get("aria-labelledby") or "").split()
    return " ".join(" ".join(doc.get_element_by_id(i).text_content().split()) for i in ids)


def assert_wellformed(doc):
    ids = doc.xpath("//@id")
    assert len(ids) == len(set(ids)), "duplicate ids"
    for control in controls(doc):
        assert accessible_name(doc, control), f"unlabelled control {control.get('name')}"
    for ref in doc.xpath("//@aria-describedby | //@aria-labelledby"):
        for target in ref.split():
            assert doc.xpath("//*[@id=$id]", id=target), f"dangling reference {target}"
    for link in doc.xpath("//a[starts-with(@href, '#')]"):
        assert doc.xpath("//*[@id=$id]", id=link.get("href")[1:]), f"summary link to nowhere: {link.get('href')}"


def cell(doc, name):
    found = doc.xpath("//*[@name=$n]", n=name)
    assert len(found) == 1, name
    return found[0]


def test_rows_with_stored_values(app):
    stored = {"coordinator": "9", "members": [
        {"name": "Kari", "role": "foresatt", "unit": "hs", "count": 2, "attends": True},
        {"name": "Per", "role": "tjenesteyter", "email": "per@example.org", "attends": False},
    ]}
    doc = render(app, MEMBERS, stored, {})
    assert_wellformed(doc)
    fieldset = doc.get_element_by_id("f-members")
    assert fieldset.tag == "fieldset" and "ds-fieldset" in fieldset.get("class")
    legend = fieldset.xpath("./legend")[0].text_content()
    assert legend.startswith("Medlemmer") and "*" in legend and "må fylles ut" in legend  # minItems 1
    table = fieldset.xpath(".//table[contains(@class, 'ds-table')]")[0]
    headers = [" ".join(th.text_content().split()) for th in table.xpath("./thead//th[@scope='col']")]
    assert headers == ["Navn *(må fylles ut)", "Rolle *(må fylles ut)", "Enhet/tjeneste", "E-post", "Frist",
                       "Antall", "Til stede"]
    rows = table.xpath("./tbody/tr")
    assert len(rows) == 2 + 3  # stored rows plus x-rows blank ones
    assert [td.xpath(".//*[@name]")[0].get("name") for td in rows[4].xpath("./td")] == [
        f"members-4-{sub}" for sub in ("name", "role", "unit", "email", "deadline", "count", "attends")]

    name = cell(doc, "members-0-name")
    assert name.get("id") == "f-members-0-name" and name.get("value") == "Kari" and name.get("type") == "text"
    assert name.get("maxlength") == "200"
    assert accessible_name(doc, name) == "Navn, rad 1"
    assert cell(doc, "members-1-email").get("type") == "email"
    assert cell(doc, "members-1-email").get("value") == "per@example.org"
    assert cell(doc, "members-0-deadline").get("type") == "date"
    assert cell(doc, "members-0-count").get("value") == "2" and cell(doc, "members-0-count").get("inputmode")
    role = cell(doc, "members-0-role")
    assert role.tag == "select" and role.xpath("./option[@selected]/@value") == ["foresatt"]
    assert not doc.xpath("//input[@type='radio'][starts-with(@name, 'members-')]")  # selects in tables
    unit = cell(doc, "members-0-unit")
    assert unit.xpath("./option/text()") == ["Velg …", "Barnehage", "Helsestasjon", "PPT", "Skole", "Barnevern"]
    assert unit.xpath("./option[@selected]/@value") == ["hs"]
    attends = cell(doc, "members-0-attends")
    assert attends.get("type") == "checkbox" and attends.get("checked") is not None
    assert cell(doc, "members-1-attends").get("checked") is None
    label = attends.getnext()  # checkbox before its label
    assert label.tag == "label" and label.get("for") == "f-members-0-attends"
    assert label.get("data-weight") == "regular" and "ds-sr-only" in label.get("class")
    assert accessible_name(doc, cell(doc, "members-3-unit")) == "Enhet/tjeneste, rad 4"
    assert not doc.xpath("//*[@aria-invalid]") and not doc.xpath("//*[contains(@class, 'ds-error-summary')]")

    # The dynamic options of a top-level field: two staff users -> radios.
    radios = doc.xpath("//input[@type='radio'][@name='coordinator']")
    assert [r.get("value") for r in radios] == ["7", "9"]
    assert [accessible_name(doc, r) for r in radios] == ["Kari Nordmann", "Ola Nordmann"]
    assert doc.xpath("//input[@name='coordinator'][@checked]/@value") == ["9"]


def test_blank_rows_without_values_and_limits(app):
    doc = render(app, MEMBERS, {}, {})
    assert len(doc.get_element_by_id("f-members").xpath(".//tbody/tr")) == 3
    assert_wellformed(doc)
    capped = {"type": "object", "properties": {"members": {
        **MEMBERS["properties"]["members"], "x-rows": 5, "maxItems": 2}}}
    doc = render(app, capped, {"members": [{"name": "A", "role": "foresatt"}]}, {})
    assert len(doc.xpath("//tbody/tr")) == 2
    none_extra = {"type": "object", "properties": {"members": {**MEMBERS["properties"]["members"], "x-rows": 0}}}
    assert len(render(app, none_extra, {}, {}).xpath("//tbody/tr")) == 1
    assert len(render(app, none_extra, {"members": [{"name": "A"}]}, {}).xpath("//tbody/tr")) == 1


def test_rerender_after_failed_post(app):
    form = MultiDict([
        ("coordinator", "7"),
        ("members-0-name", "Kari"), ("members-0-count", "tre"), ("members-0-attends", "on"),
        ("members-1-name", ""), ("members-1-role", ""),                       # blank: not shown again
        ("members-6-name", "Per"), ("members-6-role", "foresatt"), ("members-6-email", "per-at-example"),
        ("members-7-unit", ""),
    ])
    with app.test_request_context(method="POST"):
        data, errors = coerce(MEMBERS, form, options=provider)
        assert errors == {"members.0.count": "Skriv et helt tall."}
        data["members"][0]["count"] = 3
        errors.update(validate(MEMBERS, data, options=provider))
    assert errors == {"members.0.count": "Skriv et helt tall.", "members.0.role": "Dette feltet må fylles ut.",
                      "members.1.email": "Skriv en gyldig e-postadresse."}
    doc = render(app, MEMBERS, posted_values(MEMBERS, form), errors, method="POST")
    assert_wellformed(doc)
    rows = doc.xpath("//table//tbody/tr")
    assert len(rows) == 2 + 1  # exactly the posted rows, renumbered, and one blank row
    assert cell(doc, "members-0-name").get("value") == "Kari"
    assert cell(doc, "members-0-count").get("value") == "tre"  # the raw text comes back
    assert cell(doc, "members-0-attends").get("checked") is not None
    assert cell(doc, "members-1-name").get("value") == "Per"
    assert cell(doc, "members-1-email").get("value") == "per-at-example"
    assert cell(doc, "members-1-role").xpath("./option[@selected]/@value") == ["foresatt"]
    assert cell(doc, "members-2-name").get("value") == ""
    assert not doc.xpath("//*[@name='members-6-name']")

    invalid = sorted(e.get("id") for e in doc.xpath("//*[@aria-invalid='true']"))
    assert invalid == ["f-members-0-count", "f-members-0-role", "f-members-1-email"]
    count = cell(doc, "members-0-count")
    assert count.get("aria-describedby") == "f-members-0-count-err"
    message = doc.get_element_by_id("f-members-0-count-err")
    assert message.text_content() == "Skriv et helt tall." and message.get("data-field") == "validation"
    assert "ds-validation-message" in message.get("class")
    assert message.xpath("ancestor::td")[0] is count.xpath("ancestor::td")[0]  # shown in the cell

    summary = doc.xpath("//*[@id='feiloppsummering']//a")
    assert [(a.get("href"), a.text_content()) for a in summary] == [
        ("#f-members-0-role", "Medlemmer, rad 1, Rolle: Dette feltet må fylles ut."),
        ("#f-members-0-count", "Medlemmer, rad 1, Antall: Skriv et helt tall."),
        ("#f-members-1-email", "Medlemmer, rad 2, E-post: Skriv en gyldig e-postadresse."),
    ]


def test_field_level_error_and_help(app):
    schema = {"type": "object", "properties": {"members": {
        **MEMBERS["properties"]["members"], "x-help": "Alle som deltar i gruppen.",
        "items": {**MEMBERS["properties"]["members"]["items"], "properties": {
            **MEMBERS["properties"]["members"]["items"]["properties"],
            "email": {"type": "string", "format": "email", "title": "E-post", "x-help": "Jobbadresse"}}}}}}
    with app.test_request_context():
        errors = validate(schema, {"members": []})
    assert errors == {"members": "Legg til minst 1 rad."}
    doc = render(app, schema, posted_values(schema, MultiDict()), errors, method="POST")
    assert_wellformed(doc)
    fieldset = doc.get_element_by_id("f-members")
    assert fieldset.get("aria-describedby") == "f-members-err f-members-help"  # error first, then help
    message = doc.get_element_by_id("f-members-err")
    assert message.text_content() == "Legg til minst 1 rad."
    assert message.getprevious().tag == "div" and message.getprevious().xpath(".//table")  # under the table
    assert len(doc.xpath("//tbody/tr")) == 3  # nothing posted: as many blank rows as the form first had
    assert cell(doc, "members-0-email").get("aria-describedby") == "f-members-col-email-help"
    assert doc.get_element_by_id("f-members-col-email-help").text_content() == "Jobbadresse"
    assert [(a.get("href"), a.text_content()) for a in doc.xpath("//*[@id='feiloppsummering']//a")] == [
        ("#f-members", "Medlemmer: Legg til minst 1 rad.")]


def test_row_level_error_points_to_first_cell(app):
    errors = {"members.1": "Ugyldig verdi."}
    doc = render(app, MEMBERS, {"members": [{"name": "A"}, {"name": "B"}]}, errors)
    assert_wellformed(doc)
    assert cell(doc, "members-1-name").get("aria-invalid") == "true"
    assert [(a.get("href"), a.text_content()) for a in doc.xpath("//*[@id='feiloppsummering']//a")] == [
        ("#f-members-1-name", "Medlemmer, rad 2: Ugyldig verdi.")]


def test_dynamic_options_widgets(app):
    schema = {"type": "object", "required": ["unit"], "properties": {
        "unit": {"type": "string", "title": "Enhet", "x-options": "units"},
        "units": {"type": "array", "title": "Enheter", "items": {"type": "string", "x-options": "units"}},
        "nobody": {"type": "string", "title": "Ingen", "x-options": "nobody"}}}
    doc = render(app, schema, {"unit": "ppt", "units": ["bhg", "skole"]}, {"unit": "Velg et av alternativene."})
    assert_wellformed(doc)
    select = cell(doc, "unit")
    assert select.tag == "select" and select.get("id") == "f-unit" and select.get("aria-invalid") == "true"
    assert select.xpath("./option[@selected]/@value") == ["ppt"]
    assert accessible_name(doc, select).startswith("Enhet")
    checked = doc.xpath("//input[@type='checkbox'][@name='units'][@checked]/@value")
    assert checked == ["bhg", "skole"]
    assert not doc.xpath("//input[@name='nobody']")
    assert "Ingen alternativer" in doc.get_element_by_id("f-nobody").text_content()


def test_plain_fields_unchanged_and_old_error_argument(app):
    with app.test_request_context():
        fields = fields_of(NUMBER)
        html = render_template_string(
            '{% from "macros/forms.html" import field %}<div>{{ field(f, "tolv", "Skriv et helt tall.") }}</div>',
            f=fields[0])
    doc = lxml.html.fromstring(html)
    x = doc.get_element_by_id("f-x")
    assert x.get("name") == "x" and x.get("value") == "tolv" and x.get("aria-invalid") == "true"
    assert x.get("aria-describedby") == "f-x-err f-x-help" and x.get("inputmode") == "numeric"
    assert doc.get_element_by_id("f-x-err").text_content() == "Skriv et helt tall."
    doc = render(app, NUMBER, {"x": "tolv"}, {"x": "Skriv et helt tall."})
    assert_wellformed(doc)
    assert doc.get_element_by_id("f-x").get("aria-invalid") == "true"
    assert doc.get_element_by_id("f-note").get("aria-invalid") is None
    assert [a.text_content() for a in doc.xpath("//a")] == ["Tall: Skriv et helt tall."]
