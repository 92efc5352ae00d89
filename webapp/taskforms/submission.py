"""Reading a posted form: typed data, errors per field, and what to show again on failure."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, Callable, Mapping

from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict

from webapp.taskforms.dates import date_rule_errors
from webapp.taskforms.schema import _posted_rows, coerce, fields_of, posted_values, validate


@dataclass
class Submission:
    data: dict[str, Any]
    errors: dict[str, str] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors


NUL = "\x00"


def _nul_errors(schema: Mapping, form: MultiDict, options) -> dict[str, str]:
    """An error on every field (rows: every cell) whose posted text holds a NUL byte, which no
    database stores; keyed like :func:`validate`'s errors."""
    errors: dict[str, str] = {}
    message = _("Teksten inneholder et tegn som ikke er tillatt (NUL).")
    for f in fields_of(schema, options):
        if f.widget == "rows":
            for i, row in enumerate(_posted_rows(f, form)):
                errors.update({f"{f.name}.{i}.{sub}": message for sub, raw in row.items() if NUL in raw})
        elif any(NUL in value for value in form.getlist(f.name)):
            errors[f.name] = message
    return errors


def read_submission(schema: Mapping, form: MultiDict, *, today: date,
                    options: Callable[[str], list] | None = None) -> Submission:
    nul_errors = _nul_errors(schema, form, options) if any(NUL in v for _k, v in form.items(multi=True)) else {}
    if nul_errors:  # read the rest without the NUL bytes: their errors too, and the input shown again
        form = MultiDict([(key, value.replace(NUL, "")) for key, value in form.items(multi=True)])
    # Every check runs on every submission, so that all errors are reported at once (not in
    # rounds); a field keeps its first error: type (coerce), then schema, then date rules.
    data, errors = coerce(schema, form, options=options)
    for found in (validate(schema, data, options=options), date_rule_errors(schema, data, today)):
        for key, message in found.items():
            errors.setdefault(key, message)
    errors.update(nul_errors)
    values = posted_values(schema, form, options=options) if errors else {}
    return Submission(data=data, errors=errors, values=values)
