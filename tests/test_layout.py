"""The layout the data flows through: blurgen never imports train, and train's modules import each
other without cycles."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def imported(path: Path, package: str) -> set[str]:
    """Modules of ``package`` that ``path`` imports (anywhere in the file)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == package:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names if alias.name.split(".")[0] == package}
    return names


def test_blurgen_never_imports_train():
    offenders = {str(path.relative_to(ROOT)): imported(path, "train") for path in (ROOT / "blurgen").rglob("*.py")}
    assert not {path: names for path, names in offenders.items() if names}


def test_the_blur_generators_blurgen_is_compared_with_are_never_imported_by_blurgen_or_train():
    # blurgen/adapters/ is where blurgen meets them, as optional components (tests/test_frameworks.py
    # checks that nothing else in blurgen imports the adapters)
    adapters = ROOT / "blurgen" / "adapters"
    for package in ("albumentations", "albucore", "kornia", "deepinv"):
        offenders = {str(path.relative_to(ROOT)): imported(path, package)
                     for folder in ("blurgen", "train") for path in (ROOT / folder).rglob("*.py") if adapters not in path.parents}
        assert not {path: names for path, names in offenders.items() if names}, package


def module_of(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph(package: str) -> dict[str, set[str]]:
    """Each module of ``package`` (its sub-packages included) -> the modules of it that it imports;
    ``from a.b import c`` counts as importing ``a.b.c`` when that is a module."""
    modules = {module_of(path) for path in (ROOT / package).rglob("*.py")}
    graph = {}
    for path in (ROOT / package).rglob("*.py"):
        targets = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == package:
                named = {f"{node.module}.{alias.name}" for alias in node.names} & modules
                targets |= named or {node.module}
            elif isinstance(node, ast.Import):
                targets |= {alias.name for alias in node.names if alias.name.split(".")[0] == package}
        graph[module_of(path)] = targets & modules - {module_of(path)}
    return graph


@pytest.mark.parametrize("package", ["blurgen", "train"])
def test_modules_import_each_other_without_cycles(package):
    graph = import_graph(package)
    done, active = set(), []

    def visit(module: str) -> None:
        assert module not in active, " -> ".join(active[active.index(module):] + [module])
        if module in done:
            return
        active.append(module)
        for target in sorted(graph.get(module, ())):
            visit(target)
        active.pop()
        done.add(module)

    for module in sorted(graph):
        visit(module)


def test_only_the_command_lines_import_the_project_inside_functions():
    # A command imports its own modules when it runs, so that `blurgen --help` and `train --help` start
    # fast; anywhere else an import inside a function would only hide a cycle from the test above.
    commands = {ROOT / "blurgen" / "cli.py", ROOT / "train" / "cli.py"}
    inside = {}
    for folder in ("blurgen", "train"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            if path in commands:
                continue
            for function in (n for n in ast.walk(ast.parse(path.read_text())) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))):
                for node in ast.walk(function):
                    names = [node.module or ""] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names] if isinstance(node, ast.Import) else []
                    if any(name.split(".")[0] in ("blurgen", "train") for name in names):
                        inside.setdefault(str(path.relative_to(ROOT)), []).append(node.lineno)
    assert not inside