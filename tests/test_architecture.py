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
