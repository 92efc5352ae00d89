"""JSON Schema forms: turning a schema + submitted HTML form into fields, typed data and errors.

A form is JSON Schema 2020-12 (``type: object``) with UI hints as ``x-`` keywords that validators
ignore: ``x-order`` (field order) at the top; per property ``x-widget`` (text, textarea, date,
select, radio, checkbox, checkboxes, email, number) and ``x-help`` (help text).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

import jsonschema
from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict


@dataclass
class Field:
    name: str
    label: str
    widget: str
    required: bool
    help: str | None = None
    options: list[tuple[str, str]] = field(default_factory=list)
    schema: dict = field(default_factory=dict)


def fields_of(schema: Mapping) -> list[Field]:
    properties: Mapping = schema.get("properties", {})
    order = list(schema.get("x-order", [])) + [n for n in properties if n not in schema.get("x-order", [])]
    required = set(schema.get("required", []))
    result = []
    for name in order:
        prop = properties.get(name)
        if prop is None:
            continue
        result.append(Field(
            name=name, label=prop.get("title", name), widget=_widget(prop),
            required=name in required, help=prop.get("x-help") or prop.get("description"),
            options=_options(prop), schema=dict(prop),
        ))
    return result


def _widget(prop: Mapping) -> str:
    if "x-widget" in prop:
        return prop["x-widget"]
    kind = prop.get("type")
    if kind == "boolean":
        return "checkbox"
    if kind == "array":
        return "checkboxes"
    if "enum" in prop or "oneOf" in prop:
        return "radio" if len(_options(prop)) <= 4 else "select"
    if kind in ("integer", "number"):
        return "number"
    if prop.get("format") == "date":
        return "date"
    if prop.get("format") == "email":
        return "email"
    return "text"


def _options(prop: Mapping) -> list[tuple[str, str]]:
    source = prop.get("items", prop) if prop.get("type") == "array" else prop
    if "oneOf" in source:
        return [(str(o.get("const")), o.get("title", str(o.get("const")))) for o in source["oneOf"]]
    if "enum" in source:
        titles = source.get("x-enumTitles", [])
        return [(str(v), titles[i] if i < len(titles) else str(v)) for i, v in enumerate(source["enum"])]
    return []


def coerce(schema: Mapping, form: MultiDict) -> tuple[dict[str, Any], dict[str, str]]:
    """Typed data from posted strings; type errors are returned per field, never raised."""
    data: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for f in fields_of(schema):
        kind = f.schema.get("type")
        if kind == "array":
            values = [v for v in form.getlist(f.name) if v != ""]
            item_type = f.schema.get("items", {}).get("type")
            if item_type == "integer":
                try:
                    values = [int(v) for v in values]
                except ValueError:
                    errors[f.name] = _("Ugyldig valg.")
                    continue
            data[f.name] = values
            continue
        if kind == "boolean":
            data[f.name] = form.get(f.name) in ("on", "true", "1", "ja")
            continue
        raw = (form.get(f.name) or "").strip()
        if raw == "":
            continue  # missing: "required" reports it
        if kind == "integer":
            try:
                data[f.name] = int(raw)
            except ValueError:
                errors[f.name] = _("Skriv et helt tall.")
        elif kind == "number":
            try:
                data[f.name] = float(raw.replace(",", "."))
            except ValueError:
                errors[f.name] = _("Skriv et tall.")
        else:
            data[f.name] = raw
    return data, errors


_MESSAGES = {
    "required": lambda e: _("Dette feltet må fylles ut."),
    "maxLength": lambda e: _("Teksten er for lang (maks %(n)s tegn).", n=e.validator_value),
    "minLength": lambda e: (_("Dette feltet må fylles ut.") if e.validator_value == 1
                            else _("Teksten er for kort (minst %(n)s tegn).", n=e.validator_value)),
    "enum": lambda e: _("Velg et av alternativene."),
    "const": lambda e: _("Dette må bekreftes."),
    "minimum": lambda e: _("Verdien må være minst %(n)s.", n=e.validator_value),
    "maximum": lambda e: _("Verdien kan høyst være %(n)s.", n=e.validator_value),
    "format": lambda e: {"date": _("Skriv en gyldig dato (dd.mm.åååå)."),
                         "email": _("Skriv en gyldig e-postadresse.")}.get(e.validator_value,
                                                                            _("Ugyldig format.")),
    "minItems": lambda e: _("Velg minst %(n)s.", n=e.validator_value),
    "pattern": lambda e: _("Ugyldig format."),
    "type": lambda e: _("Ugyldig verdi."),
}

_FORMATS = jsonschema.Draft202012Validator.FORMAT_CHECKER


def validate(schema: Mapping, data: Mapping) -> dict[str, str]:
    """Field name -> Norwegian message for every schema violation (first per field)."""
    errors: dict[str, str] = {}
    validator = jsonschema.Draft202012Validator(schema, format_checker=_FORMATS)
    for error in sorted(validator.iter_errors(data), key=lambda e: list(e.path)):
        if error.validator == "required":
            missing = error.message.split("'")[1] if "'" in error.message else ""
            name = missing
        else:
            name = str(error.path[0]) if error.path else ""
        if name not in errors:
            message = _MESSAGES.get(error.validator)
            errors[name] = message(error) if message else _("Ugyldig verdi.")
    return errors
