"""A small, whitelisted interpreter for the expressions process owners write in BPMN diagrams.

Diagram authors are trusted to describe a process, not to run code on our servers, yet their
gateway conditions, timer expressions, task properties (``assignee``, ``titleDetail``,
``dueDate``), service-task parameters and loop cardinalities look like Python. The earlier
sandbox compiled them as Python under RestrictedPython and then patched the dangerous corners of
the Python object model one by one. This module takes the opposite approach: the text is parsed
with ``ast.parse(mode="eval")``, every node is checked against a short whitelist, and the tree is
interpreted here, node by node. Only plain data exists in this language (None, true/false,
numbers, text, lists, records with text keys, dates and datetimes); there are no attributes, no
methods, no names other than the task data, no loops, no user functions and no way to reach a
Python object, class, module or builtin. The only callables are the functions in ``_FUNCTIONS``.

Every resource is bounded (see ``Limits``). Values have a *size* (scalar 1, text 1 + length,
list 1 + items, record 1 + keys + values, shared sub-values counted every time, as serialization
would). Before an operation allocates, the size of its result is computed from the sizes of its
operands and refused when it would pass ``max_size``, or push the evaluation's running total
past ``max_total``. Ints are bounded in digits before they are combined; comparisons refuse
operands that are together larger than ``max_size``; data is walked with an explicit stack and
refused beyond ``MAX_NESTING`` levels; evaluated nodes are counted and the clock is read between
steps and while walking data. Anything else that goes wrong becomes an ``ExpressionError`` with
a short Norwegian (bokmål) message meant for a process owner. Values in messages are quoted with
ASCII single quotes: at run time ``scripting`` strips every '…' from a message before it becomes
an incident (incident messages never carry data), so message text itself has no apostrophes.
"""
from __future__ import annotations

import ast
import functools
import io
import json
import math
import operator
import re
import time
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Mapping

__all__ = ["ExpressionError", "Limits", "DEFAULT_LIMITS", "check", "evaluate"]

MAX_NESTING = 100        # deepest data (lists in records in lists ...) an operation walks
_CACHED_SOURCE = 500     # parsed trees of sources up to this length are cached
_TOO_LARGE = "verdien ville blitt for stor"
_TOO_LONG = "uttrykket tar for lang tid"
_NOT_PLAIN = "dataene har en verdi som ikke er vanlige data (tekst, tall, lister, poster eller datoer)"
_END = object()


class ExpressionError(Exception):
    """Refused or failed. ``.message``: plain Norwegian for a process owner, never a Python class
    name, memory address or internal exception text; ``.line``: int | None (1-based line)."""

    def __init__(self, message: str, line: int | None = None):
        super().__init__(message)
        self.message = message
        self.line = line


@dataclass(frozen=True)
class Limits:
    max_source: int = 10_000        # characters of source accepted
    max_depth: int = 40             # AST nesting depth accepted
    max_size: int = 200_000         # "size" of any single value produced
    max_total: int = 2_000_000      # sum of sizes of everything allocated during one evaluation
    max_steps: int = 100_000        # AST nodes evaluated
    max_seconds: float = 0.5        # wall time, checked between steps (time.perf_counter)
    max_int_digits: int = 100       # decimal digits of any int produced


DEFAULT_LIMITS = Limits()

_KINDS = {type(None): "ingenting (None)", bool: "sann/usann (True/False)", int: "et tall",
          float: "et tall", str: "tekst", list: "en liste", dict: "en post", date: "en dato",
          datetime: "et tidspunkt (dato og klokkeslett)"}
_SCALARS = frozenset({type(None), bool, int, float, date, datetime})


def _kind(value: Any) -> str:
    return _KINDS.get(type(value), "en verdi som ikke støttes")


def _quote(text: str) -> str:
    return f"'{text[:40]}...'" if len(text) > 40 else f"'{text}'"


def _is_number(value: Any) -> bool:
    return type(value) is int or type(value) is float


# --------------------------------------------------------------------------- parse and check

# name: (fewest, most) arguments; None = any number
_FUNCTIONS = {"len": (1, 1), "str": (1, 1), "int": (1, 1), "float": (1, 1), "bool": (1, 1),
              "abs": (1, 1), "min": (1, None), "max": (1, None), "round": (1, 2),
              "lower": (1, 1), "upper": (1, 1), "strip": (1, 1), "date": (1, 1),
              "datetime": (1, 1), "isoformat": (1, 1)}
_COMPREHENSION = "løkker i uttrykk (... for ... in ...) er ikke tillatt"
_REFUSED = {
    ast.Attribute: "punktum etter en verdi (x.y) er ikke tillatt; bruk x[\"y\"] for et felt i en post",
    ast.Lambda: "lambda er ikke tillatt",
    ast.ListComp: _COMPREHENSION, ast.SetComp: _COMPREHENSION, ast.DictComp: _COMPREHENSION,
    ast.GeneratorExp: _COMPREHENSION,
    ast.NamedExpr: "tilordning inne i uttrykk (:=) er ikke tillatt",
    ast.Starred: "utpakking med * er ikke tillatt",
    ast.Set: "mengder ({a, b}) er ikke tillatt; bruk en liste",
    ast.Await: "await er ikke tillatt",
    ast.Yield: "yield er ikke tillatt", ast.YieldFrom: "yield er ikke tillatt",
}
_REFUSED_OPERATORS = {
    ast.Pow: "potens (**) er ikke tillatt",
    ast.MatMult: "matrisemultiplikasjon (@) er ikke tillatt",
    ast.LShift: "bitforskyvning (<<, >>) er ikke tillatt",
    ast.RShift: "bitforskyvning (<<, >>) er ikke tillatt",
    ast.BitAnd: "bitoperatorer (&, |, ^) er ikke tillatt",
    ast.BitOr: "bitoperatorer (&, |, ^) er ikke tillatt",
    ast.BitXor: "bitoperatorer (&, |, ^) er ikke tillatt",
    ast.Invert: "bitvis ikke (~) er ikke tillatt",
}
_ALLOWED = frozenset({ast.Constant, ast.Name, ast.BinOp, ast.UnaryOp, ast.BoolOp, ast.Compare,
                      ast.IfExp, ast.List, ast.Tuple, ast.Dict, ast.Subscript, ast.Slice,
                      ast.Call, ast.JoinedStr, ast.FormattedValue})


def _is_none(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and node.value is None


def _problem(node: ast.AST, max_int_digits: int) -> str | None:
    """Why ``node`` (not its children) is refused, or None."""
    kind = type(node)
    if kind in _REFUSED:
        return _REFUSED[kind]
    if kind not in _ALLOWED:
        return "denne typen uttrykk er ikke tillatt"
    if kind is ast.Constant:
        value = node.value
        if type(value) is int and abs(value) >= 10 ** max_int_digits:
            return f"et tall har mer enn {max_int_digits} sifre"
        if type(value) is float and not math.isfinite(value):
            return "et tall er for stort"
        if type(value) is bytes:
            return "bytes-verdier (b'...') er ikke tillatt; skriv tekst i vanlige anførselstegn"
        if type(value) not in (str, int, float, bool, type(None)):
            return "denne typen verdi er ikke tillatt (bare tekst, tall, True, False og None)"
    elif kind is ast.Name and node.id.startswith("_"):
        return "navn som begynner med '_' er ikke tillatt"
    elif kind in (ast.BinOp, ast.UnaryOp) and type(node.op) in _REFUSED_OPERATORS:
        return _REFUSED_OPERATORS[type(node.op)]
    elif kind is ast.Dict and None in node.keys:
        return "utpakking av poster (**) er ikke tillatt"
    elif kind is ast.Tuple and any(isinstance(e, ast.Slice) for e in node.elts):
        return "bare enkle utsnitt som x[1:3] er tillatt"
    elif kind is ast.Compare:
        operands = [node.left, *node.comparators]
        for i, op in enumerate(node.ops):
            if isinstance(op, (ast.Is, ast.IsNot)) and not (
                    _is_none(operands[i]) or _is_none(operands[i + 1])):
                return "'is' og 'is not' kan bare brukes med None, som i x is None"
    elif kind is ast.FormattedValue:
        if node.conversion != -1:
            return "konverteringer som !r er ikke tillatt i f-strenger"
        if node.format_spec is not None:
            return "formatangivelser som {x:>10} er ikke tillatt i f-strenger"
    elif kind is ast.Call:
        if not isinstance(node.func, ast.Name):
            return _REFUSED.get(type(node.func),
                                "bare funksjonene i listen kan kalles, som i len(x)")
        name = node.func.id
        if name not in _FUNCTIONS:
            return f"ukjent funksjon {_quote(name)}"
        if node.keywords:
            return "navngitte argumenter (navn=verdi) er ikke tillatt"
        fewest, most = _FUNCTIONS[name]
        if len(node.args) < fewest or (most is not None and len(node.args) > most):
            wanted = {(1, 1): "nøyaktig 1 verdi", (1, 2): "1 eller 2 verdier"}.get(
                (fewest, most), "minst 1 verdi")
            return f"{name}() tar {wanted}"
    return None


def _syntax_problem(text: str, exc: SyntaxError) -> ExpressionError:
    """A plain message for a SyntaxError; recognizes statements written instead of an expression."""
    try:
        statements = ast.parse(text, mode="exec").body
    except Exception:  # noqa: BLE001 - the eval-mode error below is reported instead
        statements = []
    for stmt in statements:
        if isinstance(stmt, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
            return ExpressionError("tilordning (x = ...) er ikke tillatt; skriv ett uttrykk "
                                   "(== sammenligner)", stmt.lineno)
        if isinstance(stmt, (ast.Import, ast.ImportFrom)):
            return ExpressionError("import er ikke tillatt", stmt.lineno)
        if not isinstance(stmt, ast.Expr):
            return ExpressionError("setninger (som if, for eller del) er ikke tillatt; skriv ett uttrykk",
                                   stmt.lineno)
    if len(statements) > 1:
        return ExpressionError("skriv ett uttrykk, ikke flere", statements[1].lineno)
    message = _syntax_words(str(exc.msg or "invalid syntax"))
    message = message if len(message) <= 100 else message[:100] + "..."
    where = f" på linje {exc.lineno}" if exc.lineno else ""
    return ExpressionError(f"syntaksfeil{where}: {message}", exc.lineno)


#: Python's own words for the common syntax errors, in Norwegian (anything else is shown as is)
_SYNTAX_WORDS = (
    (re.compile(r"invalid syntax\. Perhaps you forgot a comma\?"), "ugyldig syntaks; mangler det et komma?"),
    (re.compile(r"invalid syntax\. Maybe you meant '==' .*"), "ugyldig syntaks; mente du == (sammenligning)?"),
    (re.compile(r"invalid syntax"), "ugyldig syntaks"),
    (re.compile(r"'(.)' was never closed"), r"'\1' lukkes aldri"),
    (re.compile(r"unmatched '(.)'"), r"'\1' lukker noe som aldri ble åpnet"),
    (re.compile(r"closing parenthesis '(.)' does not match opening parenthesis '(.)'.*"),
     r"sluttparentesen '\1' passer ikke til startparentesen '\2'"),
    (re.compile(r"unterminated (triple-quoted )?string literal.*"), "en tekst mangler anførselstegn på slutten"),
    (re.compile(r"unexpected EOF.*|unexpected end of.*"), "uttrykket slutter for tidlig"),
    (re.compile(r"invalid decimal literal|invalid digit .*|leading zeros .*"), "ugyldig tall"),
    (re.compile(r"invalid character .*|invalid non-printable character .*"), "ugyldig tegn"),
    (re.compile(r"expression expected after dictionary key and ':'"), "en verdi mangler etter : i en post"),
    (re.compile(r"f-string: .*"), "feil i f-strengen"),
    (re.compile(r".*digits.*"), "et tall har for mange sifre"),
)


def _syntax_words(message: str) -> str:
    for pattern, words in _SYNTAX_WORDS:
        if pattern.fullmatch(message):
            return pattern.sub(words, message)
    return message


def _parse(source: str, max_depth: int, max_int_digits: int) -> ast.Expression:
    """Parse and check against the whitelist (iteratively); raises ExpressionError."""
    text = source.strip()
    if not text:
        raise ExpressionError("uttrykket er tomt")
    if "\x00" in text:
        raise ExpressionError("uttrykket inneholder et NUL-tegn, som ikke er tillatt")
    # Leading indentation is harmless in an expression; keep line numbers intact.
    text = "\n" * source[: len(source) - len(source.lstrip())].count("\n") + text
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as exc:
        raise _syntax_problem(text, exc) from None
    except RecursionError:
        raise ExpressionError("uttrykket er nestet for dypt") from None
    except MemoryError:
        raise ExpressionError("uttrykket er for sammensatt") from None
    except (ValueError, OverflowError):      # e.g. lone surrogates
        raise ExpressionError("uttrykket inneholder tegn som ikke er tillatt") from None
    stack = [(tree.body, 1)]
    while stack:
        node, depth = stack.pop()
        line = getattr(node, "lineno", None)
        if depth > max_depth:
            raise ExpressionError("uttrykket er nestet for dypt", line)
        problem = _problem(node, max_int_digits)
        if problem:
            raise ExpressionError(problem, line)
        children = node.args if isinstance(node, ast.Call) else ast.iter_child_nodes(node)
        stack.extend((child, depth + 1) for child in children if isinstance(child, ast.expr))
    return tree


# Only successful parses are cached (exceptions never are), keyed on everything they depend on.
_parse_cached = functools.lru_cache(maxsize=256)(_parse)


def _compile(source: str, limits: Limits) -> ast.Expression:
    if not isinstance(source, str):
        raise ExpressionError("uttrykket må være tekst")
    if len(source) > limits.max_source:
        raise ExpressionError(f"uttrykket er lengre enn {limits.max_source} tegn")
    parse = _parse_cached if len(source) <= _CACHED_SOURCE else _parse
    return parse(source, limits.max_depth, limits.max_int_digits)


def check(source: str, limits: Limits = DEFAULT_LIMITS) -> None:
    """Parse and check against the whitelist without evaluating. Raises ExpressionError."""
    _compile(source, limits)


def evaluate(source: str, data: Mapping[str, Any], limits: Limits = DEFAULT_LIMITS) -> Any:
    """Evaluate with names from `data` (task data: plain JSON values, plus datetime.date/datetime).
    Returns plain data only (None, bool, int, float, str, list, dict with str keys, date, datetime).
    Raises ExpressionError for anything refused or failing (unknown name, bad index, type mismatch,
    division by zero, a limit reached ...)."""
    tree = _compile(source, limits)
    evaluator = _Evaluator(data, limits)
    try:
        result = evaluator.visit(tree.body)
        evaluator.measure(result, message="resultatet er for stort")
        return result
    except ExpressionError:
        raise
    except ZeroDivisionError:
        raise ExpressionError("deling på null") from None
    except OverflowError:
        raise ExpressionError("et tall er for stort") from None
    except RecursionError:
        raise ExpressionError("uttrykket eller dataene er nestet for dypt") from None
    except MemoryError:
        raise ExpressionError("uttrykket trenger for mye minne") from None
    except Exception:  # noqa: BLE001 - defensive: nothing internal reaches the author
        raise ExpressionError("uttrykket kunne ikke regnes ut") from None


# --------------------------------------------------------------------------- evaluation

def _iso(value: Any) -> str:
    if type(value) in (date, datetime):
        return value.isoformat()
    raise ExpressionError(_NOT_PLAIN)


_JSON = json.JSONEncoder(ensure_ascii=False, default=_iso)
_ARITHMETIC = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
               ast.Div: operator.truediv, ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod}
_VERBS = {ast.Add: "legge sammen {} og {}", ast.Sub: "trekke {1} fra {0}", ast.Mult: "gange {} med {}",
          ast.Div: "dele {} på {}", ast.FloorDiv: "dele {} på {}",
          ast.Mod: "finne resten når {} deles på {}"}
_ORDER = {ast.Lt: operator.lt, ast.LtE: operator.le, ast.Gt: operator.gt, ast.GtE: operator.ge}


def _order_kind(value: Any) -> str | None:
    """Which values ``value`` can be ordered with; None when it cannot be ordered simply."""
    kind = type(value)
    if kind is int or kind is float:
        return "number"
    if kind is str or kind is date:
        return kind.__name__
    if kind is datetime:
        return "aware" if value.utcoffset() is not None else "naive"
    return None


class _Evaluator:
    """One evaluation: the data, the limits and the counters that enforce them."""

    def __init__(self, data: Mapping[str, Any], limits: Limits):
        self.data = data
        self.limits = limits
        self.steps = 0
        self.work = 0           # cost since the clock was last read
        self.total = 0          # sizes of everything allocated so far
        self.deadline = time.perf_counter() + limits.max_seconds
        self.int_bound = 10 ** limits.max_int_digits
        self.int_bits = math.ceil(limits.max_int_digits * math.log2(10))
        # id -> (size, value) of lists/records already measured; holding the value keeps the
        # id from being reused during this evaluation.
        self.sizes: dict[int, tuple[int, Any]] = {}

    # ---- bounds

    def spend(self, work: int) -> None:
        self.work += work
        if self.work >= 256:
            self.work = 0
            if time.perf_counter() > self.deadline:
                raise ExpressionError(_TOO_LONG)

    def alloc(self, size: int) -> None:
        """Account for a value of ``size`` about to be built, refusing it first if too large."""
        if size > self.limits.max_size or self.total + size > self.limits.max_total:
            raise ExpressionError(_TOO_LARGE)
        self.total += size
        self.spend(size >> 4)

    def keep(self, value: Any, size: int) -> Any:
        self.sizes[id(value)] = (size, value)
        return value

    def measure(self, value: Any, limit: int | None = None, message: str = _TOO_LARGE) -> int:
        """The size of plain ``value``, refused once it passes ``limit`` (default max_size)."""
        limit = self.limits.max_size if limit is None else limit
        kind = type(value)
        if kind is str:
            size = 1 + len(value)
        elif kind in _SCALARS:
            size = 1
        elif kind is list or kind is dict:
            known = self.sizes.get(id(value))
            size = known[0] if known else self._walk(value, limit, message)
        else:
            raise ExpressionError(_NOT_PLAIN)
        if size > limit:
            raise ExpressionError(message)
        return size

    def _walk(self, value: Any, limit: int, message: str) -> int:
        """Measure a container with an explicit stack of iterators, stopping early."""
        size, counted, stack = 0, 0, [iter((value,))]
        while stack:
            item = next(stack[-1], _END)
            if item is _END:
                stack.pop()
                continue
            kind = type(item)
            counted += 1
            if kind is str:
                size += 1 + len(item)
            elif kind in _SCALARS:
                size += 1
            elif kind is list or kind is dict:
                known = self.sizes.get(id(item))
                if known:
                    size += known[0]
                elif len(stack) > MAX_NESTING:
                    raise ExpressionError("dataene er nestet for dypt")
                elif kind is list:
                    size += 1
                    stack.append(iter(item))
                else:
                    size += 1
                    for key in item:
                        if type(key) is not str:
                            raise ExpressionError("nøkler i en post må være tekst")
                        size += 1 + len(key)
                        if size > limit:
                            raise ExpressionError(message)
                    counted += len(item)
                    stack.append(iter(item.values()))
            else:
                raise ExpressionError(_NOT_PLAIN)
            if size > limit:
                raise ExpressionError(message)
            if counted >= 256:
                self.spend(counted)
                counted = 0
        self.keep(value, size)
        return size

    def fits_together(self, a: Any, b: Any) -> None:
        message = "verdiene er for store til å sammenlignes"
        size = self.measure(a, message=message)
        size += self.measure(b, self.limits.max_size - size, message)
        self.spend(size >> 3)

    def number(self, value: Any) -> Any:
        if type(value) is int and not -self.int_bound < value < self.int_bound:
            raise self.digits()
        if type(value) is float and not math.isfinite(value):
            raise ExpressionError("et tall er for stort")
        return value

    def truth(self, value: Any) -> bool:
        kind = type(value)
        if kind is bool:
            return value
        if value is None:
            return False
        if kind is int or kind is float:
            return value != 0
        if kind is str or kind is list or kind is dict:
            return len(value) > 0
        if kind is date or kind is datetime:
            return True
        raise ExpressionError(_NOT_PLAIN)

    # ---- nodes

    def visit(self, node: ast.expr) -> Any:
        self.steps += 1
        if self.steps > self.limits.max_steps:
            raise ExpressionError(_TOO_LONG, node.lineno)
        self.spend(1)
        try:
            return self._NODES[type(node)](self, node)
        except ExpressionError as exc:
            if exc.line is None:
                exc.line = node.lineno
            raise

    def _constant(self, node: ast.Constant) -> Any:
        return node.value

    def _name(self, node: ast.Name) -> Any:
        try:
            return self.data[node.id]
        except KeyError:
            raise ExpressionError(f"ukjent navn {_quote(node.id)}") from None

    def _bool_op(self, node: ast.BoolOp) -> Any:
        stop_when = isinstance(node.op, ast.Or)   # 'or' stops at a true value, 'and' at a false
        for value_node in node.values:
            value = self.visit(value_node)
            if self.truth(value) is stop_when:
                return value
        return value

    def _if_exp(self, node: ast.IfExp) -> Any:
        return self.visit(node.body if self.truth(self.visit(node.test)) else node.orelse)

    def _unary_op(self, node: ast.UnaryOp) -> Any:
        value = self.visit(node.operand)
        if isinstance(node.op, ast.Not):
            return not self.truth(value)
        if not _is_number(value):
            raise ExpressionError(f"kan ikke sette fortegn på {_kind(value)}")
        return self.number(-value if isinstance(node.op, ast.USub) else value)

    def _bin_op(self, node: ast.BinOp) -> Any:
        a, b, op = self.visit(node.left), self.visit(node.right), type(node.op)
        if _is_number(a) and _is_number(b):
            for value in (a, b):
                if type(value) is int and value.bit_length() > self.int_bits:
                    raise self.digits()
            if op in (ast.Div, ast.FloorDiv, ast.Mod) and b == 0:
                raise ExpressionError("deling på null")
            return self.number(_ARITHMETIC[op](a, b))
        if op is ast.Add and type(a) is str and type(b) is str:
            self.alloc(1 + len(a) + len(b))
            return a + b
        if op is ast.Add and type(a) is list and type(b) is list:
            size = self.measure(a) + self.measure(b) - 1
            self.alloc(size)
            return self.keep(a + b, size)
        if op is ast.Mult and type(a) is int and type(b) in (str, list):
            a, b = b, a
        if op is ast.Mult and type(a) in (str, list) and type(b) is int:
            count = max(b, 0)
            if type(a) is str:
                self.alloc(1 + len(a) * count)
                return a * count if a and count else ""
            size = 1 + (self.measure(a) - 1) * count
            self.alloc(size)
            return self.keep(a * count if a and count else [], size)
        raise ExpressionError("kan ikke " + _VERBS[op].format(_kind(a), _kind(b)))

    def _compare(self, node: ast.Compare) -> bool:
        left = self.visit(node.left)
        for op, right_node in zip(node.ops, node.comparators):
            right = self.visit(right_node)
            if not self._compare_pair(type(op), left, right):
                return False
            left = right
        return True

    def _compare_pair(self, op: type, a: Any, b: Any) -> bool:
        if op is ast.Is:
            return a is b       # one side is the literal None (checked by _problem)
        if op is ast.IsNot:
            return a is not b
        if op is ast.In or op is ast.NotIn:
            return self._contains(b, a) is (op is ast.In)
        self.fits_together(a, b)
        if op is ast.Eq:
            return a == b
        if op is ast.NotEq:
            return a != b
        kind_a, kind_b = _order_kind(a), _order_kind(b)
        if type(a) is list and type(b) is list:
            try:
                return _ORDER[op](a, b)
            except TypeError:
                raise ExpressionError("kan ikke ordne lister der elementene er av ulik type") from None
        if kind_a is None or kind_a != kind_b:
            if {kind_a, kind_b} == {"aware", "naive"}:
                raise ExpressionError(
                    "kan ikke sammenligne et tidspunkt med tidssone med et tidspunkt uten tidssone")
            raise ExpressionError(f"kan ikke sammenligne {_kind(a)} med {_kind(b)}")
        return _ORDER[op](a, b)

    def _contains(self, container: Any, item: Any) -> bool:
        kind = type(container)
        if kind is str or kind is dict:
            if type(item) is not str:
                raise ExpressionError(f"kan ikke lete etter {_kind(item)} i {_kind(container)}")
        elif kind is not list:
            raise ExpressionError(f"kan ikke lete etter en verdi i {_kind(container)}")
        self.fits_together(container, item)
        return item in container

    def _subscript(self, node: ast.Subscript) -> Any:
        value = self.visit(node.value)
        if isinstance(node.slice, ast.Slice):
            return self._slice(value, node.slice)
        index = self.visit(node.slice)
        kind = type(value)
        if kind is dict:
            if type(index) is not str:
                raise ExpressionError(f"en nøkkel i en post må være tekst, ikke {_kind(index)}")
            if index not in value:
                raise ExpressionError(f"posten har ingen nøkkel {_quote(index)}")
            return value[index]
        if kind is list or kind is str:
            if type(index) is not int:
                raise ExpressionError(f"en posisjon må være et heltall, ikke {_kind(index)}")
            if not -len(value) <= index < len(value):
                shown = index if abs(index) < 10 ** 15 else "så stor"
                raise ExpressionError(f"posisjon {shown} er utenfor området (finnes ikke)")
            return value[index]
        if type(index) is str:
            raise ExpressionError(f"kan ikke slå opp {_quote(index)} i {_kind(value)}")
        raise ExpressionError(f"kan ikke hente et element fra {_kind(value)}")

    def _slice(self, value: Any, node: ast.Slice) -> Any:
        bounds = [None if part is None else self.visit(part)
                  for part in (node.lower, node.upper, node.step)]
        if any(bound is not None and type(bound) is not int for bound in bounds):
            raise ExpressionError("posisjonene i et utsnitt må være heltall")
        if bounds[2] == 0:
            raise ExpressionError("steget i et utsnitt kan ikke være null")
        if type(value) not in (str, list):
            raise ExpressionError(f"kan ikke ta et utsnitt av {_kind(value)}")
        part = slice(*bounds)
        count = len(range(*part.indices(len(value))))
        if type(value) is str:
            self.alloc(1 + count)
            return value[part]
        if 1 + count > self.limits.max_size:     # the copy holds at least one unit per item
            raise ExpressionError(_TOO_LARGE)
        result = value[part]
        size = self.measure(result)
        self.alloc(size)
        return self.keep(result, size)

    def _list(self, node: ast.List | ast.Tuple) -> list:
        items = [self.visit(element) for element in node.elts]
        size = 1
        for item in items:
            size += self.measure(item, self.limits.max_size - size)
        self.alloc(size)
        return self.keep(items, size)

    def _dict(self, node: ast.Dict) -> dict:
        record: dict[str, Any] = {}
        for key_node, value_node in zip(node.keys, node.values):
            key = self.visit(key_node)
            if type(key) is not str:
                raise ExpressionError(f"nøkler i en post må være tekst, ikke {_kind(key)}")
            record[key] = self.visit(value_node)
        size = 1
        for key, value in record.items():
            size += 1 + len(key)
            size += self.measure(value, self.limits.max_size - size)
        self.alloc(size)
        return self.keep(record, size)

    def _joined_str(self, node: ast.JoinedStr) -> str:
        parts = [self.visit(value) for value in node.values]
        self.alloc(1 + sum(len(part) for part in parts))
        return "".join(parts)

    def _formatted_value(self, node: ast.FormattedValue) -> str:
        return self.text(self.visit(node.value))

    def _call(self, node: ast.Call) -> Any:
        args = [self.visit(arg) for arg in node.args]
        return self._CALLS[node.func.id](self, *args)

    # ---- conversions and functions

    def text(self, value: Any) -> str:
        """``str(value)``: numbers as Python writes them, dates in ISO form, lists and records
        as JSON, produced piece by piece and refused as soon as the text passes max_size."""
        kind = type(value)
        if kind is str:
            return value
        if kind is list or kind is dict:
            self.measure(value)       # plain, not too deep, not too large
            out, length, pieces = io.StringIO(), 0, 0
            for piece in _JSON.iterencode(value):
                length += len(piece)
                if length >= self.limits.max_size:
                    raise ExpressionError(_TOO_LARGE)
                out.write(piece)
                pieces += 1
                if pieces >= 256:
                    self.spend(pieces)
                    pieces = 0
            result = out.getvalue()
        elif kind is int:
            result = str(self.number(value))
        elif kind is date or kind is datetime:
            result = value.isoformat()
        elif kind in _SCALARS:
            result = str(value)       # None, True/False, floats
        else:
            raise ExpressionError(_NOT_PLAIN)
        self.alloc(1 + len(result))
        return result

    def digits(self) -> ExpressionError:
        return ExpressionError(f"et tall ville fått mer enn {self.limits.max_int_digits} sifre")

    def _fn_len(self, value: Any) -> int:
        if type(value) in (str, list, dict):
            return len(value)
        raise ExpressionError(f"kan ikke finne lengden av {_kind(value)}")

    def _fn_int(self, value: Any) -> int:
        kind = type(value)
        if kind is float and not abs(value) < self.int_bound:   # also refuses inf and nan
            raise self.digits()
        if kind is str:
            if len(value) > self.limits.max_size or \
                    len(value.strip().lstrip("+-")) > self.limits.max_int_digits:
                raise self.digits()       # checked before int() does quadratic work
            try:
                return int(value)
            except ValueError:
                raise ExpressionError(f"kan ikke gjøre {_quote(value)} om til et heltall") from None
        if kind in (bool, int, float):
            return self.number(int(value))
        raise ExpressionError(f"kan ikke gjøre {_kind(value)} om til et heltall")

    def _fn_float(self, value: Any) -> float:
        kind = type(value)
        if kind is str and len(value) <= 1000:
            try:
                return self.number(float(value))
            except ValueError:
                raise ExpressionError(f"kan ikke gjøre {_quote(value)} om til et tall") from None
        if kind not in (bool, int, float):
            raise ExpressionError(f"kan ikke gjøre {_kind(value)} om til et tall")
        return self.number(float(self.number(value)))

    def _fn_abs(self, value: Any) -> int | float:
        if not _is_number(value):
            raise ExpressionError(f"kan ikke ta abs() av {_kind(value)}")
        return self.number(abs(value))

    def _extreme(self, pick: Any, args: tuple) -> Any:
        """min() and max() of one list or of several values, all of one orderable kind."""
        name = pick.__name__
        if len(args) == 1 and type(args[0]) is not list:
            raise ExpressionError(f"{name}() trenger en liste eller flere verdier")
        items = args[0] if len(args) == 1 else args
        self.measure(list(items) if len(args) > 1 else items)
        if not items:
            raise ExpressionError(f"{name}() av en tom liste")
        kinds = {_order_kind(item) for item in items}
        if len(kinds) != 1 or None in kinds:
            raise ExpressionError(f"{name}() trenger tall, tekster eller datoer av samme slag")
        self.spend(len(items) >> 3)
        return pick(items)

    def _fn_round(self, value: Any, places: Any = None) -> int | float:
        if not _is_number(value):
            raise ExpressionError(f"kan ikke runde av {_kind(value)}")
        if places is None:
            if not abs(value) < self.int_bound:
                raise self.digits()
            return round(value)
        if type(places) is not int or not 0 <= places <= 15:
            raise ExpressionError("round() tar et antall desimaler fra 0 til 15")
        return self.number(round(value, places))

    def _string_op(self, value: Any, name: str, change: Any) -> str:
        if type(value) is not str:
            raise ExpressionError(f"{name}() trenger tekst, ikke {_kind(value)}")
        # Changing case can lengthen non-ASCII text up to three times ("ß" -> "SS").
        grows = 1 if value.isascii() or name == "strip" else 3
        self.alloc(1 + grows * len(value))
        return change(value)

    def _fn_date(self, value: Any, with_time: bool = False) -> date:
        """date(x) and datetime(x): from ISO text, or from the other kind of date."""
        if type(value) is str and len(value) <= 64:
            try:
                moment = datetime.fromisoformat(value)     # also reads plain dates
                return moment if with_time else moment.date()
            except ValueError:
                pass
        elif type(value) is datetime:
            return value if with_time else value.date()
        elif type(value) is date:
            return datetime(value.year, value.month, value.day) if with_time else value
        shown = _quote(value) if type(value) is str else _kind(value)
        expected = "ÅÅÅÅ-MM-DDTtt:mm" if with_time else "ÅÅÅÅ-MM-DD"
        target = "et tidspunkt" if with_time else "en dato"
        raise ExpressionError(f"kan ikke gjøre {shown} om til {target} (forventet {expected})")

    def _fn_isoformat(self, value: Any) -> str:
        if type(value) in (date, datetime):
            return value.isoformat()
        raise ExpressionError(f"isoformat() trenger en dato, ikke {_kind(value)}")

    _NODES = {ast.Constant: _constant, ast.Name: _name, ast.BoolOp: _bool_op, ast.IfExp: _if_exp,
              ast.UnaryOp: _unary_op, ast.BinOp: _bin_op, ast.Compare: _compare,
              ast.Subscript: _subscript, ast.List: _list, ast.Tuple: _list, ast.Dict: _dict,
              ast.JoinedStr: _joined_str, ast.FormattedValue: _formatted_value, ast.Call: _call}
    _CALLS = {"len": _fn_len, "str": text, "int": _fn_int, "float": _fn_float, "bool": truth,
              "abs": _fn_abs, "round": _fn_round, "isoformat": _fn_isoformat, "date": _fn_date,
              "datetime": lambda self, value: self._fn_date(value, with_time=True),
              "min": lambda self, *args: self._extreme(min, args),
              "max": lambda self, *args: self._extreme(max, args),
              "lower": lambda self, value: self._string_op(value, "lower", str.lower),
              "upper": lambda self, value: self._string_op(value, "upper", str.upper),
              "strip": lambda self, value: self._string_op(value, "strip", str.strip)}
