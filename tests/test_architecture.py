"""The package's layers (ARCHITECTURE.md), checked on the source: what may import what, and that
nothing is computed from the project root when a module is imported."""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from dlgrade.core.project import PACKAGE_DIR, Project

# Lowest first; a module may import from its own layer and those before it.
LAYERS = ("core", "boundary", "checkkit", "plugin", "learner", "grading", "shipping", "dev", "__main__")
SOURCES = sorted(PACKAGE_DIR.rglob("*.py"))


def layer_of(module: str) -> int | None:
    """The layer index of a dlgrade module ('dlgrade.core.i18n' -> 0); None outside the layers."""
    parts = module.split(".")
    if parts[0] != "dlgrade" or len(parts) < 2:
        return None
    return LAYERS.index(parts[1]) if parts[1] in LAYERS else None


def module_name(path: Path) -> str:
    relative = path.relative_to(PACKAGE_DIR.parent).with_suffix("")
    parts = relative.parts[:-1] if relative.name == "__init__" else relative.parts
    return ".".join(parts)


def imported_modules(source: str, module: str, is_package: bool = False) -> list[tuple[str, int]]:
    """(module, line) of every import in `source`, at any depth, relative ones resolved."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                package = module.split(".")[: len(module.split(".")) - node.level + (1 if is_package else 0)]
                base = ".".join(package + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            found.append((base, node.lineno))
            # `from dlgrade import grading` names a module too
            found += [(f"{base}.{alias.name}", node.lineno) for alias in node.names if layer_of(f"{base}.{alias.name}")
                      is not None and layer_of(base) is None]
    return found


def layer_violations(source: str, module: str, is_package: bool = False) -> list[str]:
    """'module:line imports other' for every import of a higher layer than `module`'s own."""
    own = layer_of(module)
    if own is None:
        return []
    return [f"{module}:{line} imports {other} ({LAYERS[layer_of(other)]} is above {LAYERS[own]})"
            for other, line in imported_modules(source, module, is_package)
            if layer_of(other) is not None and layer_of(other) > own]


def test_every_module_is_in_a_layer():
    outside = [module_name(p) for p in SOURCES if layer_of(module_name(p)) is None]
    assert outside == ["dlgrade"], f"modules outside the layers of ARCHITECTURE.md: {outside}"


def test_no_module_imports_from_a_higher_layer():
    violations = []
    for path in SOURCES:
        violations += layer_violations(path.read_text(encoding="utf-8"), module_name(path),
                                       path.name == "__init__.py")
    assert not violations, "\n".join(violations)


@pytest.mark.parametrize("module,source", [
    ("dlgrade.core.records", "from dlgrade.plugin.state import state_of\n"),
    ("dlgrade.checkkit.targets", "def f():\n    import dlgrade.learner.report\n"),
    ("dlgrade.plugin.summary", "from dlgrade import grading\n"),
    ("dlgrade.plugin.summary", "from ..learner import hint\n"),
])
def test_an_import_of_a_higher_layer_is_caught(module, source):
    assert layer_violations(source, module), source


def test_imports_of_the_same_or_a_lower_layer_pass():
    assert not layer_violations("from dlgrade.core import i18n\nfrom . import state\nimport pytest\n",
                                "dlgrade.plugin.summary")


def import_time_calls(source: str, name: str) -> list[int]:
    """Lines where `<anything>.{name}()` runs when the module is imported: at module level, in a
    class body, a decorator or a default value; not inside a function's body."""
    lines = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == name:
            lines.append(node.lineno)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            evaluated = [*node.args.defaults, *[d for d in node.args.kw_defaults if d is not None]]
            if not isinstance(node, ast.Lambda):
                evaluated += node.decorator_list
            for child in evaluated:
                visit(child)
            return
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(source))
    return lines


def test_no_module_locates_the_project_when_imported():
    found = [f"{path.relative_to(PACKAGE_DIR.parent)}:{line}" for path in SOURCES
             for line in import_time_calls(path.read_text(encoding="utf-8"), "locate")]
    assert not found, f"Project.locate() runs at import time (call it when the command or run starts): {found}"


def test_the_import_time_finder_sees_defaults_and_class_bodies():
    source = ("def f(root=Project.locate()):\n    return Project.locate()\n"
              "class C:\n    ROOT = Project.locate()\n")
    assert import_time_calls(source, "locate") == [1, 4]


# Module paths that other code names as strings (`-p dlgrade.plugin`, `python -m ...`, a factory
# "dlgrade.checkkit.rank_probes:make_cnn", the command table): a move must update every one.
NAMED_MODULE = re.compile(r"""["'`(\s](dlgrade(?:\.(?!__)[a-z_][a-z0-9_]*)+)(?::([A-Za-z_]\w*))?""")


def test_module_paths_named_in_strings_exist():
    root = Project.locate().root
    files = [*SOURCES, *PACKAGE_DIR.glob("shipping/templates/*/*"), root / "conftest.py", root / "pyproject.toml",
             *root.glob("checks/*.py"),
             *root.glob("solutions/*.py"), *root.glob("exercises/*.py"), *root.glob("tests/*.py")]
    missing = []
    for path in files:
        for match in NAMED_MODULE.finditer(path.read_text(encoding="utf-8")):
            dotted, attribute = match.groups()
            module = module_file(dotted)
            if module is None and attribute is None:  # dlgrade.core.i18n.tr: a module's attribute
                dotted, attribute = dotted.rsplit(".", 1)
                module = module_file(dotted)
            if module is None or (attribute and not defines(module, attribute)):
                missing.append(f"{path.relative_to(root)}: {match.group(0).strip()}")
    assert not missing, missing


def module_file(dotted: str) -> Path | None:
    """The source file of module `dotted` in this checkout, without importing it."""
    base = PACKAGE_DIR.parent.joinpath(*dotted.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def defines(path: Path, name: str) -> bool:
    """Whether the module at `path` binds `name` at its top level."""
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.name == name:
            return True
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and t.id == name for t in targets):
                return True
        if isinstance(node, (ast.Import, ast.ImportFrom)) and any((a.asname or a.name) == name for a in node.names):
            return True
    return False
