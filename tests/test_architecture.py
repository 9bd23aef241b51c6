"""The package's shape: no import cycle, SQL only in storage, the caller owns the transaction, small units."""
from __future__ import annotations

import ast
import importlib
import re
from collections.abc import Iterator
from pathlib import Path

import heshan_map
from heshan_map.views.errors import STATUS_BY_CODE, STATUS_BY_REASON

PACKAGE = Path(heshan_map.__file__).resolve().parent
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60
# Where a transaction may end: the web edge, the command line, the session plumbing, a streamed response's session.
TRANSACTION_OWNERS = ("heshan_map.views", "heshan_map.cli", "heshan_map.db", "heshan_map.streams")
# A string that reads as an SQL statement: its leading keyword, then one of the words that statement needs.
SQL_STATEMENT = re.compile(
    r"^\s*(?:SELECT\b[\s\S]*\bFROM|INSERT\s+INTO|UPDATE\s+\S+\s+SET|DELETE\s+FROM|"
    r"(?:CREATE|DROP|ALTER|TRUNCATE)\s+(?:TABLE|DATABASE|EXTENSION|INDEX|SCHEMA|VIEW)|WITH\s+\w+\s+AS\s*\(|"
    r"SET\s+(?:LOCAL\s+)?\w+\s*(?:=|TO)\b)")
# SQL that is not the service's: queries of an uploaded GeoPackage's own SQLite tables, checked before reading it.
SQL_ON_UPLOADED_FILES = {"heshan_map.ingest.gis_safety"}
LITERAL_NODES = (ast.Constant, ast.Dict, ast.List, ast.Tuple, ast.Set, ast.JoinedStr)
STATUS_NAME = re.compile(r"^(?:http_)?status(?:_code)?$")


def module_name(path: Path) -> str:
    """Return the dotted name of a module file of the package."""
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES: dict[str, Path] = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}
TREES: dict[str, ast.Module] = {name: ast.parse(path.read_text(encoding="utf-8"), str(path))
                                for name, path in MODULES.items()}


def is_package(name: str) -> bool:
    """Tell whether a module of the package is a package (an __init__.py)."""
    return MODULES[name].name == "__init__.py"


def imported_names(name: str, node: ast.Import | ast.ImportFrom) -> Iterator[str]:
    """Yield the absolute names an import statement of a module brings in (modules, or the module of a name)."""
    if isinstance(node, ast.Import):
        yield from (alias.name for alias in node.names)
        return
    if node.level:
        anchor = name.split(".") if is_package(name) else name.split(".")[:-1]
        anchor = anchor[:len(anchor) - (node.level - 1)]
        base = ".".join(anchor + ([node.module] if node.module else []))
    else:
        base = node.module or ""
    for alias in node.names:
        yield f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base


def imports_of(name: str) -> set[str]:
    """Return the modules of the package that a module imports, at module level or inside functions."""
    found = set()
    for node in ast.walk(TREES[name]):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            found.update(target for target in imported_names(name, node) if target in MODULES)
    return found - {name}


def external_imports_of(name: str) -> set[str]:
    """Return the top-level names of the distributions outside the package that a module imports."""
    found = set()
    for node in ast.walk(TREES[name]):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            found.add(node.module.split(".")[0])
    return found


GRAPH: dict[str, set[str]] = {name: imports_of(name) for name in MODULES}


def cycle_through(start: str, members: set[str]) -> list[str]:
    """Return one shortest import cycle from a module back to itself, staying within a strongly connected set."""
    paths = {start: [start]}
    queue = [start]
    while queue:
        current = queue.pop(0)
        for target in sorted(GRAPH[current] & members):
            if target == start:
                return paths[current] + [start]
            if target not in paths:
                paths[target] = paths[current] + [target]
                queue.append(target)
    return [start]


def strongly_connected(graph: dict[str, set[str]]) -> list[set[str]]:
    """Return the strongly connected sets of modules with more than one member (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            members = set()
            while True:
                member = stack.pop()
                members.add(member)
                if member == node:
                    break
            if len(members) > 1:
                found.append(members)

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def import_cycles() -> list[str]:
    """Return each import cycle of the package, one per strongly connected set, as 'a -> b -> a'."""
    return [" -> ".join(cycle_through(min(members), members)) + f"  (set of {len(members)}: {sorted(members)})"
            for members in strongly_connected(GRAPH)]


def owned_by(name: str, prefixes: tuple[str, ...]) -> bool:
    """Tell whether a module is one of the named modules or inside one of the named packages."""
    return any(name == prefix or name.startswith(prefix + ".") for prefix in prefixes)


def string_parts(node: ast.AST) -> Iterator[str]:
    """Yield the literal strings of a module, an f-string's literal parts joined with a placeholder."""
    for child in ast.walk(node):
        if isinstance(child, ast.JoinedStr):
            yield "".join(part.value if isinstance(part, ast.Constant) else "x" for part in child.values)
        elif isinstance(child, ast.Constant) and isinstance(child.value, str):
            yield child.value


def sql_outside_storage(name: str) -> list[str]:
    """Return where a module outside storage builds SQL: text(...), driver SQL, or a string reading as SQL."""
    found = []
    for node in ast.walk(TREES[name]):
        if isinstance(node, ast.Call):
            func = node.func
            called = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
            if called in ("text", "exec_driver_sql") and (called != "text" or imports_sqlalchemy_text(name)):
                found.append(f"line {node.lineno}: {called}(...)")
    for value in string_parts(TREES[name]):
        if SQL_STATEMENT.match(value):
            found.append(f"SQL string {value.strip()[:60]!r}")
    return found


def imports_sqlalchemy_text(name: str) -> bool:
    """Tell whether a module imports sqlalchemy's text (or sqlalchemy itself, reaching text as an attribute)."""
    for node in ast.walk(TREES[name]):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sqlalchemy"):
            if any(alias.name == "text" for alias in node.names):
                return True
        if isinstance(node, ast.Import) and any(alias.name.startswith("sqlalchemy") for alias in node.names):
            return True
    return False


def savepoint_names(tree: ast.AST) -> set[str]:
    """Return the names bound to a savepoint a module opens itself (x = session.begin_nested(), or with ... as x)."""
    names = set()
    for node in ast.walk(tree):
        pairs = [(target, node.value) for target in node.targets] if isinstance(node, ast.Assign) else \
            [(item.optional_vars, item.context_expr) for item in node.items] if isinstance(node, ast.With) else []
        for target, value in pairs:
            if (isinstance(target, ast.Name) and isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute)
                    and value.func.attr == "begin_nested"):
                names.add(target.id)
    return names


def transaction_ends(name: str) -> list[str]:
    """Return the lines where a module commits or rolls back a transaction that is not a savepoint of its own."""
    own = savepoint_names(TREES[name])
    return [f"line {node.lineno}: .{node.func.attr}()" for node in ast.walk(TREES[name])
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("commit", "rollback")
            and not (isinstance(node.func.value, ast.Name) and node.func.value.id in own)]


def is_data_literal(function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """Tell whether a function only returns or assigns one literal (after its docstring)."""
    body = function.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]
    return (len(body) == 1 and isinstance(body[0], (ast.Return, ast.Assign, ast.AnnAssign))
            and isinstance(body[0].value, LITERAL_NODES))


def long_functions(name: str) -> list[str]:
    """Return the functions of a module longer than the limit, data literals excepted."""
    found = []
    for node in ast.walk(TREES[name]):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and not is_data_literal(node):
            length = node.end_lineno - node.lineno + 1
            if length > MAX_FUNCTION_LINES:
                found.append(f"{node.name} (line {node.lineno}) has {length} lines")
    return found


def is_exception_class(name: str, class_name: str) -> bool:
    """Tell whether a class of a module, as the module defines it at run time, is an exception."""
    value = getattr(importlib.import_module(name), class_name, None)
    return isinstance(value, type) and issubclass(value, BaseException)


def status_on_exceptions(name: str) -> list[str]:
    """Return the status attributes and parameters of the exception classes of a module."""
    found = []
    for node in ast.walk(TREES[name]):
        if not isinstance(node, ast.ClassDef) or not is_exception_class(name, node.name):
            continue
        for child in ast.walk(node):
            targets: list[str] = []
            if isinstance(child, (ast.Assign, ast.AnnAssign)):
                for target in child.targets if isinstance(child, ast.Assign) else [child.target]:
                    targets += [target.id] if isinstance(target, ast.Name) else \
                        [target.attr] if isinstance(target, ast.Attribute) else []
            elif isinstance(child, ast.arg):
                targets.append(child.arg)
            found += [f"{node.name}.{target} (line {child.lineno})" for target in targets
                      if STATUS_NAME.match(target)]
    return found


def error_codes_and_reasons() -> tuple[dict[str, str], dict[str, str]]:
    """Return each literal error code and unsafe-file reason of the package, with where one is first given."""
    codes: dict[str, str] = {}
    reasons: dict[str, str] = {}
    for name, tree in TREES.items():
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                found = [(keyword.arg, keyword.value) for keyword in node.keywords if keyword.arg in ("code", "reason")]
                func = node.func
                if isinstance(func, ast.Name) and func.id in ("UnsafeFile", "OverBudget") and len(node.args) > 1:
                    found.append(("reason", node.args[1]))
            elif isinstance(node, ast.ClassDef) and is_exception_class(name, node.name):
                found = [(target.id, child.value) for child in node.body if isinstance(child, ast.Assign)
                         for target in child.targets if isinstance(target, ast.Name) and target.id == "code"]
                found += [(arg.arg, default) for function in node.body if isinstance(function, ast.FunctionDef)
                          for arg, default in zip(function.args.args[::-1], function.args.defaults[::-1])
                          if arg.arg == "reason"]
            else:
                continue
            for kind, value in found:
                if isinstance(value, ast.Constant) and isinstance(value.value, str):
                    (codes if kind == "code" else reasons).setdefault(value.value, f"{name} line {value.lineno}")
    return codes, reasons


def report(problems: dict[str, list[str]]) -> str:
    """Return problems per module, one module a line."""
    return "\n".join(f"{name}: {'; '.join(found)}" for name, found in sorted(problems.items()) if found)


def test_the_import_graph_sees_function_level_and_relative_imports() -> None:
    assert "heshan_map.db" in GRAPH["heshan_map.views.errors"]  # from .. import db
    assert "heshan_map.storage.users" in GRAPH["heshan_map.auth"]
    assert "heshan_map.views.api" in GRAPH["heshan_map"]  # inside create_app
    assert "flask" in external_imports_of("heshan_map.views.login")


def test_the_cycle_finder_names_a_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert strongly_connected(graph) == [{"a", "b", "c"}]


def test_no_import_cycle() -> None:
    cycles = import_cycles()
    assert not cycles, "import cycles:\n" + "\n".join(cycles)


def test_no_sql_outside_storage() -> None:
    assert SQL_STATEMENT.match("SELECT id FROM users WHERE id = :id")
    assert not SQL_STATEMENT.match("Select the sites to export")
    problems = {name: sql_outside_storage(name) for name in MODULES
                if not owned_by(name, ("heshan_map.storage",)) and name not in SQL_ON_UPLOADED_FILES}
    assert not report(problems), "SQL outside heshan_map/storage:\n" + report(problems)


def test_only_the_callers_end_transactions() -> None:
    sample = ast.parse("def f(s):\n    sp = s.begin_nested()\n    sp.rollback()\n    s.rollback()\n")
    assert savepoint_names(sample) == {"sp"}
    problems = {name: transaction_ends(name) for name in MODULES if not owned_by(name, TRANSACTION_OWNERS)}
    assert not report(problems), "commit/rollback outside views, CLI, db and streams:\n" + report(problems)


def test_modules_and_functions_are_small() -> None:
    lines = {name: len(path.read_text(encoding="utf-8").splitlines()) for name, path in MODULES.items()}
    problems = {name: ([f"{lines[name]} lines"] if lines[name] > MAX_MODULE_LINES else []) + long_functions(name)
                for name in MODULES}
    assert not report(problems), (f"modules over {MAX_MODULE_LINES} lines or functions over {MAX_FUNCTION_LINES}:\n"
                                  + report(problems))


def test_domain_exceptions_carry_no_http_status() -> None:
    problems = {name: status_on_exceptions(name) for name in MODULES if not owned_by(name, ("heshan_map.views",))}
    assert not report(problems), "status on exceptions outside views/:\n" + report(problems)


def test_ingest_knows_neither_storage_nor_the_web() -> None:
    problems = {}
    for name in MODULES:
        if owned_by(name, ("heshan_map.ingest",)):
            inner = {target for target in GRAPH[name]
                     if owned_by(target, ("heshan_map.storage", "heshan_map.db"))}
            problems[name] = sorted(inner | (external_imports_of(name) & {"flask", "werkzeug"}))
    assert not report(problems), "ingest imports storage, db or flask:\n" + report(problems)


def test_every_error_code_and_reason_has_its_status() -> None:
    codes, reasons = error_codes_and_reasons()
    assert {"conflict", "unauthorized", "csrf_failed", "precondition_failed"} <= set(codes)
    assert {"refused", "too_large", "invalid"} <= set(reasons)
    assert not {code: where for code, where in codes.items() if code not in STATUS_BY_CODE}
    assert not {reason: where for reason, where in reasons.items() if reason not in STATUS_BY_REASON}
