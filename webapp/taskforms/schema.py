"""JSON Schema forms: turning a schema + submitted HTML form into fields, typed data and errors.

A form is JSON Schema 2020-12 (``type: object``) with UI hints as ``x-`` keywords that validators
ignore: ``x-order`` (field order) at the top; per property ``x-widget`` (text, textarea, date,
select, radio, checkbox, checkboxes, email, number, rows), ``x-help`` (help text) and
``x-shown-with`` (an option provider's name: the field, or table column, is left out of the form
while that provider has no choices, e.g. plan fields for a group without a plan).

Dynamic options: a string property (or the ``items`` of an array property) may name an option
provider with ``"x-options": "<name>"``. The caller passes ``options``, a callable
``options(name) -> [(value, label), ...]``; without it such a field has no options. Since the
schema has no static ``enum``, :func:`coerce` and :func:`validate` refuse any value that is not
among the provided ones.

Rows of objects: an array whose ``items`` is an object with properties is rendered as a table
(widget ``rows``) with one column per item property (``Field.columns``), ``x-rows`` blank rows
(default 3) and inputs named ``{field}-{i}-{sub}``. Errors of a cell are keyed ``"field.i.sub"``,
errors of the whole array (e.g. ``minItems``) ``"field"``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

import jsonschema
from flask_babel import gettext as _
from flask_babel import ngettext
from werkzeug.datastructures import MultiDict

Options = Callable[[str], list[tuple[str, str]]]

DEFAULT_BLANK_ROWS = 3
MAX_ROW_INDEX = 200  # posted row indices above this are ignored
_ROW_INDEX = re.compile(r"0|[1-9][0-9]{0,2}")
_TRUE = ("on", "true", "1", "ja")
_CELL_WIDGETS = ("text", "textarea", "date", "email", "number", "select", "checkbox", "time")


@dataclass
class Field:
    name: str
    label: str
    widget: str
    required: bool
    help: str | None = None
    options: list[tuple[str, str]] = field(default_factory=list)
    schema: dict = field(default_factory=dict)
    columns: list[Field] = field(default_factory=list)  # sub-fields of a "rows" field

    @property
    def min_rows(self) -> int:
        return int(self.schema.get("minItems") or 0)

    def row_count(self, value: Any) -> int:
        """How many table rows to show for ``value`` (the current rows): the rows themselves plus
        ``x-rows`` blank ones, or, when ``value`` came back from a failed POST (:class:`PostedRows`),
        plus one blank row but never fewer rows than the form first had (no row disappears after an
        error). Capped by ``maxItems`` and by the highest accepted row index."""
        existing = len(value) if isinstance(value, list) else 0
        x_rows = int(self.schema.get("x-rows", DEFAULT_BLANK_ROWS))
        if getattr(value, "posted", False):
            blank = max(1, x_rows - existing)
        else:
            blank = max(x_rows, 0 if existing else 1)
        total = existing + blank
        if isinstance(self.schema.get("maxItems"), int):
            total = min(total, max(self.schema["maxItems"], existing))
        return max(min(total, MAX_ROW_INDEX + 1), existing)

    def row_errors(self, errors: Mapping[str, str]) -> list[tuple[str, int, Field | None, str]]:
        """Errors of this rows field's cells as ``(target id, row index, column or None, message)``,
        by row and then column order; a row-level error (key ``field.i``) targets the first cell."""
        by_name = {c.name: pos for pos, c in enumerate(self.columns)}
        found = []
        prefix = self.name + "."
        for key, message in errors.items():
            if not key.startswith(prefix):
                continue
            index, _sep, sub = key[len(prefix):].partition(".")
            if not _ROW_INDEX.fullmatch(index):
                continue
            column = next((c for c in self.columns if c.name == sub), None) if sub else None
            if sub and column is None:
                continue
            target = column or (self.columns[0] if self.columns else None)
            i = int(index)
            target_id = f"f-{self.name}-{i}-{target.name}" if target else f"f-{self.name}"
            found.append(((i, by_name.get(sub, -1)), (target_id, i, column, message)))
        return [item for _key, item in sorted(found, key=lambda pair: pair[0])]


class PostedRows(list):
    """Rows as posted (dicts of raw strings, empty rows dropped, renumbered 0..n-1). The marker tells
    the form to show them again followed by a single blank row instead of ``x-rows`` blank rows."""
    posted = True


def _memo(options: Options | None) -> Callable[[str], list[tuple[str, str]]]:
    cache: dict[str, list[tuple[str, str]]] = {}

    def lookup(name: str) -> list[tuple[str, str]]:
        if name not in cache:
            provided = options(name) if options is not None else []
            cache[name] = [(str(v), str(label)) for v, label in (provided or [])]
        return cache[name]
    return lookup


def fields_of(schema: Mapping, options: Options | None = None) -> list[Field]:
    return _fields(schema, _memo(options), in_table=False)


def _fields(schema: Mapping, lookup, in_table: bool) -> list[Field]:
    properties: Mapping = schema.get("properties", {})
    order = list(schema.get("x-order", [])) + [n for n in properties if n not in schema.get("x-order", [])]
    required = set(schema.get("required", []))
    result = []
    for name in order:
        prop = properties.get(name)
        if not isinstance(prop, Mapping):
            continue
        if isinstance(prop.get("x-shown-with"), str) and not lookup(prop["x-shown-with"]):
            continue  # shown only when that option provider has choices (e.g. the case has a plan)
        opts = _options(prop, lookup)
        widget = _cell_widget(prop, opts) if in_table else _widget(prop, opts)
        if widget is None:
            continue  # nested arrays/objects cannot be a table column
        columns = _fields(prop.get("items", {}), lookup, in_table=True) if widget == "rows" else []
        result.append(Field(
            name=name, label=prop.get("title", name), widget=widget,
            required=name in required, help=prop.get("x-help") or prop.get("description"),
            options=opts, schema=dict(prop), columns=columns,
        ))
    return result


def _is_rows(prop: Mapping) -> bool:
    items = prop.get("items")
    return (prop.get("type") == "array" and isinstance(items, Mapping)
            and items.get("type") == "object" and bool(items.get("properties")))


def _widget(prop: Mapping, opts: list[tuple[str, str]] | None = None) -> str:
    if "x-widget" in prop:
        return prop["x-widget"]
    opts = _options(prop, _memo(None)) if opts is None else opts
    kind = prop.get("type")
    if kind == "boolean":
        return "checkbox"
    if kind == "array":
        return "rows" if _is_rows(prop) else "checkboxes"
    if "enum" in prop or "oneOf" in prop or "x-options" in prop:
        return "radio" if len(opts) <= 4 else "select"
    if kind in ("integer", "number"):
        return "number"
    if prop.get("format") == "date":
        return "date"
    if prop.get("format") == "email":
        return "email"
    return "text"


def _cell_widget(prop: Mapping, opts: list[tuple[str, str]]) -> str | None:
    """Widget inside a table cell: like top-level, but selects instead of radios, no nesting."""
    if prop.get("type") in ("array", "object"):
        return None
    if "enum" in prop or "oneOf" in prop or "x-options" in prop:
        return "select"
    widget = _widget(prop, opts)
    return widget if widget in _CELL_WIDGETS else "text"


def _options(prop: Mapping, lookup=None) -> list[tuple[str, str]]:
    source = prop.get("items", prop) if prop.get("type") == "array" else prop
    if not isinstance(source, Mapping):
        return []
    if "oneOf" in source:
        return [(str(o.get("const")), o.get("title", str(o.get("const")))) for o in source["oneOf"]]
    if "enum" in source:
        titles = source.get("x-enumTitles", [])
        return [(str(v), titles[i] if i < len(titles) else str(v)) for i, v in enumerate(source["enum"])]
    if isinstance(source.get("x-options"), str):
        return list((lookup or _memo(None))(source["x-options"]))
    return []


def _dynamic(f: Field) -> bool:
    source = f.schema.get("items", {}) if f.schema.get("type") == "array" else f.schema
    return isinstance(source, Mapping) and isinstance(source.get("x-options"), str) \
        and "enum" not in source and "oneOf" not in source


def _posted_rows(f: Field, form: MultiDict) -> list[dict[str, str]]:
    """Posted rows of a rows field as stripped raw strings: indices read from the input names
    (gaps allowed, numeric order, > MAX_ROW_INDEX ignored), rows without any filled cell dropped."""
    prefix = f.name + "-"
    subs = {c.name for c in f.columns}
    rows: dict[int, dict[str, str]] = {}
    for key in form.keys():
        if not key.startswith(prefix):
            continue
        index, sep, sub = key[len(prefix):].partition("-")
        if not sep or sub not in subs or not _ROW_INDEX.fullmatch(index) or int(index) > MAX_ROW_INDEX:
            continue
        raw = (form.get(key) or "").strip()
        if raw != "":
            rows.setdefault(int(index), {})[sub] = raw
    return [rows[i] for i in sorted(rows)]


def _scalar(f: Field, raw: str, errors: dict[str, str], key: str) -> Any:
    """Typed value of one non-empty posted string; on failure records errors[key], returns None."""
    kind = f.schema.get("type")
    if kind == "integer":
        try:
            return int(raw)
        except ValueError:
            errors[key] = _("Skriv et helt tall.")
            return None
    if kind == "number":
        try:
            return float(raw.replace(",", "."))
        except ValueError:
            errors[key] = _("Skriv et tall.")
            return None
    if _dynamic(f) and raw not in {v for v, _label in f.options}:
        errors[key] = _("Velg et av alternativene.")
        return None
    return raw


def coerce(schema: Mapping, form: MultiDict, options: Options | None = None
           ) -> tuple[dict[str, Any], dict[str, str]]:
    """Typed data from posted strings; type errors are returned per field, never raised.

    Rows fields give a list of dicts holding the filled cells (booleans always, as True/False) of
    the non-empty posted rows, renumbered 0..n-1; their cell errors are keyed ``field.i.sub``."""
    data: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for f in fields_of(schema, options):
        kind = f.schema.get("type")
        if f.widget == "rows":
            rows = []
            for i, raw_row in enumerate(_posted_rows(f, form)):
                row: dict[str, Any] = {}
                for c in f.columns:
                    raw = raw_row.get(c.name, "")
                    if c.schema.get("type") == "boolean":
                        row[c.name] = raw in _TRUE
                    elif raw != "":
                        value = _scalar(c, raw, errors, f"{f.name}.{i}.{c.name}")
                        if value is not None:
                            row[c.name] = value
                rows.append(row)
            if rows or not f.required or f.min_rows:
                data[f.name] = rows  # minItems reports too few rows; else a required, empty table is left out
            continue
        if kind == "array":
            values = [v for v in form.getlist(f.name) if v != ""]
            item_type = f.schema.get("items", {}).get("type")
            if item_type == "integer":
                try:
                    values = [int(v) for v in values]
                except ValueError:
                    errors[f.name] = _("Ugyldig valg.")
                    continue
            if _dynamic(f) and not set(values) <= {v for v, _label in f.options}:
                errors[f.name] = _("Velg et av alternativene.")
                continue
            data[f.name] = values
            continue
        if kind == "boolean":
            data[f.name] = form.get(f.name) in _TRUE
            continue
        raw = (form.get(f.name) or "").strip()
        if raw == "":
            continue  # missing: "required" reports it
        value = _scalar(f, raw, errors, f.name)
        if value is not None:
            data[f.name] = value
    return data, errors


def posted_values(schema: Mapping, form: MultiDict, options: Options | None = None) -> dict[str, Any]:
    """What to show again after a failed POST, per field: the raw string for scalars, the list of
    posted values for checkboxes, and :class:`PostedRows` (dicts of raw strings) for rows."""
    values: dict[str, Any] = {}
    for f in fields_of(schema, options):
        if f.widget == "rows":
            values[f.name] = PostedRows(_posted_rows(f, form))
        elif f.widget == "checkboxes":
            values[f.name] = form.getlist(f.name)
        else:
            values[f.name] = form.get(f.name, "")
    return values


_MESSAGES = {
    "required": lambda e: _("Dette feltet må fylles ut."),
    "maxLength": lambda e: _("Teksten er for lang (maks %(n)s tegn).", n=e.validator_value),
    "minLength": lambda e: (_("Dette feltet må fylles ut.") if e.validator_value == 1
                            else _("Teksten er for kort (minst %(n)s tegn).", n=e.validator_value)),
    "enum": lambda e: _("Velg et av alternativene."),
    "oneOf": lambda e: (_("Velg et av alternativene.")
                        if all(isinstance(o, Mapping) and "const" in o for o in e.validator_value)
                        else _("Ugyldig verdi.")),
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

_ROWS_MESSAGES = {
    "minItems": lambda e: ngettext("Legg til minst %(num)s rad.", "Legg til minst %(num)s rader.",
                                   e.validator_value),
    "maxItems": lambda e: ngettext("Det kan være høyst %(num)s rad.", "Det kan være høyst %(num)s rader.",
                                   e.validator_value),
}

_FORMATS = jsonschema.FormatChecker()
for _name, _check in jsonschema.Draft202012Validator.FORMAT_CHECKER.checkers.items():
    _FORMATS.checkers[_name] = _check


@_FORMATS.checks("email")
def _is_email(value: object) -> bool:
    """One real address (email-validator, no DNS lookups), not jsonschema's "contains @": a line
    break or a second address in an e-mail field would reach the mail headers."""
    from webapp.outbox.addresses import is_address
    return not isinstance(value, str) or is_address(value)


def _email_named(properties: Mapping) -> dict:
    """Every string property named like an e-mail field is checked as one, with or without
    ``format: email`` in the form."""
    return {key: ({**sub, "format": "email"} if isinstance(sub, Mapping) and "email" in str(key).lower()
                  and sub.get("type") == "string" and "format" not in sub else sub)
            for key, sub in properties.items()}


def _with_enums(node: Any, lookup) -> Any:
    """Copy of a schema where every ``x-options`` (string) subschema also carries the provided
    values as ``enum``, so that jsonschema refuses anything else."""
    if isinstance(node, list):
        return [_with_enums(n, lookup) for n in node]
    if not isinstance(node, Mapping):
        return node
    copy = {k: _with_enums(v, lookup) for k, v in node.items()}
    if isinstance(copy.get("properties"), Mapping):
        copy["properties"] = _email_named(copy["properties"])
    name = node.get("x-options")
    if isinstance(name, str) and node.get("type") != "array" and "enum" not in node and "oneOf" not in node:
        copy["enum"] = [v for v, _label in lookup(name)]
    return copy


def _sort_key(error: jsonschema.ValidationError) -> tuple:
    return tuple((0, p, "") if isinstance(p, int) else (1, 0, str(p)) for p in error.path)


def _missing(error: jsonschema.ValidationError) -> str:
    return error.message.split("'")[1] if "'" in error.message else ""


def validate(schema: Mapping, data: Mapping, options: Options | None = None) -> dict[str, str]:
    """Field name -> Norwegian message for every schema violation (first per key).

    Keys: the top-level field name; for rows fields ``field.i.sub`` (a cell, including a missing
    required cell), ``field.i`` (a whole row) or ``field`` (the array, e.g. ``minItems``)."""
    lookup = _memo(options)
    rows = {f.name for f in _fields(schema, lookup, in_table=False) if f.widget == "rows"}
    errors: dict[str, str] = {}
    validator = jsonschema.Draft202012Validator(_with_enums(schema, lookup), format_checker=_FORMATS)
    for error in sorted(validator.iter_errors(data), key=_sort_key):
        path = list(error.path)
        if error.validator == "required":
            path.append(_missing(error))
        if not path:
            name = ""
        elif path[0] in rows:
            name = ".".join(str(p) for p in path[:3])
        else:
            name = str(path[0])
        if name not in errors:
            message = (_ROWS_MESSAGES.get(error.validator) if len(path) == 1 and path[0] in rows else None) \
                or _MESSAGES.get(error.validator)
            errors[name] = message(error) if message else _("Ugyldig verdi.")
    return errors
