"""Reading a posted form: typed data, errors per field, and what to show again on failure."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, Callable, Mapping

from werkzeug.datastructures import MultiDict

from webapp.taskforms.dates import date_rule_errors
from webapp.taskforms.schema import coerce, posted_values, validate


@dataclass
class Submission:
    data: dict[str, Any]
    errors: dict[str, str] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors


def read_submission(schema: Mapping, form: MultiDict, *, today: date,
                    options: Callable[[str], list] | None = None) -> Submission:
    data, errors = coerce(schema, form, options=options)
    if not errors:
        errors = validate(schema, data, options=options)
    if not errors:
        errors = date_rule_errors(schema, data, today)
    values = posted_values(schema, form, options=options) if errors else {}
    return Submission(data=data, errors=errors, values=values)
