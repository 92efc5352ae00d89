"""Restricted evaluator for untrusted BPMN expressions, scripts and timer expressions.

Source is compiled with RestrictedPython under a stricter policy (no imports, classes, ``with``,
generators or ``_``-names; size-guarded ``**``, ``*``, ``<<``, ``+`` and ``%``) and run with a
curated set of builtins, guarded attribute/item access and a per-call time limit enforced with
``sys.settrace``.

Public API: ``SandboxError``, ``SandboxTimeout``, ``check_expression``, ``check_script``,
``evaluate``, ``execute`` and ``SandboxEnvironment`` (a SpiffWorkflow script environment).
"""
from __future__ import annotations

import _strptime  # noqa: F401 - preloaded for datetime.strptime (see _c_import)
import ast
import collections.abc
import functools
import importlib
import math
import operator
import re
import reprlib
import sys
import textwrap
import time
import types
from datetime import date, datetime, timedelta
from typing import Any, Mapping

from RestrictedPython import compile_restricted_eval, compile_restricted_exec, safe_builtins
from RestrictedPython.Guards import (
    guarded_iter_unpack_sequence,
    guarded_unpack_sequence,
    raise_,
    safer_getattr,
)
from RestrictedPython.transformer import RestrictingNodeTransformer, copy_locations
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment

__all__ = [
    "SandboxError",
    "SandboxTimeout",
    "SandboxEnvironment",
    "check_expression",
    "check_script",
    "evaluate",
    "execute",
    "ALLOWED_BUILTINS",
]

MAX_ITEMS = 1_000_000        # longest str/bytes/list/tuple an operation may produce
MAX_INT_DIGITS = 10_000      # largest int (decimal digits) an operation may produce
MAX_INT_BITS = math.ceil(MAX_INT_DIGITS * math.log2(10))
MAX_RANGE = 100_000          # most items range() may yield
MAX_SOURCE = 100_000         # longest accepted source text (characters)
MAX_MESSAGE = 500            # error messages are cut to this length

# SpiffWorkflow's PythonScriptEngine looks for frames from '<string>' to report script lines.
_FILENAME = "<string>"
_perf_counter = time.perf_counter


# --------------------------------------------------------------------------- errors

class SandboxError(Exception):
    """Refused or failed in the sandbox. ``.message`` (str, English), ``.line`` (int|None).

    ``message`` includes a ``"line N: "`` prefix when the line is known; ``reason`` is the
    bare text.
    """

    def __init__(self, message: str, line: int | None = None):
        self.reason = message
        self.line = line
        self.message = f"line {line}: {message}" if line is not None else message
        super().__init__(self.message)

    def at_line(self, line: int | None) -> "SandboxError":
        """A copy of this error located at ``line``."""
        return type(self)(self.reason, line)


class SandboxTimeout(SandboxError):
    """The time limit ran out."""


def _short(text: str) -> str:
    return text if len(text) <= MAX_MESSAGE else text[:MAX_MESSAGE] + "..."


def _too_large(what: str) -> SandboxError:
    return SandboxError(f"result too large: {what}")


# --------------------------------------------------------------------------- compile policy

_CHECK = "_check_"  # injected time check (loops, except/finally bodies)
_BINOP_GUARDS = {ast.Pow: "_pow_", ast.Mult: "_mul_", ast.LShift: "_lshift_",
                 ast.Add: "_add_", ast.Mod: "_mod_"}
_AUG_GUARDS = {ast.Pow: "_pow_", ast.Mult: "_imul_", ast.LShift: "_lshift_",
               ast.Add: "_iadd_", ast.Mod: "_mod_"}


def _call(name: str, args: list, like: ast.AST) -> ast.Call:
    node = ast.Call(func=ast.Name(name, ast.Load()), args=args, keywords=[])
    copy_locations(node, like)
    copy_locations(node.func, like)
    return node


def _check_stmt(like: ast.AST) -> ast.Expr:
    stmt = ast.Expr(value=_call(_CHECK, [], like))
    copy_locations(stmt, like)
    return stmt


class SandboxPolicy(RestrictingNodeTransformer):
    """RestrictedPython's policy, tightened for process owners' code."""

    def _refuse(self, node: ast.AST, what: str) -> None:
        self.error(node, f"{what} are not allowed.")

    def visit_Import(self, node):
        self._refuse(node, "Import statements")

    visit_ImportFrom = visit_Import

    def visit_ClassDef(self, node):
        self._refuse(node, "Class definitions")

    def visit_With(self, node):
        self._refuse(node, "With statements")

    def visit_Yield(self, node):
        self._refuse(node, "Generator functions (yield)")

    visit_YieldFrom = visit_Yield

    def visit_BinOp(self, node):
        node = self.node_contents_visit(node)
        guard = _BINOP_GUARDS.get(type(node.op))
        if guard is None:
            return node
        return _call(guard, [node.left, node.right], node)

    def visit_AugAssign(self, node):
        # 'x op= v' for the size-guarded operators -> 'x = _guard_(x, v)'; other operators
        # (and RestrictedPython's refusal of item/attribute targets) stay as they are.
        guard = _AUG_GUARDS.get(type(node.op))
        if guard is None or not isinstance(node.target, ast.Name):
            return super().visit_AugAssign(node)
        node = self.node_contents_visit(node)
        current = ast.Name(node.target.id, ast.Load())
        copy_locations(current, node.target)
        new = ast.Assign(targets=[node.target], value=_call(guard, [current, node.value], node))
        copy_locations(new, node)
        return new

    def visit_FormattedValue(self, node):
        # f"{v!c:spec}" -> f"{_format_(v, c, spec)}" so the width/precision can be checked.
        node = self.node_contents_visit(node)
        if node.format_spec is None:
            return node
        constant = ast.Constant(node.conversion)
        copy_locations(constant, node)
        call = _call("_format_", [node.value, constant, node.format_spec], node)
        new = ast.FormattedValue(value=call, conversion=-1, format_spec=None)
        copy_locations(new, node)
        return new

    def visit_While(self, node):
        # 'while True: pass' produces no trace events, so every loop pass calls the checker.
        node = self.node_contents_visit(node)
        node.body.insert(0, _check_stmt(node))
        return node

    def visit_Try(self, node):
        # A trace function that raises is uninstalled by CPython; handlers re-check the
        # deadline (and re-install tracing) so a caught timeout cannot be swallowed.
        for handler in node.handlers:
            if handler.type is not None and not _names_only(handler.type):
                self.error(handler, "except clauses may only name exception classes, "
                                    "e.g. 'except (KeyError, ValueError):'.")
        node = self.node_contents_visit(node)
        for handler in node.handlers:
            handler.body.insert(0, _check_stmt(handler))
        if node.finalbody:
            node.finalbody.insert(0, _check_stmt(node.finalbody[0]))
        return node


def _names_only(node: ast.AST) -> bool:
    if isinstance(node, ast.Name):
        return True
    return isinstance(node, ast.Tuple) and all(isinstance(e, ast.Name) for e in node.elts)


_LINE_RE = re.compile(r"^Line (\d+|None): (.*)$", re.S)


def _error_from_compiler(text: str) -> SandboxError:
    match = _LINE_RE.match(text)
    if not match:
        return SandboxError(_short(text))
    line = int(match.group(1)) if match.group(1).isdigit() else None
    return SandboxError(_short(match.group(2)), line)


@functools.lru_cache(maxsize=1024)
def _compile(source: str, mode: str) -> tuple[types.CodeType | None, SandboxError | None]:
    """Compile under the policy; cached per (source, mode). Returns (code, error)."""
    if len(source) > MAX_SOURCE:
        return None, SandboxError(f"source is longer than {MAX_SOURCE} characters")
    if mode == "eval":
        if not source.strip():
            return None, SandboxError("expression is empty")
        # Leading indentation is harmless in an expression; keep line numbers intact.
        stripped = source.lstrip()
        source = "\n" * source[: len(source) - len(stripped)].count("\n") + stripped
        compiler = compile_restricted_eval
    else:
        source = textwrap.dedent(source)
        compiler = compile_restricted_exec
    try:
        result = compiler(source, _FILENAME, policy=SandboxPolicy)
    except RecursionError:
        return None, SandboxError("source is nested too deeply")
    except (ValueError, SyntaxError, MemoryError, OverflowError) as exc:
        return None, SandboxError(_short(f"{type(exc).__name__}: {exc}"),
                                  getattr(exc, "lineno", None))
    if result.errors:
        return None, _error_from_compiler(result.errors[0])
    return result.code, None


def _compiled(source: str, mode: str) -> types.CodeType:
    if not isinstance(source, str):
        raise SandboxError(f"source must be a string, not {type(source).__name__}")
    code, error = _compile(source, mode)
    if error is not None:
        raise error.at_line(error.line)  # fresh instance: no shared traceback state
    return code


def check_expression(source: str) -> None:
    """Deploy-time validation of an expression; raises SandboxError (with line)."""
    _compiled(source, "eval")


def check_script(source: str) -> None:
    """Deploy-time validation of a multi-statement script; raises SandboxError (with line)."""
    _compiled(source, "exec")


# --------------------------------------------------------------------------- size guards

_TEXT = (str, bytes, bytearray)
_SEQUENCES = (str, bytes, bytearray, list, tuple)


def _check_items(count: int) -> None:
    if count > MAX_ITEMS:
        raise _too_large(f"{count} items (limit {MAX_ITEMS})")


def _check_mul(a, b) -> None:
    if isinstance(a, int):
        if isinstance(b, int):
            if a.bit_length() + b.bit_length() > MAX_INT_BITS:
                raise _too_large(f"integer with more than {MAX_INT_DIGITS} digits")
            return
        a, b = b, a
    elif not isinstance(b, int):
        return
    if b > 1 and isinstance(a, _SEQUENCES):
        _check_items(len(a) * b)


def _mul(a, b):
    _check_mul(a, b)
    return a * b


def _imul(a, b):
    _check_mul(a, b)
    return operator.imul(a, b)


def _pow(a, b):
    if isinstance(a, int) and isinstance(b, int) and b > 1 and abs(a) > 1:
        if b * math.log2(abs(a)) > MAX_INT_BITS:
            raise _too_large(f"integer with more than {MAX_INT_DIGITS} digits")
    return a ** b


def _lshift(a, b):
    if isinstance(a, int) and isinstance(b, int) and a and b > 0:
        if a.bit_length() + b > MAX_INT_BITS:
            raise _too_large(f"integer with more than {MAX_INT_DIGITS} digits")
    return a << b


def _add(a, b):
    result = a + b  # at most the sum of two existing objects
    if isinstance(result, _SEQUENCES) and len(result) > MAX_ITEMS:
        raise _too_large(f"{len(result)} items (limit {MAX_ITEMS})")
    return result


def _iadd(a, b):
    if isinstance(a, list):  # grows in place: check before
        if not isinstance(b, collections.abc.Sized):
            b = list(b)
        _check_items(len(a) + len(b))
        a += b
        return a
    result = a + b
    if isinstance(result, _SEQUENCES) and len(result) > MAX_ITEMS:
        raise _too_large(f"{len(result)} items (limit {MAX_ITEMS})")
    return result


_PERCENT_RE = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?")
_PERCENT_RE_B = re.compile(rb"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?")


def _check_number_text(text) -> None:
    if len(text) > 7 or int(text) > MAX_ITEMS:
        raise _too_large(f"format width or precision above {MAX_ITEMS}")


def _mod(a, b):
    if isinstance(a, _TEXT):  # %-formatting: bound width and precision
        pattern = _PERCENT_RE if isinstance(a, str) else _PERCENT_RE_B
        for match in pattern.finditer(a):
            for group in match.groups():
                if group in ("*", b"*"):
                    raise SandboxError("'*' width or precision in %-formatting is not allowed")
                if group:
                    _check_number_text(group)
    return a % b


_DIGITS_RE = re.compile(r"\d+")
_CONVERSIONS = {-1: None, 115: str, 114: repr, 97: ascii}


def _format(value, conversion, spec):
    """f-string field with a format spec: refuse huge widths/precisions."""
    convert = _CONVERSIONS.get(conversion)
    if convert is not None:
        value = convert(value)
    for digits in _DIGITS_RE.findall(spec):
        _check_number_text(digits)
    return format(value, spec)


_INPLACE = {
    "+=": _iadd, "-=": operator.isub, "*=": _imul, "/=": operator.itruediv,
    "//=": operator.ifloordiv, "%=": _mod, "**=": _pow, "<<=": _lshift,
    ">>=": operator.irshift, "&=": operator.iand, "|=": operator.ior,
    "^=": operator.ixor, "@=": operator.imatmul,
}


def _inplacevar(op: str, target, value):
    try:
        function = _INPLACE[op]
    except KeyError:
        raise SandboxError(f"operator {op} is not allowed") from None
    return function(target, value)


# Methods of str/bytes/int whose result can be far larger than their inputs.

def _wrap_pad(obj, method):
    def pad(width, *args):
        if isinstance(width, int) and width > MAX_ITEMS:
            raise _too_large(f"width {width} (limit {MAX_ITEMS})")
        return method(width, *args)
    return pad


def _wrap_expandtabs(obj, method):
    def expandtabs(tabsize=8):
        if isinstance(tabsize, int) and tabsize > 1:
            _check_items(len(obj) + obj.count("\t" if isinstance(obj, str) else b"\t") * tabsize)
        return method(tabsize)
    return expandtabs


def _wrap_replace(obj, method):
    def replace(old, new, count=-1):
        if isinstance(old, _TEXT) and isinstance(new, _TEXT) and len(new) > len(old):
            hits = obj.count(old) if old else len(obj) + 1
            if isinstance(count, int) and count >= 0:
                hits = min(hits, count)
            _check_items(len(obj) + hits * (len(new) - len(old)))
        return method(old, new, count)
    return replace


def _wrap_join(obj, method):
    def join(iterable):
        items = list(iterable)
        total = len(obj) * max(len(items) - 1, 0)
        for item in items:
            if isinstance(item, _TEXT):
                total += len(item)
        _check_items(total)
        return method(items)
    return join


def _wrap_translate(obj, method):
    if not isinstance(obj, str):
        return method  # bytes tables map byte to byte
    def translate(table):
        if isinstance(table, dict):
            values = table.values()
        elif isinstance(table, (list, tuple)):
            values = table
        else:
            raise SandboxError("str.translate() needs a dict, list or tuple table")
        longest = max((len(v) for v in values if isinstance(v, str)), default=1)
        _check_items(len(obj) * longest)
        return method(table)
    return translate


def _wrap_to_bytes(obj, method):
    def to_bytes(length=1, *args, **kwargs):
        if isinstance(length, int) and length > MAX_ITEMS:
            raise _too_large(f"{length} bytes (limit {MAX_ITEMS})")
        return method(length, *args, **kwargs)
    return to_bytes


_TEXT_WRAPPERS = {"ljust": _wrap_pad, "rjust": _wrap_pad, "center": _wrap_pad,
                  "zfill": _wrap_pad, "expandtabs": _wrap_expandtabs,
                  "replace": _wrap_replace, "join": _wrap_join, "translate": _wrap_translate}


def _wrap_extend(obj, method):
    def extend(iterable):
        if not isinstance(iterable, collections.abc.Sized):
            iterable = list(iterable)
        _check_items(len(obj) + len(iterable))
        return method(iterable)
    return extend


_AMPLIFYING = frozenset(_TEXT_WRAPPERS) | {"to_bytes", "extend"}


# --------------------------------------------------------------------------- access guards

def _getattr(obj, name):
    """``obj.name``: safer_getattr, plus no modules, no '_' names, bounded text methods."""
    if type(name) is not str or name.startswith("_"):
        raise SandboxError(f"access to attribute {name!r} is not allowed")
    if isinstance(obj, types.ModuleType):
        raise SandboxError(f"attribute access on modules is not allowed ({name!r})")
    if name in _AMPLIFYING:
        if isinstance(obj, type) and issubclass(obj, (str, bytes, bytearray, int, list)):
            raise SandboxError(f"call {name}() on a value, not on the type {obj.__name__}")
        if isinstance(obj, _TEXT) and name in _TEXT_WRAPPERS:
            return _TEXT_WRAPPERS[name](obj, getattr(obj, name))
        if isinstance(obj, int) and name == "to_bytes":
            return _wrap_to_bytes(obj, obj.to_bytes)
        if isinstance(obj, list) and name == "extend":
            return _wrap_extend(obj, obj.extend)
    value = safer_getattr(obj, name, raise_)
    if isinstance(value, types.ModuleType):
        raise SandboxError(f"access to module objects is not allowed ({name!r})")
    return value


def _write(obj):
    """Target of item/attribute assignment and deletion: only plain containers."""
    if isinstance(obj, (dict, list, set)):
        return obj
    raise SandboxError(f"cannot modify items or attributes of a {type(obj).__name__} object")


def _apply(function, *args, **kwargs):
    return function(*args, **kwargs)


class _DiscardPrint:
    """print() is accepted and its output discarded; ``printed`` is always ''."""

    def __init__(self, _getattr_=None):
        pass

    def _call_print(self, *args, **kwargs):
        return None

    def __call__(self):
        return ""


# --------------------------------------------------------------------------- builtins

def _range(*args):
    """range() with at most MAX_RANGE items."""
    result = range(*args)
    try:
        size = len(result)
    except OverflowError:
        size = MAX_RANGE + 1
    if size > MAX_RANGE:
        raise SandboxError(f"range() with more than {MAX_RANGE} items is not allowed")
    return result


def _sum(iterable, /, start=0):
    if isinstance(start, _SEQUENCES):
        raise SandboxError("sum() cannot join sequences; use a comprehension instead")
    return sum(iterable, start)


def _round(number, ndigits=None):
    if ndigits is None:
        return round(number)
    if isinstance(number, int) and isinstance(ndigits, int) and ndigits < -MAX_INT_DIGITS:
        raise SandboxError("round(): ndigits is out of range")
    return round(number, ndigits)


_C_IMPORTS = frozenset({"time", "_strptime"})


def _c_import(name, globals=None, locals=None, fromlist=(), level=0):
    """``__import__`` hook for CPython's own C code only.

    datetime's C implementation imports ``time``/``_strptime`` through the calling frame's
    builtins (date.today(), strftime(), strptime()). Sandboxed code cannot name this hook
    ('_' names are refused at compile time) and import statements are refused anyway.
    """
    if level == 0 and name in _C_IMPORTS:
        return sys.modules.get(name) or importlib.import_module(name)
    raise ImportError(f"import of {name!r} is not allowed in the sandbox")


_RISKY = {"__build_class__", "id", "hash", "pow", "setattr", "delattr", "_getattr_",
          "BaseException", "SystemExit", "KeyboardInterrupt", "GeneratorExit"}

_BUILTINS: dict[str, Any] = {k: v for k, v in safe_builtins.items() if k not in _RISKY}
_BUILTINS.update({
    "len": len, "min": min, "max": max, "sum": _sum, "sorted": sorted, "abs": abs,
    "round": _round, "any": any, "all": all, "str": str, "int": int, "float": float,
    "bool": bool, "list": list, "dict": dict, "set": set, "tuple": tuple,
    "enumerate": enumerate, "zip": zip, "reversed": reversed, "isinstance": isinstance,
    "None": None, "True": True, "False": False, "range": _range,
    "date": date, "datetime": datetime, "timedelta": timedelta,
})
_BUILTINS["RecursionError"] = RecursionError
_BUILTINS["__import__"] = _c_import  # internal hook, see above
_FORBIDDEN_NAMES = frozenset({
    "__import__", "open", "exec", "eval", "compile", "getattr", "setattr", "delattr",
    "hasattr", "globals", "locals", "vars", "dir", "type", "object", "super", "input", "help",
    "memoryview", "breakpoint", "exit", "quit", "id", "pow", "bytes", "bytearray",
})
assert not (_FORBIDDEN_NAMES - {"__import__"}) & set(_BUILTINS), "forbidden builtin exposed"
ALLOWED_BUILTINS: frozenset[str] = frozenset(k for k in _BUILTINS if not k.startswith("_"))

_BASE_GLOBALS: dict[str, Any] = {
    "__builtins__": _BUILTINS,
    "_getattr_": _getattr,
    "_getitem_": operator.getitem,
    "_getiter_": iter,
    "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
    "_unpack_sequence_": guarded_unpack_sequence,
    "_write_": _write,
    "_print_": _DiscardPrint,
    "_apply_": _apply,
    "_inplacevar_": _inplacevar,
    "_pow_": _pow,
    "_mul_": _mul,
    "_lshift_": _lshift,
    "_add_": _add,
    "_iadd_": _iadd,
    "_imul_": _imul,
    "_mod_": _mod,
    "_format_": _format,
}


# --------------------------------------------------------------------------- running

def _namespace(data: Mapping, external: Mapping | None) -> dict:
    namespace = dict(external) if external else {}
    namespace.update(data)
    namespace.update(_BASE_GLOBALS)  # last: data can never replace guards or builtins
    return namespace


def _retrace(trace) -> None:
    """Re-install ``trace`` globally and on the sandboxed frames of this thread's stack."""
    sys.settrace(trace)
    frame = sys._getframe(2)
    while frame is not None and frame.f_code is not _RUN_CODE:
        if frame.f_code.co_filename == _FILENAME:
            frame.f_trace = trace
        frame = frame.f_back


def _run(code: types.CodeType, namespace: dict, time_limit: float):
    if not time_limit > 0:
        raise SandboxError("time_limit must be positive")
    deadline = [_perf_counter() + time_limit]
    message = f"time limit of {time_limit:g} s exceeded"

    def trace(frame, event, arg):
        if event == "call":
            if frame.f_code.co_filename != _FILENAME:
                return None  # guards and library code: not traced line by line
        elif event != "line":
            return trace
        if _perf_counter() > deadline[0]:
            raise SandboxTimeout(message)
        return trace

    def check():
        if _perf_counter() > deadline[0]:
            raise SandboxTimeout(message)
        if sys.gettrace() is not trace:
            _retrace(trace)
        return True

    namespace[_CHECK] = check
    previous = sys.gettrace()
    sys.settrace(trace)
    try:
        return eval(code, namespace)  # noqa: S307 - restricted code object
    except (Exception, SystemExit, GeneratorExit) as exc:
        # Keep the sandboxed frames in the traceback: SpiffWorkflow reads the script line
        # from frames named '<string>'.
        raise _user_error(exc).with_traceback(exc.__traceback__) from exc
    finally:
        sys.settrace(previous)
        deadline[0] = -math.inf  # code left behind (e.g. stored lambdas) can no longer loop


_RUN_CODE = _run.__code__


def _user_line(exc: BaseException) -> int | None:
    """Innermost line of sandboxed code in the exception's traceback."""
    line = None
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == _FILENAME:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line or None


def _user_error(exc: BaseException) -> SandboxError:
    line = _user_line(exc)
    if isinstance(exc, SandboxError):
        return exc.at_line(exc.line if exc.line is not None else line)
    if isinstance(exc, RecursionError):
        text = "RecursionError: maximum recursion depth exceeded"
    elif isinstance(exc, MemoryError):
        text = "MemoryError: out of memory"
    elif isinstance(exc, NameError) and getattr(exc, "name", None) in _FORBIDDEN_NAMES:
        text = f"NameError: {exc.name!r} is not available in the sandbox"
    else:
        detail = _describe(exc)
        text = f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__
    return SandboxError(_short(text), line)


class _BoundedRepr(reprlib.Repr):
    def repr_int(self, x, level):
        if x.bit_length() > 4 * MAX_MESSAGE:
            return f"<int of {x.bit_length()} bits>"
        return super().repr_int(x, level)


_REPR = _BoundedRepr()
_REPR.maxstring = _REPR.maxother = 200
_PLAIN = (str, int, float, bool, type(None))


def _describe(exc: BaseException) -> str:
    """str(exc), but bounded: user exceptions may carry huge or aliased arguments."""
    args = exc.args
    if all(type(a) in _PLAIN for a in args) and sum(
            len(a) if isinstance(a, str) else (a.bit_length() // 3 if isinstance(a, int) else 0)
            for a in args) <= MAX_MESSAGE * 4:
        return str(exc)
    try:
        return _REPR.repr(args[0] if len(args) == 1 else args)
    except Exception:
        return "<unprintable arguments>"


def evaluate(expression: str, data: Mapping, *, time_limit: float = 1.0,
             external_context: Mapping | None = None):
    """Evaluate ``expression`` with ``data`` (and ``external_context``) as variables."""
    code = _compiled(expression, "eval")
    return _run(code, _namespace(data, external_context), time_limit)


_MISSING = object()


def _transient(value) -> bool:
    """Values a script leaves behind that are not task data."""
    return callable(value) or isinstance(value, (types.ModuleType, collections.abc.Iterator))


def execute(script: str, data: dict, *, time_limit: float = 1.0,
            external_context: Mapping | None = None) -> None:
    """Run ``script`` with ``data``'s keys as variables and write its top-level variables back.

    New/changed variables are written back and ``del x`` removes the key; names starting with
    '_', functions, classes, modules, iterators and external_context names are not written.
    On error nothing is written back (in-place changes to mutable values remain).
    """
    code = _compiled(script, "exec")
    namespace = _namespace(data, external_context)
    _run(code, namespace, time_limit)
    for key in [k for k in data if k not in namespace]:
        if not (isinstance(key, str) and key.startswith("_")):
            del data[key]  # the script did 'del key'
    for key, value in namespace.items():
        if not isinstance(key, str) or key.startswith("_"):
            continue
        old = data.get(key, _MISSING)
        if value is old:
            continue
        if old is _MISSING and external_context and key in external_context:
            continue
        if _transient(value):
            continue
        data[key] = value


class SandboxEnvironment(BasePythonScriptEngineEnvironment):
    """SpiffWorkflow script environment that runs everything in the sandbox.

    ``environment_globals`` and ``external_context`` values are visible as variables but
    never written back into the task data.
    """

    def __init__(self, time_limit: float = 1.0, environment_globals: Mapping | None = None):
        super().__init__(dict(environment_globals or {}))
        self.time_limit = time_limit

    def _external(self, external_context):
        if not self.globals:
            return external_context
        return {**self.globals, **(external_context or {})}

    def evaluate(self, expression, context, external_context=None):
        return evaluate(expression, context, time_limit=self.time_limit,
                        external_context=self._external(external_context))

    def execute(self, script, context, external_context=None):
        execute(script, context, time_limit=self.time_limit,
                external_context=self._external(external_context))
        return True
