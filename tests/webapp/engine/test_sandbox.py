"""Tests for the restricted evaluator used for BPMN conditions, scripts and timers."""
import os
import sys
import threading
import time
from datetime import date, datetime

import pytest
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.util.task import TaskState

from webapp.engine import sandbox
from webapp.engine.sandbox import (
    SandboxEnvironment,
    SandboxError,
    SandboxTimeout,
    check_expression,
    check_script,
    evaluate,
    execute,
)


def refused(source, data=None, *, script=False, time_limit=1.0):
    """Run source and return the SandboxError it must raise."""
    data = {} if data is None else data
    run = execute if script else evaluate
    with pytest.raises(SandboxError) as info:
        run(source, data, time_limit=time_limit)
    assert isinstance(info.value.message, str) and info.value.message
    return info.value


# ---------------------------------------------------------------- round trips

def test_simple_expressions():
    data = {"x": 5, "y": "ja", "items": [1, 2, 3], "d": {"k": 1}}
    assert evaluate('x > 3 and y == "ja"', data) is True
    assert evaluate("x > 3 and y == 'nei'", data) is False
    assert evaluate("sum(items) + len(items) * 2", data) == 12
    assert evaluate("[i * i for i in items if i > 1]", data) == [4, 9]
    assert evaluate("d['k'] + d.get('missing', 10)", data) == 11
    assert evaluate("f'{x:>3}|{y!r}|{1.23456:.2f}'", data) == "  5|'ja'|1.23"
    assert evaluate("'%s-%03d' % (y, x)", data) == "ja-005"
    assert evaluate("sorted(zip(items, reversed(items)))", data) == [(1, 3), (2, 2), (3, 1)]
    assert evaluate("\n  x + 1\n", {"x": 1}) == 2  # leading whitespace in BPMN text
    assert data == {"x": 5, "y": "ja", "items": [1, 2, 3], "d": {"k": 1}}


def test_script_round_trips_data():
    data = {"x": 4, "gone": 1, "items": [1], "d": {"a": 1}, "kept": "same"}
    execute(
        "y = x * 2\n"
        "del gone\n"
        "items.append(2)\n"
        "d['b'] = 2\n"
        "del d['a']\n"
        "total = 0\n"
        "for i in range(5):\n"
        "    total += i\n"
        "n = 0\n"
        "while n < 3:\n"
        "    n += 1\n"
        "squares = {k: k * k for k in items}\n"
        "a, (b, c) = 1, (2, 3)\n"
        "def helper(v):\n"
        "    return v + 1\n"
        "h = helper(1)\n"
        "f = lambda: 0\n"
        "it = iter(items) if False else None\n"
        "print('discarded')\n",
        data,
    )
    assert data == {
        "x": 4, "items": [1, 2], "d": {"b": 2}, "kept": "same", "y": 8, "total": 10, "i": 4,
        "n": 3, "squares": {1: 1, 2: 4}, "a": 1, "b": 2, "c": 3, "h": 2, "it": None,
    }


def test_script_functions_modules_and_iterators_are_not_written_back():
    data = {}
    execute("def f():\n    return 1\ng = lambda: 2\nz = zip([1], [2])\nd = date\nv = f() + g()", data)
    assert data == {"v": 3}


def test_script_error_writes_nothing_back():
    data = {"x": 1}
    with pytest.raises(SandboxError):
        execute("x = 2\ny = 3\nz = 1 / 0", data)
    assert data == {"x": 1}


def test_empty_script_is_a_no_op():
    data = {"x": 1}
    execute("", data)
    execute("   \n", data)
    assert data == {"x": 1}
    check_script("")


def test_dates_are_available_but_not_the_datetime_module():
    assert evaluate("date.today()", {}) == date.today()
    assert isinstance(evaluate("datetime.now()", {}), datetime)
    assert evaluate("date(2024, 1, 31) + timedelta(days=1)", {}) == date(2024, 2, 1)
    assert evaluate("date(2024, 5, 17).strftime('%d.%m.%Y')", {}) == "17.05.2024"
    assert evaluate("datetime.strptime('2024-01-02', '%Y-%m-%d').year", {}) == 2024
    assert evaluate("f'{date(2024, 1, 2):%Y}'", {}) == "2024"
    # 'datetime' is the class, never the module
    assert evaluate("datetime", {}) is datetime
    refused("datetime.datetime")
    refused("datetime.timezone")
    refused("d.__class__", {"d": date.today()})


def test_allowed_builtins_are_curated():
    names = sandbox.ALLOWED_BUILTINS
    for name in ("len", "min", "max", "sum", "sorted", "abs", "round", "any", "all", "str",
                 "int", "float", "bool", "list", "dict", "set", "tuple", "enumerate", "zip",
                 "reversed", "isinstance", "range", "date", "datetime", "timedelta",
                 "None", "True", "False", "KeyError", "ValueError"):
        assert name in names
    for name in ("__import__", "open", "exec", "eval", "compile", "getattr", "setattr",
                 "delattr", "globals", "locals", "vars", "type", "object", "super", "input",
                 "help", "memoryview", "breakpoint", "id", "pow", "dir", "__build_class__"):
        assert name not in names


# ---------------------------------------------------------------- escapes

@pytest.mark.parametrize("source", [
    "__import__('os')",
    "().__class__.__base__.__subclasses__()",
    "(lambda: 0).__globals__",
    "open('/etc/passwd')",
    "getattr(x, 'y')",
    "setattr(x, 'y', 1)",
    "eval('1')",
    "exec('x=1')",
    "compile('1', 'f', 'eval')",
    "type(x)",
    "object()",
    "globals()",
    "vars()",
    "\"{0.__class__}\".format(1)",
    "'{x}'.format_map({'x': 1})",
    "str.format('{0}', 1)",
    "x.__class__",
    "[].append.__self__",
    "breakpoint()",
    "__builtins__",
])
def test_escape_attempts_are_refused(source):
    refused(source, {"x": 1})


def test_import_statements_are_refused():
    error = refused("import os", script=True)
    assert error.line == 1 and "Import" in error.message
    refused("from os import path", script=True)
    refused("import os", script=False)
    with pytest.raises(SandboxError):
        check_script("import os")


def test_open_is_not_available():
    error = refused("open('/etc/passwd').read()")
    assert "NameError" in error.message and "open" in error.message


def test_module_smuggled_in_through_data_is_refused():
    error = refused("m.system('true')", {"m": os})
    assert "module" in error.message
    refused("m.path", {"m": os})
    refused("m.modules", {"m": sys})

    class Holder:
        pass

    holder = Holder()
    holder.mod = os
    error = refused("h.mod", {"h": holder})
    assert "module" in error.message
    data = {"m": os}
    execute("n = m", data)  # passing it around is harmless; it is not written back
    assert data == {"m": os}


def test_writes_only_to_plain_containers():
    refused("d.year = 2000", {"d": date(2024, 1, 1)}, script=True)
    refused("t[0] = 1", {"t": (0,)}, script=True)
    data = {"l": [0], "m": {}, "s": {1}}
    execute("l[0] = 1\nm['k'] = 2\ns.add(2)", data)
    assert data == {"l": [1], "m": {"k": 2}, "s": {1, 2}}


def test_class_with_generators_and_odd_except_clauses_are_refused():
    for source in ("class A:\n    pass",
                   "with x:\n    pass",
                   "def g():\n    yield 1",
                   "try:\n    pass\nexcept (f()):\n    pass"):
        with pytest.raises(SandboxError):
            check_script(source)


def test_print_is_discarded():
    data = {}
    execute("print('hello')\nx = printed", data)
    assert data == {"x": ""}


# ---------------------------------------------------------------- time bounds

def test_infinite_loop_times_out():
    started = time.perf_counter()
    error = refused("while True: pass", script=True, time_limit=0.2)
    elapsed = time.perf_counter() - started
    assert isinstance(error, SandboxTimeout)
    assert "time limit" in error.message and error.line == 1
    assert elapsed < 5  # generous: only proves the loop was stopped


@pytest.mark.parametrize("source", [
    "while True:\n    x = 1",
    "n = 0\nwhile n >= 0:\n    n += 1",
    "r = [1 for i in range(100000) for j in range(100000)]",
    "r = sum(1 for i in range(100000) for j in range(100000))",
    "def f(n):\n    return f(n + 1) if n < 500 else f(0)\nf(0)",
    # a caught timeout is raised again in the handler
    "while True:\n    try:\n        while True:\n            pass\n    except Exception:\n        pass",
    "try:\n    while True: pass\nfinally:\n    while True: pass",
    # tracing is re-installed after a RecursionError escaped from the trace function
    "def f():\n    try:\n        f()\n    except RecursionError:\n        pass\n"
    "    for i in range(100000):\n        for j in range(100000):\n            pass\nf()",
])
def test_other_endless_code_times_out(source):
    error = refused(source, script=True, time_limit=0.2)
    assert isinstance(error, (SandboxTimeout, SandboxError))
    if "RecursionError" not in error.message:
        assert isinstance(error, SandboxTimeout)


def test_previous_trace_function_is_restored():
    calls = []

    def tracer(frame, event, arg):
        calls.append(event)

    sys.settrace(tracer)
    try:
        evaluate("1 + 1", {})
        refused("while True: pass", script=True, time_limit=0.05)
        current = sys.gettrace()
    finally:
        sys.settrace(None)
    assert current is tracer


# ---------------------------------------------------------------- size bounds

@pytest.mark.parametrize("source", [
    "10**10**10",
    "'a' * 10**10",
    "[0] * 10**10",
    "10**10 * [0]",
    "(0,) * 10**10",
    "1 << 10**7",
    "(10**5000) * (10**6000)",
    "'a'.ljust(10**10)",
    "'a'.center(10**10)",
    "'0'.zfill(10**10)",
    "str.ljust('a', 10**10)",
    "('a' * 10**6).replace('a', 'a' * 10**6)",
    "'-'.join(['a' * 10**6] * 10**6)",
    "f'{1:>10000000000}'",
    "f'{1.5:.10000000000f}'",
    "'%10000000000d' % 1",
    "'%*d' % (10**10, 1)",
    "(1).to_bytes(10**10, 'big')",
    "round(1, -10**9)",
    "sum([[0] * 10**6] * 100, [])",
    "range(10**9)",
    "len(range(100001))",
])
def test_huge_results_are_refused(source):
    error = refused(source)
    assert not isinstance(error, SandboxTimeout)


@pytest.mark.parametrize("source", [
    "x = 9\nx **= 10**6",
    "x = 'ab'\nx *= 10**10",
    "x = [0]\nx *= 10**10",
    "x = 1\nx <<= 10**7",
    "x = [0] * 10**6\nx += x",
    "x = [0] * 10**6\nx.extend(x)",
    "s = 'ab'\nwhile True:\n    s = s + s",
])
def test_augmented_and_growing_results_are_refused(source):
    error = refused(source, script=True, time_limit=5)
    assert not isinstance(error, SandboxTimeout)
    assert "too large" in error.message


def test_moderate_sizes_still_work():
    assert evaluate("2 ** 100", {}) == 2 ** 100
    assert evaluate("len('ab' * 1000)", {}) == 2000
    assert evaluate("len([0] * 100000)", {}) == 100000
    assert evaluate("1 << 64", {}) == 2 ** 64
    assert evaluate("2.0 ** 0.5", {}) == pytest.approx(1.41421356)
    assert evaluate("len(range(100000))", {}) == 100000
    assert evaluate("'x'.ljust(5, '.')", {}) == "x...."
    assert evaluate("'a-b'.replace('-', '+')", {}) == "a+b"
    data = {"x": 3}
    execute("x **= 3\ny = [1]\ny += [2]\ny *= 2", data)
    assert data == {"x": 27, "y": [1, 2, 1, 2]}


# ---------------------------------------------------------------- errors

@pytest.mark.parametrize("source, kind", [
    ("1 / 0", "ZeroDivisionError"),
    ("missing + 1", "NameError"),
    ("{}['k']", "KeyError"),
    ("1 + 'a'", "TypeError"),
    ("int('x')", "ValueError"),
])
def test_user_errors_become_sandbox_errors(source, kind):
    error = refused(source)
    assert kind in error.message
    assert error.line == 1


def test_runtime_error_reports_line():
    error = refused("a = 1\nb = 2\nc = a / 0\n", script=True)
    assert error.line == 3
    assert "ZeroDivisionError" in error.message and error.message.startswith("line 3:")
    error = refused("a = 1\n\nraise ValueError('nope')", script=True)
    assert error.line == 3 and "ValueError: nope" in error.message


def test_user_exceptions_can_be_caught_inside():
    data = {}
    execute("try:\n    1 / 0\nexcept ZeroDivisionError as e:\n    msg = str(e)", data)
    assert data == {"msg": "division by zero"}


def test_check_functions_report_the_line():
    check_expression("x > 3 and y == 'ja'")
    check_script("a = 1\nfor i in range(3):\n    a += i\n")
    with pytest.raises(SandboxError) as info:
        check_script("a = 1\nb = 2\nc = a.__class__\n")
    assert info.value.line == 3 and "__class__" in info.value.message
    with pytest.raises(SandboxError) as info:
        check_script("x = 1\n\nimport os\n")
    assert info.value.line == 3
    with pytest.raises(SandboxError) as info:
        check_expression("(x > 1 and\n  y.__class__)")
    assert info.value.line == 2
    with pytest.raises(SandboxError) as info:
        check_script("a = 1\nb = (a +\n")
    assert info.value.line == 2 and "SyntaxError" in info.value.message
    with pytest.raises(SandboxError) as info:
        check_expression("x = 1")  # a statement is not an expression
    assert info.value.line == 1
    with pytest.raises(SandboxError):
        check_expression("")
    with pytest.raises(SandboxError):
        check_expression(None)


def test_compiled_code_is_cached():
    sandbox._compile.cache_clear()
    for _ in range(3):
        evaluate("x + 1", {"x": 1})
    info = sandbox._compile.cache_info()
    assert info.misses == 1 and info.hits == 2


def test_concurrent_use_from_threads():
    results = {}
    errors = {}

    def worker(n):
        try:
            if n % 3 == 0:
                execute("while True:\n    pass", {}, time_limit=0.2)
            else:
                total = 0
                for i in range(200):
                    data = {"x": i, "n": n}
                    execute("y = x * n\nz = [y] * 3", data)
                    total += evaluate("z[0] + 1", data)
                results[n] = total
        except SandboxError as exc:
            errors[n] = exc

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(9)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not any(thread.is_alive() for thread in threads)
    assert set(errors) == {0, 3, 6}
    assert all(isinstance(exc, SandboxTimeout) for exc in errors.values())
    for n, total in results.items():
        assert total == sum(i * n + 1 for i in range(200))


# ---------------------------------------------------------------- SpiffWorkflow

BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
                  xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
                  id="defs" targetNamespace="http://example.org/bpmn">
  <bpmn:process id="proc" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:scriptTask id="double" scriptFormat="python">
      <bpmn:incoming>f1</bpmn:incoming>
      <bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:script>SCRIPT</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:exclusiveGateway id="gw">
      <bpmn:incoming>f2</bpmn:incoming>
      <bpmn:outgoing>f_big</bpmn:outgoing>
      <bpmn:outgoing>f_small</bpmn:outgoing>
    </bpmn:exclusiveGateway>
    <bpmn:endEvent id="end_big"><bpmn:incoming>f_big</bpmn:incoming></bpmn:endEvent>
    <bpmn:endEvent id="end_small"><bpmn:incoming>f_small</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="double"/>
    <bpmn:sequenceFlow id="f2" sourceRef="double" targetRef="gw"/>
    <bpmn:sequenceFlow id="f_big" sourceRef="gw" targetRef="end_big">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">y &gt; 5</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f_small" sourceRef="gw" targetRef="end_small">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">y &lt;= 5</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
  </bpmn:process>
</bpmn:definitions>
"""


def run_workflow(x, script="y = x * 2"):
    parser = SpiffBpmnParser()
    parser.add_bpmn_str(BPMN.replace("SCRIPT", script).encode("utf-8"))
    spec = parser.get_spec("proc")
    workflow = BpmnWorkflow(spec, script_engine=PythonScriptEngine(environment=SandboxEnvironment()))
    for task in workflow.get_tasks(state=TaskState.READY):
        task.data["x"] = x
    workflow.do_engine_steps()
    return workflow


def completed(workflow):
    return {t.task_spec.bpmn_id for t in workflow.get_tasks(state=TaskState.COMPLETED)}


@pytest.mark.parametrize("x, end, other", [(4, "end_big", "end_small"), (2, "end_small", "end_big")])
def test_spiff_workflow_runs_in_the_sandbox(x, end, other):
    workflow = run_workflow(x)
    assert workflow.is_completed()
    done = completed(workflow)
    assert end in done and other not in done
    assert workflow.last_task.data == {"x": x, "y": 2 * x}


def test_spiff_workflow_refuses_import():
    with pytest.raises(WorkflowTaskException) as info:
        run_workflow(4, script="import os\ny = x * 2")
    assert info.value.error_type == "SandboxError"
    assert "Import statements are not allowed" in str(info.value)
    assert info.value.task.task_spec.bpmn_id == "double"


def test_spiff_workflow_reports_script_line():
    with pytest.raises(WorkflowTaskException) as info:
        run_workflow(4, script="y = x * 2\nz = y / 0")
    assert "ZeroDivisionError" in str(info.value)
    assert info.value.line_number == 2 and info.value.error_line == "z = y / 0"


def test_environment_external_context_is_visible_but_not_written_back():
    env = SandboxEnvironment(time_limit=0.5, environment_globals={"limit": 10})
    context = {"x": 3}
    assert env.evaluate("x < limit and x == ext", context, external_context={"ext": 3}) is True
    assert env.execute("y = x + ext + limit\next = 99\nlimit = 1", context, {"ext": 1}) is True
    assert context == {"x": 3, "y": 14}
    with pytest.raises(SandboxTimeout):
        env.execute("while True:\n    pass", {}, None)
