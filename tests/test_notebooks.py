"""Exercises done in Jupyter notebooks: notebook targets (dlgrade/boundary/loader.py), the paired
notebooks of `dlgrade notebook` (dlgrade/learner/notebook.py) and `check()` from a cell
(dlgrade/learner/in_notebook.py)."""
from __future__ import annotations

import ast
import hashlib
import html
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import jupytext
import nbformat
import pytest
from gradelib import REPO_ROOT, SOLUTIONS_DIR, run_checks

from dlgrade.boundary.loader import NOTEBOOK_ONLY_TAG, STUB_DIGEST_KEY, LoadError, graded_file, load_module
from dlgrade.checkkit.targets import Target, TargetError
from dlgrade.core import curriculum as curriculum_mod
from dlgrade.core.results import CheckResult
from dlgrade.learner import in_notebook
from dlgrade.learner import notebook as notebook_mod
from dlgrade.learner.reset import replace_definitions

NOTEBOOK_SECTIONS = notebook_mod.NOTEBOOK_EXERCISES


def code(source: str, **metadata) -> nbformat.NotebookNode:
    return nbformat.v4.new_code_cell(textwrap.dedent(source).strip("\n"), metadata=metadata)


def write_notebook(path: Path, cells: list, **metadata) -> Path:
    notebook = nbformat.v4.new_notebook(cells=cells)
    notebook.metadata.update(metadata)
    nbformat.write(notebook, path)
    return path


def filled_notebook(section_id: str, lang: str = "en") -> nbformat.NotebookNode:
    """The notebook `dlgrade notebook` makes from the shipped stub, every function filled in from solutions/."""
    curriculum = curriculum_mod.load()
    section = curriculum.section(section_id)
    notebook = notebook_mod.build(curriculum, section, (REPO_ROOT / "exercises" / section.file).read_text(), lang)
    solution = (SOLUTIONS_DIR / section.file).read_text(encoding="utf-8")
    for cell in notebook.cells:
        if cell.cell_type == "code" and NOTEBOOK_ONLY_TAG not in cell.metadata.get("tags", []):
            names = [chunk.name for chunk in notebook_mod.chunks(cell.source) if chunk.name]
            cell.source = replace_definitions(cell.source, solution, names)
    return notebook


def notebook_target(folder: Path, section_ids: tuple[str, ...], *, keep_py: bool = False) -> Path:
    """A submission folder with the filled notebooks (and, with keep_py, the .py paired beside each)."""
    folder.mkdir(parents=True, exist_ok=True)
    curriculum = curriculum_mod.load()
    for section_id in section_ids:
        file = curriculum.section(section_id).file
        notebook_mod.pair(filled_notebook(section_id), folder / Path(file).with_suffix(".ipynb"), folder / file)
        if not keep_py:
            (folder / file).unlink()
    return folder


# ---------------------------------------------------------------- the notebook as a module


def test_code_cells_become_the_module_magics_and_shell_lines_do_nothing(tmp_path):
    """Magics and `!shell` lines go through IPython's transformer and do nothing; saved outputs,
    widget state and a kernel name no one has do not matter; notebook-only cells are left out."""
    first = code("""
        from __future__ import annotations
        %matplotlib inline
        !pip install something-that-does-not-exist
        files = !ls
        import math
    """)
    first.outputs = [nbformat.v4.new_output("stream", name="stdout", text="Collecting ...\n"),
                     nbformat.v4.new_output("display_data", data={"image/png": "iVBORw0KGgo=", "text/plain": "<Fig>"})]
    first.execution_count = 7
    cells = [
        nbformat.v4.new_markdown_cell("# notes"),
        first,
        code("""
            def root(x) -> NotDefinedAnywhere:
                return math.sqrt(x)
        """),
        code("""
            %%time
            four = root(16)
        """),
        code("""
            %%bash
            rm -rf /
        """),
        code("raise RuntimeError('only the notebook runs this')", tags=[NOTEBOOK_ONLY_TAG]),
        code("display(four)\nroot?"),
        nbformat.v4.new_raw_cell("raise RuntimeError('raw cells are not code')"),
    ]
    write_notebook(tmp_path / "ex9_demo.ipynb", cells,
                   kernelspec={"name": "conda-env-someone-else-py", "display_name": "?", "language": "python"},
                   widgets={"application/vnd.jupyter.widget-state+json": {"state": {}, "version_major": 2}})
    module = load_module(tmp_path, "ex9_demo.py")
    assert module.four == 4.0 and module.files == []
    assert module.root.__annotations__ == {"return": "NotDefinedAnywhere"}  # the __future__ import holds
    assert module.__file__ == str(tmp_path / "ex9_demo.ipynb")


@pytest.mark.parametrize("source, kind, cell, line", [
    ("def helper():\n    return 1 / 0\n\nhelper()", "raised", 3, None),
    ("def broken(:\n    pass", "syntax", 3, 1),
    ("raise NotImplementedError('TODO')", "not_started", 3, None),
])
def test_a_cell_that_fails_is_named_by_its_number(tmp_path, source, kind, cell, line):
    write_notebook(tmp_path / "ex9_demo.ipynb", [nbformat.v4.new_markdown_cell("# title"), code("x = 1"),
                                                 code(source), code("y = 2")])
    with pytest.raises(LoadError) as info:
        load_module(tmp_path, "ex9_demo.py")
    assert info.value.kind == kind and info.value.line == line
    assert info.value.where.startswith(f"ex9_demo.ipynb[cell {cell}]")
    message = str(Target(tmp_path).load_failure("ex9_demo.py", info.value))
    assert f"{tmp_path}/ex9_demo.ipynb" in message  # the file graded, not the .py asked for
    assert kind == "not_started" or f"(ex9_demo.ipynb[cell {cell}])" in message


def test_the_frame_that_raised_inside_another_cell_is_named_too(tmp_path):
    write_notebook(tmp_path / "ex9_demo.ipynb", [code("def helper():\n    return 1 / 0"), code("helper()")])
    with pytest.raises(LoadError) as info:
        load_module(tmp_path, "ex9_demo.py")
    assert info.value.where == "ex9_demo.ipynb[cell 2] → ex9_demo.ipynb[cell 1]:2 in helper"


def test_the_py_wins_unless_it_is_still_what_the_notebook_was_made_from(tmp_path):
    py, notebook = tmp_path / "ex9_demo.py", tmp_path / "ex9_demo.ipynb"
    assert graded_file(tmp_path, "ex9_demo.py") is None
    write_notebook(notebook, [code("ANSWER = 'notebook'")])
    assert graded_file(tmp_path, "ex9_demo.py") == notebook  # no .py: the notebook
    py.write_text("ANSWER = 'py'\n")
    assert graded_file(tmp_path, "ex9_demo.py") == py  # a .py the notebook knows nothing of wins
    write_notebook(notebook, [code("ANSWER = 'notebook'")],
                   dlgrade={STUB_DIGEST_KEY: hashlib.sha256(py.read_bytes()).hexdigest()})
    assert graded_file(tmp_path, "ex9_demo.py") == notebook  # the .py is still what the notebook was made from
    assert load_module(tmp_path, "ex9_demo.py").ANSWER == "notebook"
    py.write_text("ANSWER = 'py, edited'\n")
    assert graded_file(tmp_path, "ex9_demo.py") == py
    assert load_module(tmp_path, "ex9_demo.py").ANSWER == "py, edited"


def test_a_notebook_only_exercise_runs_as_a_script(tmp_path):
    """Checks that run `python exN_name.py ARGS` get a script that runs the notebook, its
    `if __name__ == "__main__":` cell (kept for the .py by jupytext) included."""
    write_notebook(tmp_path / "ex9_demo.ipynb", [
        code("import sys\nfrom pathlib import Path\nHERE = Path(__file__).parent\n!echo not run"),
        code("print('notebook only')", tags=[NOTEBOOK_ONLY_TAG]),
        code("def main(argv):\n    print('main', argv, HERE.name)"),
        nbformat.v4.new_raw_cell('if __name__ == "__main__":\n    main(sys.argv[1:])', metadata={"active": "py"}),
    ])
    script = Target(tmp_path).path("ex9_demo.py")
    assert script.name == "ex9_demo.py" and script.parent != tmp_path
    proc = subprocess.run([sys.executable, str(script), "train", "--fast"], capture_output=True, text=True,
                          timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [f"main ['train', '--fast'] {tmp_path.name}"]
    with pytest.raises(TargetError):
        Target(tmp_path).path("ex9_missing.py")


# ---------------------------------------------------------------- dlgrade notebook


@pytest.mark.parametrize("section_id", ["ex1", "ex2", "ex3", "ex4", "ex5"])
def test_the_paired_notebook_holds_the_whole_stub_by_item(section_id):
    curriculum = curriculum_mod.load()
    section = curriculum.section(section_id)
    stub = (REPO_ROOT / "exercises" / section.file).read_text(encoding="utf-8")
    notebook = notebook_mod.build(curriculum, section, stub, "zh")
    module_text = "\n\n".join(c.source for c in notebook.cells if c.cell_type == "code"
                              and NOTEBOOK_ONLY_TAG not in c.metadata.get("tags", []))
    script_only = "\n\n".join(c.source for c in notebook.cells if c.cell_type == "raw")

    def statements(text: str) -> list[str]:
        return sorted(ast.dump(node) for node in ast.parse(text).body)

    assert statements(module_text + "\n\n" + script_only) == statements(stub)
    assert "__main__" not in module_text
    defined = {node.name for node in ast.parse(stub).body if hasattr(node, "name")}
    items, claimed = [], set()
    for item in (i for i in curriculum.items_of(section_id) if i.graded):
        if set(item.functions) & defined - claimed:  # a function shared by two items goes with the first
            items.append(item)
        claimed |= set(item.functions)
    headings = [c.source for c in notebook.cells if c.cell_type == "markdown"][1:]
    assert [h.splitlines()[0] for h in headings] == [f"## {i.id} {i.title('zh')}" for i in items]
    checks = [c.source for c in notebook.cells if NOTEBOOK_ONLY_TAG in c.metadata.get("tags", [])]
    assert checks[-len(items):] == [f'check("{i.id}")' for i in items]
    # Pairing: the .py jupytext writes reads back as the same cells.
    assert [c.source for c in jupytext.reads(jupytext.writes(notebook, "py:percent"), "py:percent").cells
            if c.cell_type == "code"] == [c.source for c in notebook.cells if c.cell_type == "code"]


def test_dlgrade_notebook_writes_the_pair_and_the_notebook_is_graded_until_the_py_changes(tmp_path, monkeypatch):
    from dlgrade.__main__ import main

    root = small_project(tmp_path)
    shutil_copy(REPO_ROOT / "exercises" / "ex3_openai.py", root / "exercises" / "ex3_openai.py")
    monkeypatch.setenv("DLGRADE_ROOT", str(root))
    assert main(["notebook", "ex3", "--lang", "en"]) == 0
    exercises = root / "exercises"
    notebook = nbformat.read(exercises / "ex3_openai.ipynb", as_version=4)
    assert notebook.metadata["jupytext"]["formats"] == "ipynb,py:percent"
    assert (exercises / "ex3_openai.py").read_text().count("# %%") > 5  # the .py is jupytext's percent format
    assert len(list((root / ".dlgrade" / "backup").rglob("ex3_openai.py"))) == 1  # the old .py is kept
    assert graded_file(exercises, "ex3_openai.py") == exercises / "ex3_openai.ipynb"
    assert main(["notebook", "ex3"]) == 2  # never over a notebook without --force
    # made again from the paired .py (in another language): the same code, no cell markers inside a cell
    assert main(["notebook", "ex3", "--force", "--lang", "zh"]) == 0
    again = nbformat.read(exercises / "ex3_openai.ipynb", as_version=4)
    assert module_code(again) == module_code(notebook) and "# %%" not in module_code(again)
    assert "练习" in again.cells[0].source and graded_file(exercises, "ex3_openai.py") == exercises / "ex3_openai.ipynb"
    with open(exercises / "ex3_openai.py", "a", encoding="utf-8") as f:
        f.write("\n# edited in an editor\n")
    assert graded_file(exercises, "ex3_openai.py") == exercises / "ex3_openai.py"


def small_project(tmp_path: Path) -> Path:
    """A project root whose checks, fixtures and curriculum are the repository's, with its own exercises/."""
    root = tmp_path / "project"
    (root / "exercises").mkdir(parents=True)
    for name in ("checks", "fixtures", "curriculum.toml", "conftest.py", "pyproject.toml"):
        (root / name).symlink_to(REPO_ROOT / name)
    return root


def shutil_copy(source: Path, target: Path) -> None:
    target.write_bytes(source.read_bytes())


# ---------------------------------------------------------------- check() from a cell


def test_check_outside_a_kernel_runs_nothing_and_says_what_to_run(capsys):
    in_notebook.check("ex3.1")
    assert "pytest checks/test_ex3.py --item ex3.1" in capsys.readouterr().out


def test_the_inline_result_lists_each_check_with_its_message_and_the_hint():
    item = curriculum_mod.load().item("ex3.1")
    results = [CheckResult("checks/test_ex3.py::test_text_generation_chat_completions", "ex3.1", "failed",
                           "your request differs from the recorded one: <messages> differ"),
               CheckResult("checks/test_ex3.py::test_text_generation_responses_api", "ex3.1", "passed")]
    outcome = in_notebook.Outcome(item, "zh", "exercises/ex3_openai.ipynb", "partial", results)
    page, text = outcome.html(), outcome.text()
    assert "&lt;messages&gt; differ" in page and "<messages> differ" in text
    for shown, hint in ((page, html.escape(item.hint("zh"))), (text, item.hint("zh"))):
        assert "test_text_generation_chat_completions" in shown and "test_text_generation_responses_api" in shown
        assert "exercises/ex3_openai.ipynb" in shown and hint in shown and "提示" in shown and "部分通过" in shown


# ---------------------------------------------------------------- the checks on notebooks


@pytest.mark.slow
def test_every_check_passes_on_the_solutions_as_notebooks(tmp_path):
    folder = notebook_target(tmp_path / "submission", NOTEBOOK_SECTIONS)
    (folder / "checkpoints").mkdir()
    shutil_copy(SOLUTIONS_DIR / "checkpoints" / "ex1_best.pt", folder / "checkpoints" / "ex1_best.pt")
    assert sorted(p.name for p in folder.glob("ex*")) == ["ex1_pytorch.ipynb", "ex2_llm.ipynb", "ex3_openai.ipynb",
                                                         "ex4_clip.ipynb"]
    run = run_checks(tmp_path / "results.json", *[f"checks/test_{s}.py" for s in NOTEBOOK_SECTIONS],
                     "--dlgrade-record", "none", target=folder)
    statuses = run.statuses()
    not_passed = {nodeid: status for nodeid, status in statuses.items() if status != "passed"}
    # Only the optional checks on the real models may skip (they need the real weights).
    assert statuses and all(status == "skipped" and run.by_nodeid()[nodeid]["max_score"] == 0
                            for nodeid, status in not_passed.items()), run.output[-3000:]


@pytest.mark.slow
def test_a_notebook_with_one_mistake_fails_its_check_and_a_changed_py_beside_it_wins(tmp_path):
    folder = tmp_path / "submission"
    folder.mkdir()
    notebook = filled_notebook("ex3")
    cell = next(c for c in notebook.cells if "def complete_text(" in c.source)
    right = 'messages=[{"role": "user", "content": prompt}]'
    assert cell.source.count(right) == 1
    cell.source = cell.source.replace(
        right, 'messages=[{"role": "system", "content": "You are helpful."}, {"role": "user", "content": prompt}]')
    notebook_mod.pair(notebook, folder / "ex3_openai.ipynb", folder / "ex3_openai.py")
    run = run_checks(tmp_path / "mistake.json", "checks/test_ex3.py", "--item", "ex3.1", "--dlgrade-record", "none",
                     target=folder)
    failed = sorted(n.split("::")[-1] for n, s in run.statuses().items() if s != "passed")
    assert failed == ["test_text_generation_chat_completions"], run.output[-3000:]

    # The .py beside it, edited after the notebook was made (a stale stub): it is graded, and says so.
    with open(folder / "ex3_openai.py", "a", encoding="utf-8") as f:
        f.write("\ndef complete_text(client, prompt, *, model=MODEL):\n    raise NotImplementedError('TODO')\n")
    run = run_checks(tmp_path / "stale.json", "checks/test_ex3.py", "--item", "ex3.1", "--dlgrade-record", "none",
                     target=folder)
    chat = run.by_nodeid()["checks/test_ex3.py::test_text_generation_chat_completions"]
    assert chat["extra_data"]["dlgrade_status"] == "not_started"


@pytest.mark.slow
def test_a_real_kernel_runs_the_notebook_and_check_shows_the_result_inline(tmp_path):
    """nbclient + ipykernel: the notebook `dlgrade notebook` makes, filled, run top to bottom; its
    check cell's output is the HTML result (with a text fallback), in the learner's language, and the
    run is recorded in .dlgrade/ like any other."""
    from nbclient import NotebookClient

    root = small_project(tmp_path)
    exercises = root / "exercises"
    notebook = filled_notebook("ex3", lang="zh")
    # Only the first item's cells and its check, so that one item's checks run.
    last = next(i for i, c in enumerate(notebook.cells) if c.source == 'check("ex3.1")')
    notebook.cells = notebook.cells[:last + 1]
    notebook_mod.pair(notebook, exercises / "ex3_openai.ipynb", exercises / "ex3_openai.py")
    saved = nbformat.read(exercises / "ex3_openai.ipynb", as_version=4)
    # A cell run but never saved, then the check again: the result asks to save first.
    saved.cells += [code("unsaved = 1"), code('check("ex3.1")', tags=[NOTEBOOK_ONLY_TAG])]
    env = {**os.environ, "DLGRADE_LANG": "zh", "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    env.pop("DLGRADE_ROOT", None)
    client = NotebookClient(saved, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(exercises)}})
    client.execute(env=env)
    first, second = (saved.cells[last].outputs, saved.cells[-1].outputs)
    for outputs in (first, second):
        data = next(o["data"] for o in outputs if o.get("output_type") == "display_data")
        assert "ex3.1" in data["text/html"] and "通过" in data["text/html"]  # passed, in Chinese
        assert "test_text_generation_chat_completions" in data["text/html"]
        assert "exercises/ex3_openai.ipynb" in data["text/plain"]
    assert "Ctrl+S" not in json.dumps(first) and "Ctrl+S" in json.dumps(second)
    recorded = json.loads((root / ".dlgrade" / "last-results.json").read_text())
    assert {t["number"] for t in recorded["tests"]} == {"ex3.1"}


# ---------------------------------------------------------------- dlgrade reset on the file that is graded

ITEM_FUNCTIONS = {"ex3.1": {"make_client", "complete_text", "respond_text"},
                  "ex3.2": {"image_data_url", "ask_about_image", "respond_about_image"}}


def reset_project(tmp_path: Path, monkeypatch) -> Path:
    """A project (curriculum and solutions/, where reset takes its stubs) with an empty exercises/, returned."""
    root = tmp_path / "project"
    (root / "exercises").mkdir(parents=True)
    for name in ("curriculum.toml", "solutions"):
        (root / name).symlink_to(REPO_ROOT / name)
    monkeypatch.setenv("DLGRADE_ROOT", str(root))
    return root / "exercises"


def stubbed(source: str) -> set[str]:
    """The top-level functions of `source` that are still stubs."""
    return {node.name for node in ast.parse(source).body if isinstance(node, ast.FunctionDef)
            and "NotImplementedError" in ast.unparse(node)}


def module_code(notebook: nbformat.NotebookNode) -> str:
    """The module cells' code (jupytext drops the blank lines that end a cell)."""
    return "\n\n".join(c.source.rstrip("\n") for c in notebook.cells if c.cell_type == "code"
                       and NOTEBOOK_ONLY_TAG not in c.metadata.get("tags", []))


def reset_command(capsys, *args: str) -> tuple[int, str]:
    from dlgrade.__main__ import main

    code_ = main(["reset", *args])
    return code_, capsys.readouterr().out


def backups_of(exercises: Path, name: str) -> list[Path]:
    return sorted((exercises.parent / ".dlgrade" / "backup").rglob(name))


def test_reset_in_a_notebook_only_puts_the_items_cells_back_and_keeps_the_rest(tmp_path, monkeypatch, capsys):
    exercises = reset_project(tmp_path, monkeypatch)
    notebook = filled_notebook("ex3")
    image_cell = next(c for c in notebook.cells if "def image_data_url(" in c.source)
    image_cell.source = "%load_ext autoreload\n" + image_cell.source  # a magic in a cell that defines one
    notebook.cells.append(code("mine = 'a cell of my own'"))
    path = exercises / "ex3_openai.ipynb"
    nbformat.write(notebook, path)
    before = path.read_bytes()

    status, out = reset_command(capsys, "ex3.2", "--lang", "en")
    assert status == 0 and "exercises/ex3_openai.ipynb, the file that is graded" in out, out
    after = nbformat.read(path, as_version=4)
    assert [c.cell_type for c in after.cells] == [c.cell_type for c in notebook.cells]
    assert [c.source for c in after.cells if c.cell_type != "code"] == \
        [c.source for c in notebook.cells if c.cell_type != "code"]
    assert stubbed(module_code(after).replace("%load_ext autoreload\n", "")) == ITEM_FUNCTIONS["ex3.2"]
    assert after.cells[-1].source == "mine = 'a cell of my own'"
    assert any(c.source.startswith("%load_ext autoreload\ndef image_data_url(") for c in after.cells)
    assert [p.read_bytes() for p in backups_of(exercises, "ex3_openai.ipynb")] == [before]
    assert not (exercises / "ex3_openai.py").exists()  # a notebook-only learner gets no .py
    assert graded_file(exercises, "ex3_openai.py") == path

    # a function whose cell was deleted gets a cell again, before its item's check cell
    after.cells = [c for c in after.cells if "def respond_about_image(" not in c.source]
    nbformat.write(after, path)
    assert reset_command(capsys, "ex3.2")[0] == 0
    cells = [c.source for c in nbformat.read(path, as_version=4).cells]
    inserted = next(i for i, s in enumerate(cells) if "def respond_about_image(" in s)
    assert cells[inserted + 1] == 'check("ex3.2")'


def test_reset_refuses_a_cell_that_does_not_parse_and_writes_nothing(tmp_path, monkeypatch, capsys):
    exercises = reset_project(tmp_path, monkeypatch)
    notebook = filled_notebook("ex3")
    number, cell = next((n, c) for n, c in enumerate(notebook.cells, start=1) if "def complete_text(" in c.source)
    cell.source = cell.source.replace("def complete_text(", "def complete_text(((", 1)
    path = exercises / "ex3_openai.ipynb"
    nbformat.write(notebook, path)
    before = path.read_bytes()
    status, out = reset_command(capsys, "ex3.1", "--lang", "en")
    assert status == 2 and f"ex3_openai.ipynb[cell {number}] does not parse" in out, out
    assert path.read_bytes() == before and not backups_of(exercises, "*")
    status, out = reset_command(capsys, "ex3.1", "--lang", "zh")
    assert status == 2 and f"ex3_openai.ipynb[cell {number}]" in out and "无法重置" in out
    assert reset_command(capsys, "ex3.2")[0] == 0  # another item's cells parse: that reset goes on


def test_reset_of_a_notebook_graded_beside_its_untouched_py_writes_the_pair_again(tmp_path, monkeypatch, capsys):
    exercises = reset_project(tmp_path, monkeypatch)
    py, path = exercises / "ex3_openai.py", exercises / "ex3_openai.ipynb"
    notebook_mod.pair(filled_notebook("ex3"), path, py)
    assert graded_file(exercises, "ex3_openai.py") == path
    old = {p.name: p.read_bytes() for p in (py, path)}

    status, out = reset_command(capsys, "ex3.1", "--lang", "zh")
    assert status == 0 and "exercises/ex3_openai.ipynb" in out and "exercises/ex3_openai.py" in out, out
    assert "已重置" in out and "jupytext" in out
    assert graded_file(exercises, "ex3_openai.py") == path  # the .py is still what the notebook was made from
    after = nbformat.read(path, as_version=4)
    assert stubbed(module_code(after)) == ITEM_FUNCTIONS["ex3.1"]
    assert module_code(jupytext.read(py)) == module_code(after)
    assert {p.name: p.read_bytes() for p in backups_of(exercises, "ex3_openai.*")} == old


def test_reset_of_the_py_graded_beside_its_notebook_brings_the_notebook_along(tmp_path, monkeypatch, capsys):
    """A learner whose jupytext saves both files: the .py is graded; the notebook follows it, keeping its outputs."""
    exercises = reset_project(tmp_path, monkeypatch)
    py, path = exercises / "ex3_openai.py", exercises / "ex3_openai.ipynb"
    notebook = filled_notebook("ex3")
    with_output = next(c for c in notebook.cells if "def make_client(" in c.source)
    with_output.outputs = [nbformat.v4.new_output("stream", name="stdout", text="made a client\n")]
    notebook_mod.pair(notebook, path, py)
    with open(py, "a", encoding="utf-8") as f:
        f.write("\n# edited in an editor\n")
    assert graded_file(exercises, "ex3_openai.py") == py
    digest = nbformat.read(path, as_version=4).metadata["dlgrade"]

    status, out = reset_command(capsys, "ex3.2", "--lang", "en")
    assert status == 0 and "exercises/ex3_openai.py, the file that is graded" in out, out
    assert "exercises/ex3_openai.ipynb, paired with it by jupytext" in out
    assert stubbed(py.read_text()) == ITEM_FUNCTIONS["ex3.2"] and "# edited in an editor" in py.read_text()
    after = nbformat.read(path, as_version=4)
    assert module_code(after) == module_code(jupytext.read(py))
    assert after.metadata["dlgrade"] == digest and graded_file(exercises, "ex3_openai.py") == py
    assert next(c for c in after.cells if "def make_client(" in c.source).outputs[0]["text"] == "made a client\n"

    # a whole exercise: both made afresh from the stub, as `dlgrade notebook` makes them
    assert reset_command(capsys, "ex3")[0] == 0
    stub = (REPO_ROOT / "exercises" / "ex3_openai.py").read_text(encoding="utf-8")
    fresh = nbformat.read(path, as_version=4)
    assert ast.dump(ast.parse(module_code(fresh))) == ast.dump(ast.parse(module_code(
        notebook_mod.build(curriculum_mod.load(), curriculum_mod.load().section("ex3"), stub, "en"))))
    assert graded_file(exercises, "ex3_openai.py") == path and module_code(jupytext.read(py)) == module_code(fresh)


def test_reset_of_a_py_leaves_a_notebook_of_ones_own_alone(tmp_path, monkeypatch, capsys):
    exercises = reset_project(tmp_path, monkeypatch)
    py, scratch = exercises / "ex3_openai.py", exercises / "ex3_openai.ipynb"
    py.write_text((SOLUTIONS_DIR / "ex3_openai.py").read_text(encoding="utf-8"), encoding="utf-8")
    write_notebook(scratch, [code("from ex3_openai import complete_text")])  # not paired: the .py is graded
    before = scratch.read_bytes()
    status, out = reset_command(capsys, "ex3.2", "--lang", "en")
    assert status == 0 and "exercises/ex3_openai.py, the file that is graded" in out and "paired" not in out, out
    assert stubbed(py.read_text()) == ITEM_FUNCTIONS["ex3.2"] and scratch.read_bytes() == before
    assert [p.name for p in backups_of(exercises, "ex3_openai.*")] == ["ex3_openai.py"]


DISTRIBUTED_SCRIPTS = ("ex1_distributed_common.py", "ex1_dataparallel.py", "ex1_ddp.py", "ex1_fsdp.py")


@pytest.mark.parametrize("worked_in", ["ex1_pytorch.py", "ex1_pytorch.ipynb"])
def test_reset_of_an_item_with_files_of_its_own_leaves_the_exercise_file_alone(worked_in, tmp_path, monkeypatch,
                                                                                capsys):
    """ex1.5 is written in the distributed scripts: its reset puts their stubs back and leaves the exercise's
    file as it was, though that file has a `train` and a `main` of its own; the exercise's reset does the
    opposite, and says how to reset ex1.5."""
    exercises = reset_project(tmp_path, monkeypatch)
    for name in DISTRIBUTED_SCRIPTS:
        (exercises / name).write_text((SOLUTIONS_DIR / name).read_text(encoding="utf-8"), encoding="utf-8")
    if worked_in.endswith(".ipynb"):
        nbformat.write(filled_notebook("ex1"), exercises / worked_in)
    else:
        (exercises / worked_in).write_text((SOLUTIONS_DIR / worked_in).read_text(encoding="utf-8"), encoding="utf-8")
    before = (exercises / worked_in).read_bytes()

    status, out = reset_command(capsys, "ex1.5", "--lang", "en")
    assert status == 0 and "ex1_pytorch" not in out, out
    for name in DISTRIBUTED_SCRIPTS:
        assert f"exercises/{name}, the file that is graded" in out
        assert stubbed((exercises / name).read_text()) == stubbed((REPO_ROOT / "exercises" / name).read_text()), name
        assert [p.read_text() for p in backups_of(exercises, name)] == [(SOLUTIONS_DIR / name).read_text()]
    assert (exercises / worked_in).read_bytes() == before and not backups_of(exercises, "ex1_pytorch.*")

    scripts = {name: (exercises / name).read_bytes() for name in DISTRIBUTED_SCRIPTS}
    status, out = reset_command(capsys, "ex1", "--lang", "zh")
    assert status == 0 and f"exercises/{worked_in}" in out and "dlgrade reset ex1.5" in out, out
    assert "exercises/ex1_ddp.py" in out and "保持不变" in out
    stub = (REPO_ROOT / "exercises" / "ex1_pytorch.py").read_text(encoding="utf-8")
    reset_code = module_code(nbformat.read(exercises / worked_in, as_version=4)) if worked_in.endswith(".ipynb") \
        else (exercises / worked_in).read_text(encoding="utf-8")
    assert stubbed(reset_code) == stubbed(stub)
    assert {name: (exercises / name).read_bytes() for name in DISTRIBUTED_SCRIPTS} == scripts
