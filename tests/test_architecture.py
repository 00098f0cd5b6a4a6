"""The shape of the code: role checks only in permissions modules, imports only
downward, no discovery by module name. These read the source, so they fail on the
line that breaks the rule."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "community"

# Lower numbers are lower layers; a package may import its own layer's shared pieces
# (config, extensions) and any lower layer, never a higher one or a sibling.
LAYERS = {
    "config": 0,
    "extensions": 0,
    "core": 0,
    "accounts": 1,
    "places": 2,
    "notifications": 2,
    "inspections": 3,
    "hazards": 3,
    "residents": 3,
    "assessments": 4,
    "duty": 4,
    "mediation": 5,
    "outreach": 5,
    "reviews": 5,
    "audit": 5,
    "dashboard": 6,
}
# The application's root modules wire everything together.
ROOT_MODULES = {"__init__", "cli", "seed", "models"}


def _modules():
    for path in sorted(ROOT.rglob("*.py")):
        rel = path.relative_to(ROOT)
        yield rel, path.read_text(encoding="utf-8")


def _package(rel: Path) -> str:
    return rel.parts[0].removesuffix(".py")


def test_role_checks_live_in_permissions_modules():
    pattern = re.compile(r"\b(has_role|roles)\(")
    offenders = [
        f"{rel}:{n}: {line.strip()}"
        for rel, text in _modules()
        if rel.name != "permissions.py"
        for n, line in enumerate(text.splitlines(), 1)
        if pattern.search(line) and not line.lstrip().startswith("#")
    ]
    assert not offenders, "role checks outside a permissions module:\n" + "\n".join(offenders)


def _imported(text: str) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
    return {n for n in names if n.startswith("community.")}


def test_imports_run_downward_only():
    offenders = []
    for rel, text in _modules():
        package = _package(rel)
        if package in ROOT_MODULES or package == "translations":
            continue
        own = LAYERS[package]
        for name in sorted(_imported(text)):
            other = name.split(".")[1]
            if other == package or other not in LAYERS:
                continue
            if LAYERS[other] > own or (LAYERS[other] == own and own > 0):
                offenders.append(f"{rel} imports {name}")
    assert not offenders, "imports running upward or sideways:\n" + "\n".join(offenders)


def test_no_discovery_by_module_name():
    offenders = [
        str(rel)
        for rel, text in _modules()
        if re.search(r"\b(pkgutil|importlib)\b|except ModuleNotFoundError", text)
    ]
    assert not offenders, f"modules found by name instead of imported: {offenders}"


def test_the_checks_see_a_violation(tmp_path):
    """The upward-import and role-check patterns match what they must (no vacuous pass)."""
    assert _imported("from community.hazards.models import Hazard") >= {"community.hazards.models"}
    assert re.search(r"\b(has_role|roles)\(", "x = has_role(user, 'police')")
    assert not re.search(r"\b(has_role|roles)\(", "x = my_roles(user)")


# Role predicates and scope helpers given a role name answer "which role is this
# user?"; a caller outside a permissions module should ask the question it really
# has ("may this user assign that company?") of a helper that lives there.
ROLE_HELPERS = {"has_role", "roles", "scope_areas", "in_areas", "in_scope_area", "org_ids"}


def _role_predicates() -> set[str]:
    """Every `is_<role>`-style predicate a permissions module defines, plus ROLE_HELPERS."""
    names = set(ROLE_HELPERS)
    for path in ROOT.rglob("permissions.py"):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.FunctionDef) and node.name.startswith("is_"):
                names.add(node.name)
    return names


def _role_calls(text: str, predicates: set[str]) -> list[tuple[int, str]]:
    """(line, name) of each call of a role predicate, `name(...)` or `module.name(...)`."""
    calls = []
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
            if name in predicates:
                calls.append((node.lineno, name))
    return sorted(calls)


def test_role_predicates_are_called_only_in_permissions_modules():
    predicates = _role_predicates()
    offenders = [
        f"{rel}:{line}: {name}()"
        for rel, text in _modules()
        if rel.name != "permissions.py"
        for line, name in _role_calls(text, predicates)
    ]
    assert not offenders, (
        "role predicates or role-named scopes outside a permissions module (ask a helper "
        "of the feature's permissions.py instead):\n" + "\n".join(offenders)
    )


def _view_modules():
    for rel, text in _modules():
        if rel.name == "views.py" or rel.parent.name == "views":
            yield rel, text


def _commits(text: str) -> list[int]:
    """Lines committing other than through core.once.commit: `session.commit()`,
    `db.session.commit()`, or a bare `commit()` not imported from core.once."""
    tree = ast.parse(text)
    once_commit = any(
        isinstance(node, ast.ImportFrom)
        and node.module == "community.core.once"
        and any(a.name == "commit" and a.asname is None for a in node.names)
        for node in ast.walk(tree)
    )
    lines = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        if isinstance(node.func, ast.Attribute) and node.func.attr == "commit":
            lines.append(node.lineno)
        elif isinstance(node.func, ast.Name) and node.func.id == "commit" and not once_commit:
            lines.append(node.lineno)
    return sorted(lines)


def test_views_never_commit_themselves():
    """One commit point: a view's work is committed once, with its one-time token,
    by core.once.commit (which core.htmx's saved()/submit() call, and a view
    answering with a stream or a revealed record calls on its response); never
    by `db.session.commit()`."""
    views = list(_view_modules())
    assert len(views) >= 10, "the view modules were not found"
    offenders = [f"{rel}:{line}" for rel, text in views for line in _commits(text)]
    assert not offenders, "commits in view modules:\n" + "\n".join(offenders)


def _module_names() -> dict[str, Path]:
    names = {}
    for path in ROOT.rglob("*.py"):
        rel = path.relative_to(ROOT.parent).with_suffix("")
        parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
        names[".".join(parts)] = path
    return names


def _import_graph(sources: dict[str, str]) -> dict[str, set[str]]:
    """module -> modules it imports, at any depth of the file (function-level
    imports included). `from a.b import c` is an edge to a.b.c when that is a
    module, else to a.b. A package's __init__ importing its own submodules (the
    blueprint's registration at its end) is wiring, not a dependency, and is left
    out; a submodule importing its package (`from community.duty import bp`) counts."""
    graph: dict[str, set[str]] = {}
    for name, text in sources.items():
        is_package = name in _PACKAGES
        edges = set()
        for node in ast.walk(ast.parse(text)):
            targets = []
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                for alias in node.names:
                    full = f"{node.module}.{alias.name}"
                    targets.append(full if full in sources else node.module)
            elif isinstance(node, ast.Import):
                targets.extend(a.name for a in node.names)
            for target in targets:
                if target not in sources or target == name:
                    continue
                if is_package and target.startswith(name + "."):
                    continue
                edges.add(target)
        graph[name] = edges
    return graph


_PACKAGES = {".".join(p.relative_to(ROOT.parent).parts[:-1]) for p in ROOT.rglob("__init__.py")}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
    return found


def test_no_import_circles():
    sources = {name: path.read_text(encoding="utf-8") for name, path in _module_names().items()}
    circles = _cycles(_import_graph(sources))
    assert not circles, "modules importing each other (function-level imports included):\n" + (
        "\n".join(" <-> ".join(c) for c in circles)
    )


def test_the_shape_checks_see_a_violation():
    """Each check above matches what it must, so none passes vacuously."""
    predicates = _role_predicates()
    assert {"is_landlord", "is_police", "is_manager_only", "scope_areas", "org_ids"} <= predicates
    assert _role_calls("if is_police(current_user):\n    pass", predicates) == [(1, "is_police")]
    assert _role_calls("x = perms.in_areas(u, col, 'police')", predicates) == [(1, "in_areas")]
    assert _role_calls("x = inspects_areas(u)", predicates) == []
    assert _commits("def view():\n    db.session.commit()\n") == [2]
    assert _commits("def view():\n    return saved('ok')\n") == []
    assert _commits("from community.core.once import commit\nreturn commit(resp)\n") == []
    assert _commits("from x import commit\ncommit()\n") == [2]
    # A circle hidden in a function-level import is found; a package's own wiring is not.
    hidden = {
        "community.core.a": "from community.core import b\n",
        "community.core.b": "def f():\n    from community.core.a import x\n",
        "community.core": "",
    }
    assert _cycles(_import_graph(hidden)) == [["community.core.a", "community.core.b"]]
    straight = {"community.core.a": "from community.core import b\n", "community.core.b": ""}
    assert _cycles(_import_graph(straight)) == []


def _core_kinds(doc: str) -> dict[str, int]:
    """module -> kind number, read from the numbered list of core/__init__.py's
    docstring (or README's Architecture section): the first mention of a module
    name in backticks under "N." puts it in kind N."""
    core = ROOT / "core"
    kinds: dict[str, int] = {}
    for block in re.split(r"\n(?=\d\. )", doc)[1:]:
        number = int(block.split(".", 1)[0])
        body = block.split("\n\n", 1)[0]
        for name in re.findall(r"`([a-z_]+)`", body):
            if (core / f"{name}.py").exists():
                kinds.setdefault(name, number)
    return kinds


def _core_imports(text: str) -> list[tuple[int, str]]:
    """(line, core module) of every import of a core module, at any depth."""
    found = []
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "community.core":
                found.extend((node.lineno, a.name) for a in node.names)
            elif node.module.startswith("community.core."):
                found.append((node.lineno, node.module.split(".")[2]))
        elif isinstance(node, ast.Import):
            found.extend(
                (node.lineno, a.name.split(".")[2])
                for a in node.names
                if a.name.startswith("community.core.")
            )
    return found


def _upward_core_imports(kinds: dict[str, int], sources: dict[str, str]) -> list[str]:
    return [
        f"core/{module}.py:{line} ({kinds[module]}) imports {target} ({kinds[target]})"
        for module, text in sorted(sources.items())
        for line, target in _core_imports(text)
        if kinds.get(target, 0) > kinds.get(module, 99)
    ]


def test_core_modules_import_their_kind_and_below_as_documented():
    """The four kinds of core module written in core/__init__.py's docstring and in
    README.md are the same, name every core module, and every core import follows them."""
    core = ROOT / "core"
    doc = ast.get_docstring(ast.parse((core / "__init__.py").read_text(encoding="utf-8")))
    kinds = _core_kinds(doc)
    modules = {p.stem for p in core.glob("*.py")} - {"__init__"}
    assert modules - set(kinds) == set(), "core modules missing from the docstring's kinds"
    readme = (ROOT.parent / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Architecture", 1)[1].split("\n## ", 1)[0]
    assert _core_kinds(section) == kinds, "README's core kinds differ from core/__init__.py"
    sources = {m: (core / f"{m}.py").read_text(encoding="utf-8") for m in modules}
    upward = _upward_core_imports(kinds, sources)
    assert not upward, "core imports against its kinds:\n" + "\n".join(upward)
    # The check sees a violation: a data helper importing a web-plumbing module.
    planted = {"timeutil": "def f():\n    from community.core.htmx import render\n"}
    assert _upward_core_imports(kinds, planted) == [
        f"core/timeutil.py:2 ({kinds['timeutil']}) imports htmx ({kinds['htmx']})"
    ]
