"""A posted form reports every error at once: type errors, schema errors and date rules together
(not in rounds), each field keeping its first error."""
from datetime import date

from werkzeug.datastructures import MultiDict

from webapp.taskforms.submission import read_submission

SCHEMA = {
    "type": "object", "required": ["name", "born", "count"],
    "properties": {
        "name": {"type": "string", "minLength": 2},
        "born": {"type": "string", "format": "date", "x-not-after": "today"},
        "count": {"type": "integer"},
        "met": {"type": "string", "format": "date", "x-not-before": "today"},
        "rows": {"type": "array", "x-rows": 2, "items": {"type": "object", "required": ["who"], "properties": {
            "who": {"type": "string"}, "email": {"type": "string", "format": "email"}}}},
    },
}


def test_all_errors_at_once(app):
    form = MultiDict([("name", ""), ("born", "2999-01-01"), ("count", "tre"), ("met", "2000-01-01"),
                      ("rows-0-who", "Anne"), ("rows-1-email", "feil")])
    with app.test_request_context(method="POST"):
        submission = read_submission(SCHEMA, form, today=date(2026, 6, 1))
    assert not submission.ok
    assert set(submission.errors) == {"name", "born", "count", "met", "rows.1.who", "rows.1.email"}
    assert submission.errors["count"] == "Skriv et helt tall."  # the type error, not "required"
    assert [row.get("who") for row in submission.values["rows"]] == ["Anne", None]


def test_a_valid_form_has_no_errors(app):
    form = MultiDict([("name", "Emma"), ("born", "2019-05-20"), ("count", "3")])
    with app.test_request_context(method="POST"):
        submission = read_submission(SCHEMA, form, today=date(2026, 6, 1))
    assert submission.ok and submission.data["count"] == 3
