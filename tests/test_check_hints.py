"""Every curriculum check carries a hint of its own, so a failure never shows another check's advice.

(The catalogue test, tests/test_i18n.py, insists that each hint has its Chinese.)
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from dlgrade.core.project import Project

CHECK_FILES = sorted(Project.locate().checks.glob("test_*.py"))


def _marker_names(node: ast.FunctionDef) -> set[str]:
    names = set()
    for decorator in node.decorator_list:
        call = decorator.func if isinstance(decorator, ast.Call) else decorator
        if isinstance(call, ast.Attribute) and ast.unparse(call).startswith("pytest.mark."):
            names.add(call.attr)
    return names


@pytest.mark.parametrize("path", CHECK_FILES, ids=[p.name for p in CHECK_FILES])
def test_every_check_has_its_own_hint(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    missing = [node.name for node in ast.walk(tree)
               if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")
               and "hint" not in _marker_names(node)]
    assert not missing, f"{path.name}: checks without @pytest.mark.hint(N_(...)): {missing}"

