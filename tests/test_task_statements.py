"""Every task statement of exercises/ is in Chinese and English, Chinese first, and both say the same.

A learner's task is the docstring of the module and of each public function and class of
exercises/*.py (generated from solutions/, which is where they are written). The convention:

    中文的题目……
    English:
    The task in English...

the Chinese text, then a line that is exactly `English:`, then the English text. Both parts name
the same things: every `code` span in backticks of one part appears in the other, every argument
of the function that one part names the other names too, and so does every shape written as a
tuple or list of sizes, such as (batch, 3, 224, 224).

Read with the AST, so a file that does not import (a library missing) is still checked.
"""
from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

import pytest

from dlgrade.core.i18n import has_cjk
from dlgrade.core.project import Project

EXERCISES = sorted(Project.locate().exercises.glob("*.py"))
SEPARATOR = "English:"
CODE_SPAN = re.compile(r"(`+)(.+?)\1", re.DOTALL)
# A shape: two or more sizes (names or numbers) in brackets, separated by commas or an x.
SHAPE = re.compile(r"[(\[]\s*[A-Za-z0-9_]+(?:\s*(?:,|x|×)\s*[A-Za-z0-9_]+)+\s*,?\s*[)\]]")
IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# A quoted title may be Chinese in the English part too (a cited blog post).
QUOTED = re.compile(r'"[^"\n]*"|“[^”]*”')
# Chinese punctuation that a shape or a list written in Chinese may use.
FULL_WIDTH = str.maketrans({"（": "(", "）": ")", "，": ",", "【": "[", "】": "]", "：": ":"})


def code_spans(text: str) -> set[str]:
    return {match.group(2).strip() for match in CODE_SPAN.finditer(text)}


def prose(text: str) -> str:
    """`text` with each code span replaced by one mark."""
    return CODE_SPAN.sub("§", text)


def shapes(text: str) -> set[str]:
    """The shapes `text` writes outside code spans: sizes in brackets, one of them a number, or all
    of them one or two letters, as in (batch, 3, 224, 224) or (B, T, D); (pixels, x_min, y_min) is prose."""
    found = set()
    for match in SHAPE.finditer(prose(text).translate(FULL_WIDTH)):
        sizes = re.findall(r"[A-Za-z0-9_]+", match.group(0))
        if any(size.isdigit() for size in sizes) or all(len(size) <= 2 for size in sizes):
            found.add(", ".join(sizes))
    return found


def named(name: str, text: str, *, in_prose: bool) -> bool:
    """Whether `text` names `name`: in a code span, or also as a word of the prose `in_prose`
    (Chinese prose: an ASCII word there is always meant; in English "the model" may be the word).
    Chinese letters count as word characters to `\\b`, so the boundaries are spelt out."""
    if any(name in IDENTIFIER.findall(span) for span in code_spans(text)):
        return True
    return in_prose and re.search(rf"(?<![A-Za-z0-9_]){re.escape(name)}(?![A-Za-z0-9_])", prose(text)) is not None


def arguments(node: ast.AST) -> list[str]:
    if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return []
    args = node.args
    every = [*args.posonlyargs, *args.args, *args.kwonlyargs, *filter(None, (args.vararg, args.kwarg))]
    return [a.arg for a in every if a.arg not in ("self", "cls")]


def problems(docstring: str | None, node: ast.AST) -> list[str]:
    """What is wrong with one task statement (nothing: [])."""
    if not docstring:
        return ["no docstring: the task statement is missing"]
    text = inspect.cleandoc(docstring)
    lines = text.splitlines()
    if lines.count(SEPARATOR) != 1:
        return [f"{lines.count(SEPARATOR)} lines are exactly {SEPARATOR!r}; the convention is the Chinese text, "
                f"one line {SEPARATOR!r}, then the English text"]
    cut = lines.index(SEPARATOR)
    chinese, english = "\n".join(lines[:cut]).strip(), "\n".join(lines[cut + 1:]).strip()
    found = []
    if not has_cjk(prose(chinese)):
        found.append("the part before English: has no Chinese")
    if not english or has_cjk(QUOTED.sub("", prose(english))):
        found.append("the part after English: is empty or holds Chinese outside code spans and quoted titles")
    for only, there, missing in ((code_spans(chinese) - code_spans(english), "Chinese", "English"),
                                 (code_spans(english) - code_spans(chinese), "English", "Chinese")):
        if only:
            found.append(f"code spans in the {there} only, missing from the {missing}: {sorted(only)}")
    for name in arguments(node):
        if named(name, chinese, in_prose=True) and not named(name, english, in_prose=True):
            found.append(f"argument {name!r} is named in the Chinese only")
        if named(name, english, in_prose=False) and not named(name, chinese, in_prose=True):
            found.append(f"argument {name!r} is named in the English only")
    if shapes(chinese) != shapes(english):
        found.append(f"shapes differ: Chinese {sorted(shapes(chinese))}, English {sorted(shapes(english))}")
    return found


def statements(path: Path) -> list[tuple[str, str | None, ast.AST]]:
    """(where, docstring, node) of the module and of each public function, class and documented public method."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    found: list[tuple[str, str | None, ast.AST]] = [("module docstring", ast.get_docstring(tree), tree)]
    for node in tree.body:
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) or node.name.startswith("_"):
            continue
        found.append((f"{node.name} (line {node.lineno})", ast.get_docstring(node), node))
        if isinstance(node, ast.ClassDef):
            found += [(f"{node.name}.{method.name} (line {method.lineno})", ast.get_docstring(method), method)
                      for method in node.body if isinstance(method, (ast.FunctionDef, ast.AsyncFunctionDef))
                      and not method.name.startswith("_") and ast.get_docstring(method)]
    return found


@pytest.mark.parametrize("path", EXERCISES, ids=lambda p: p.name)
def test_every_task_statement_is_in_chinese_then_english(path):
    report = [f"{where}: {problem}" for where, docstring, node in statements(path)
              for problem in problems(docstring, node)]
    assert not report, f"{path.name} (written in solutions/{path.name}, then `dlgrade dev stubs`):\n" + \
        "\n".join(report)


def test_the_rules_catch_what_they_promise():
    def check(source: str) -> list[str]:
        node = ast.parse(source).body[0]
        return problems(ast.get_docstring(node), node)

    good = '''def f(images, scale):
        """把 `images` 乘以 scale，返回形状为 (batch, 3, 224, 224) 的张量（见“论文：第 2 节”）。

        English:
        Multiply `images` by scale; returns a tensor of shape (batch, 3, 224, 224) (see "论文：第 2 节").
        """'''
    assert check(good) == []
    assert check(good.replace("English:\n", "")) != []  # no separator
    assert check(good.replace("把 `images` 乘以", "把图片乘以")) == \
        ["code spans in the English only, missing from the Chinese: ['images']",
         "argument 'images' is named in the English only"]
    assert check(good.replace("by scale", "by the factor")) == ["argument 'scale' is named in the Chinese only"]
    assert check(good.replace("(batch, 3, 224, 224) 的", "（batch，3，224，224）的")) == []  # full-width
    assert check(good.replace("(batch, 3, 224, 224) (see", "(batch, 224, 224, 3) (see")) != []
    assert check(good.replace('(see "论文：第 2 节")', "(see 第 2 节)")) != []  # Chinese prose in the English
    assert check('def g():\n    """Only English."""') != []
    assert check("def h():\n    pass") == ["no docstring: the task statement is missing"]
