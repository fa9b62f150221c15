"""The layout's rules, checked on every run (issue 9): the house keeps its plan.

`lint-imports` (import-linter, contracts in `.importlinter`) checks the layering between packages;
these tests add what it does not: no import circle between any two of our modules (imports inside
functions count: grimp sees them), no module path hidden in a string, and no module too long to read.
"""
from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("chatbot", "intents", "nlp", "chalicelib", "lexv2", "training")
MAX_LINES = 400


def _modules() -> list[Path]:
    files = [ROOT / "app.py"]
    for pkg in PACKAGES:
        files += sorted((ROOT / pkg).rglob("*.py"))
    return [f for f in files if "__pycache__" not in f.parts]


def test_import_linter_contracts_hold():
    """Given the contracts in .importlinter, When lint-imports runs, Then every contract is kept."""
    exe = Path(sys.executable).with_name("lint-imports")
    proc = subprocess.run([str(exe), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]


def _cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    out: list[list[str]] = []
    counter = 0
    for root in sorted(graph.modules):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root))))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            advanced = False
            for child in children:
                if child not in graph.modules:
                    continue
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.find_modules_directly_imported_by(child)))))
                    advanced = True
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                comp = []
                while True:
                    m = stack.pop()
                    on_stack.discard(m)
                    comp.append(m)
                    if m == node:
                        break
                if len(comp) > 1:
                    out.append(sorted(comp))
    return out


def test_no_import_circles_between_our_modules():
    """Given every import of our packages, those inside functions included, When the graph is
    searched for circles, Then there are none (a package's __init__ re-exporting its own modules
    does not count: a package importing its children is not a circle of behaviour)."""
    sys.path.insert(0, str(ROOT))
    graph = grimp.build_graph(*PACKAGES, cache_dir=None)
    cycles = []
    for comp in _cycles(graph):
        # Edges from a package __init__ to its own descendants are how a room shows its face.
        members = set(comp)
        sub = grimp.ImportGraph()
        for m in members:
            sub.add_module(m)
        for m in members:
            for imported in graph.find_modules_directly_imported_by(m):
                if imported in members and not imported.startswith(m + "."):
                    sub.add_import(importer=m, imported=imported)
        cycles += _cycles(sub)
    assert not cycles, "import circles:\n" + "\n".join(" <-> ".join(c) for c in cycles)


_PATH_IN_STRING = re.compile(r"^(?:%s)(?:\.\w+)+(?::\w+)?$" % "|".join(PACKAGES))


def test_no_module_paths_in_strings():
    """Given every string constant in our code, When read, Then none names one of our modules for a
    dynamic import ("nlp.triage:triage_email" in settings hid a dependency from every checker)."""
    found = []
    for f in _modules():
        tree = ast.parse(f.read_text(), filename=str(f))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) in (
                    "import_module", "__import__"):
                found.append(f"{f.relative_to(ROOT)}:{node.lineno} dynamic import")
            if (isinstance(node, ast.Constant) and isinstance(node.value, str) and _PATH_IN_STRING.match(node.value)
                    and not node.value.endswith(".amazonaws.com")):
                found.append(f"{f.relative_to(ROOT)}:{node.lineno} {node.value!r}")
    assert not found, "\n".join(found)


@pytest.mark.parametrize("path", [p.relative_to(ROOT).as_posix() for p in _modules()])
def test_module_is_short_enough_to_read(path):
    """Given a module of the deployed code or of training/, Then it has at most 400 lines."""
    lines = (ROOT / path).read_text().count("\n")
    assert lines <= MAX_LINES, f"{path} has {lines} lines"


def test_no_shared_logic_in_underscore_modules():
    """Given the packages, Then no module name starts with an underscore (shared logic gets a name)."""
    bad = [p.relative_to(ROOT).as_posix() for p in _modules()
           if p.name.startswith("_") and p.name not in ("__init__.py", "__main__.py")]
    assert not bad, bad
