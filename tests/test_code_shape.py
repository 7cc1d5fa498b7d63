"""
The shape of the code, as a newcomer relies on it: no import cycle among our
modules (imports inside functions included, which import-linter's contracts
do not see as cycles), and no private name of Django or any library used
outside the tests, so an upgrade cannot break us silently.
"""

from __future__ import annotations

import ast
from pathlib import Path

from django.test import SimpleTestCase

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("signatures", "letter_site")
# Django documents these as public API despite the underscore (the Model _meta
# API and Model._default_manager), so using them is not reaching into internals.
DOCUMENTED_UNDERSCORE_NAMES = {"_meta", "_default_manager"}


def project_files() -> dict[str, Path]:
    """{dotted module name: file} for every module of ours but migrations."""
    modules = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join(parts)] = path
    return modules


def imported_modules(name: str, path: Path, known: set[str]) -> set[str]:
    """The modules of ours that this module imports anywhere in its body."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            targets = [base] + [f"{base}.{alias.name}" for alias in node.names]
        else:
            continue
        found.update(target for target in targets if target in known)
    found.discard(name)
    return found


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for successor in graph[node]:
            if successor not in index:
                visit(successor)
                low[node] = min(low[node], low[successor])
            elif successor in on_stack:
                low[node] = min(low[node], index[successor])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return groups


def names_defined_by_us(files: dict[str, Path]) -> set[str]:
    defined = set()
    for path in files.values():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                defined.add(node.name)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                defined.add(node.id)
            elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
                defined.add(node.attr)
            elif isinstance(node, ast.arg):
                defined.add(node.arg)
    return defined


class CodeShapeTests(SimpleTestCase):
    def test_no_import_cycle_among_our_modules_counting_imports_inside_functions(self):
        files = project_files()
        known = set(files)
        graph = {name: imported_modules(name, path, known) for name, path in files.items()}
        # A package's __init__ re-exporting its own modules is not a cycle a reader trips over.
        graph = {name: {t for t in targets if not name.startswith(f"{t}.")} for name, targets in graph.items()}
        assert cycles(graph) == []

    def test_the_check_finds_a_cycle_when_there_is_one(self):
        assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]

    def test_no_private_name_of_django_or_a_library_is_used_outside_the_tests(self):
        files = project_files()
        ours = names_defined_by_us(files)
        found = []
        for name, path in files.items():
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.ImportFrom) and node.level == 0:
                    module = node.module or ""
                    if module == "__future__" or module.startswith(PACKAGES):
                        continue
                    found += [f"{name}: from {module} import {a.name}" for a in node.names if a.name.startswith("_")]
                    if any(part.startswith("_") for part in module.split(".")):
                        found.append(f"{name}: from {module}")
                elif isinstance(node, ast.Attribute):
                    private = node.attr.startswith("_") and not node.attr.startswith("__")
                    if private and node.attr not in ours and node.attr not in DOCUMENTED_UNDERSCORE_NAMES:
                        found.append(f"{name}:{node.lineno}: {ast.unparse(node)}")
        assert found == []
