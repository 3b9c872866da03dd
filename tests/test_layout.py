"""The layout the data flows through: blurgen never imports train, and train's modules import each
other without cycles."""

import ast
from pathlib import Path

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
    for package in ("albumentations", "albucore", "kornia", "deepinv"):
        offenders = {str(path.relative_to(ROOT)): imported(path, package)
                     for folder in ("blurgen", "train") for path in (ROOT / folder).rglob("*.py")}
        assert not {path: names for path, names in offenders.items() if names}, package


def test_train_modules_import_each_other_without_cycles():
    graph = {f"train.{path.stem}": imported(path, "train") for path in (ROOT / "train").glob("*.py")}
    done, active = set(), []

    def visit(module: str) -> None:
        assert module not in active, " -> ".join(active[active.index(module):] + [module])
        if module in done:
            return
        active.append(module)
        for target in graph.get(module, ()):
            visit(target)
        active.pop()
        done.add(module)

    for module in graph:
        visit(module)
