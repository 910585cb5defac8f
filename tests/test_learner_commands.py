"""The learner's loop: hint, next, reset, watch, the checklist and the HTML report."""
from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
from html.parser import HTMLParser
from pathlib import Path

import pytest
from gradelib import CHECKLIST

from dlgrade.core import curriculum, i18n, stubs
from dlgrade.core.project import Project
from dlgrade.learner import checklist, hint, reset, watch

pytestmark = pytest.mark.slow
CHECKS_DIR = Project.locate().checks
EXERCISES_DIR = Project.locate().exercises
FIXTURES_DIR = Project.locate().fixtures
REPO_ROOT = Project.locate().root
SOLUTIONS_DIR = Project.locate().solutions


# The console script, as learners run it (.venv/bin/dlgrade).
DLGRADE = str(Path(sys.executable).with_name("dlgrade"))


def dlgrade(*args: str, timeout: float = 600, cwd=REPO_ROOT, env=None) -> subprocess.CompletedProcess:
    return subprocess.run([DLGRADE, *args], cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env)


def english_shell() -> dict[str, str]:
    """An environment whose language is English: no DLGRADE_LANG, an English locale."""
    env = {k: v for k, v in os.environ.items() if k not in ("DLGRADE_LANG", "LC_ALL", "LC_MESSAGES")}
    return {**env, "LANG": "C.UTF-8"}


def test_hint_in_both_languages():
    english = dlgrade("hint", "ex3.2", "--lang", "en", env=english_shell()).stdout
    chinese = dlgrade("hint", "ex3.2", "--lang", "zh", env=english_shell()).stdout
    assert "exercises/ex3_openai.py" in english and "pytest checks/test_ex3.py --item ex3.2\n" in english
    assert "base64" in english and "提示" in chinese
    # Chinese came from --lang alone: the command it suggests carries it, or it would answer in English
    assert "pytest checks/test_ex3.py --item ex3.2 --lang zh" in chinese
    assert dlgrade("hint", "ex9.9").returncode == 2
    whole = dlgrade("hint", "ex3", "--lang", "en")  # an exercise, as `reset ex3` takes one
    assert whole.returncode == 0 and all(f"ex3.{n} " in whole.stdout for n in (1, 2, 3)), whole.stderr


def test_next_without_recorded_results_runs_nothing_and_says_so(tmp_path):
    shutil.copy(REPO_ROOT / "curriculum.toml", tmp_path / "curriculum.toml")
    proc = dlgrade("next", "--lang", "en", cwd=tmp_path, timeout=60,
                   env={**os.environ, "DLGRADE_ROOT": str(tmp_path)})
    assert proc.returncode == 0, proc.stderr
    assert "no recorded results yet" in proc.stderr and proc.stdout.startswith("next: ex1.1")
    assert not (tmp_path / ".dlgrade").exists()  # no check ran


def test_reset_an_item_keeps_the_rest_of_the_file(tmp_path):
    exercises = tmp_path / "exercises"
    stubs.write_stubs(SOLUTIONS_DIR, exercises, tmp_path / "backups")
    solved = (SOLUTIONS_DIR / "ex3_openai.py").read_text()
    (exercises / "ex3_openai.py").write_text(solved)  # a learner who solved everything
    [done] = reset.reset_files("ex3.2", exercises)
    text = done.graded.read_text()
    assert done.backups[0].read_text() == solved
    names = {"image_data_url", "ask_about_image", "respond_about_image"}
    stub_spans, spans = reset._spans(stubs.generate_stub(solved)), reset._spans(text)
    for name in spans:
        body = "\n".join(text.splitlines()[spans[name][0] - 1: spans[name][1]])
        assert ("NotImplementedError" in body) == (name in names), name
    assert set(spans) == set(stub_spans)
    reset.reset_files("ex3", exercises)
    assert (exercises / "ex3_openai.py").read_text() == (EXERCISES_DIR / "ex3_openai.py").read_text()


def test_each_item_names_files_that_define_its_functions():
    """What `reset ITEM` and `hint ITEM` rely on: every file an item is in defines some of its functions in the
    stub, and between them all of them."""
    cur = curriculum.load()
    for item in cur.items:
        if not item.graded:
            continue
        defined = [set(reset._spans((EXERCISES_DIR / name).read_text())) for name in cur.files_of(item)]
        assert defined and all(names & set(item.functions) for names in defined), item.id
        assert set(item.functions) <= set().union(*defined), item.id
    opened = next(line for line in hint.describe(cur, cur.item("ex1.5"), "en") if "exercises/" in line)
    assert "exercises/ex1_ddp.py" in opened and "exercises/ex1_fsdp.py" in opened and "ex1_pytorch" not in opened


def test_checklist_update_ticks_passed_items_and_keeps_the_learners_ticks(tmp_path):
    cur = curriculum.load()
    copy = tmp_path / "curriculum.md"
    copy.write_text(CHECKLIST.read_text(encoding="utf-8"), encoding="utf-8")
    before = checklist.ticked(copy, cur)
    assert "linux.bash" in before and "ex3.1" not in before  # the author's own ticks
    newly = checklist.update(copy, cur, {"ex3.1", "ex4.2"})
    assert sorted(newly) == ["ex3.1", "ex4.2"]
    assert checklist.ticked(copy, cur) == before | {"ex3.1", "ex4.2"}
    assert checklist.update(copy, cur, {"ex3.1"}) == []
    english = copy.read_text(encoding="utf-8").split("## English rendering")[1]
    assert english == CHECKLIST.read_text(encoding="utf-8").split("## English rendering")[1]


def test_checklist_init_writes_every_box_cleared(tmp_path):
    cur = curriculum.load()
    mine = tmp_path / "my-curriculum.md"
    proc = dlgrade("checklist", "init", str(mine), "--lang", "en")
    assert proc.returncode == 0, proc.stderr
    assert checklist.ticked(mine, cur) == set()
    lines = mine.read_text(encoding="utf-8").splitlines()
    assert "(the original" not in "\n".join(lines) and "author" not in "\n".join(lines)
    located = set(checklist.locate(lines, cur).values())
    assert {i.id for i in cur.items if i.section in ("linux", "ex1", "ex2", "ex3", "ex4")} <= located
    again = dlgrade("checklist", "init", str(mine))
    assert again.returncode == 2 and "--force" in again.stderr  # a learner's ticks are never overwritten
    checklist.update(mine, cur, {"ex3.1"})
    assert checklist.ticked(mine, cur) == {"ex3.1"}


def test_missing_checklist_is_refused_before_any_check_runs(tmp_path):
    for option in ("--update", "--checklist"):
        proc = dlgrade("report", option, str(tmp_path / "missing.md"), "--results", str(tmp_path / "r.json"),
                       "--progress", str(tmp_path / "progress.toml"), "--lang", "zh")
        assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
        assert "dlgrade checklist init" in proc.stderr and "不存在" in proc.stderr
        assert not (tmp_path / "r.json").exists() and "Traceback" not in proc.stderr


class _Page(HTMLParser):
    def __init__(self):
        super().__init__()
        self.images, self.text = [], []

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.images.append(dict(attrs)["src"])

    def handle_data(self, data):
        self.text.append(data)


def test_html_report_is_self_contained_and_complete(tmp_path):
    cur = curriculum.load()
    graded_total = sum(i.graded for i in cur.items)
    results = tmp_path / "results.json"
    check = {"name": "ex3.1", "number": "ex3.1", "score": 10.0, "max_score": 10.0, "status": "passed", "output": "",
             "visibility": "visible", "extra_data": {"nodeid": "checks/test_ex3.py::t", "dlgrade_status": "passed",
                                                     "recorded_at": "2026-11-20T09:15:00+00:00"}}
    failing = {**check, "number": "ex3.2", "score": 0.0, "status": "failed", "output": "word " * 200 + "END",
               "extra_data": {**check["extra_data"], "nodeid": "checks/test_ex3.py::u", "dlgrade_status": "failed"}}
    results.write_text(json.dumps({"score": 10.0, "max_score": 20.0, "tests": [check, failing]}))
    earlier = {"target": "exercises", "graded_passed": 0, "graded_total": graded_total, "self_done": 0,
               "self_total": 40, "score": 0.0, "max_score": 165.0}
    # two runs weeks apart: the over-time chart reads dates
    (tmp_path / "history.jsonl").write_text("".join(json.dumps({**earlier, "time": f"2026-{d}T10:00:00"}) + "\n"
                                                    for d in ("10-26", "11-27")))
    out = tmp_path / "r.html"
    proc = dlgrade("report", "--cached", "--format", "html", "--output", str(out),
                   "--progress", str(tmp_path / "progress.toml"), "--results", str(results), "--lang", "en")
    assert proc.returncode == 0, proc.stderr
    assert str(out) in proc.stdout  # --output says where the page is
    html = out.read_text(encoding="utf-8")
    page = _Page()
    page.feed(html)
    # no external files and no pictures of text: the bars are HTML, the over-time chart an inline SVG
    # whose text is text (numbers and dates only), so any browser draws it with its own fonts
    assert page.images == [] and html.count("<svg") == 1 and "<image" not in html
    svg = html[html.index("<svg"):html.index("</svg>")]
    labels = re.findall(r"<text[^>]*>([^<]*)</text>", svg)
    assert labels and all(re.fullmatch(r"[\d%.:-]+", label.strip()) for label in labels), labels
    text = " ".join(page.text)
    assert all(item.id in text for item in cur.items)
    assert re.search(r"<b>1/\d+</b> graded items passed", html)
    # the bars count what the tables count: exercise 3's self-assessed week of chatting is not one of its 3
    assert "33% (1/3)" in text
    assert text.index("ex1.1") < text.index("linux.bash")  # exercises first, self-assessed after
    assert "2026-11-20 09:15" in text  # when the results were recorded, not when the page was made
    assert "word word" in text and "wor…" not in text  # a long message is cut between words


def test_html_report_in_chinese_has_chinese_labels(tmp_path):
    out = tmp_path / "r.html"
    proc = dlgrade("report", "--cached", "--format", "html", "--output", str(out), "--progress",
                   str(tmp_path / "progress.toml"), "--results", str(tmp_path / "none.json"), "--lang", "zh")
    assert proc.returncode == 0, proc.stderr
    assert "还没有记录任何结果" in proc.stderr and not (tmp_path / "none.json").exists()  # --cached runs no check
    html = out.read_text(encoding="utf-8")
    for label in ("学习进度", "评分条目通过", "自评条目完成", "自评", "未开始", "各部分进度"):
        assert label in html, label
    assert "<img" not in html


def test_watch_follows_only_the_items_files():
    cur = curriculum.load()
    files = watch.watched_files(cur, cur.item("ex3.1"))
    assert EXERCISES_DIR / "ex3_openai.py" in files and CHECKS_DIR / "test_ex3.py" in files
    assert not any(p.name.startswith(("ex1_", "ex2_", "ex4_")) for p in files)
    assert any(FIXTURES_DIR / "cassettes" / "ex3" in p.parents for p in files)


def _mini_repository(root):
    """A repository with exercise 3's checks and fixtures, whose ex3.1 is solved and the rest are stubs."""
    for name in ("curriculum.toml", "conftest.py", "pyproject.toml"):
        shutil.copy(REPO_ROOT / name, root / name)
    (root / "checks").mkdir()
    for name in ("conftest.py", "test_ex3.py"):
        shutil.copy(CHECKS_DIR / name, root / "checks" / name)
    for part in ("ex3", "cassettes/ex3"):
        shutil.copytree(FIXTURES_DIR / part, root / "fixtures" / part)
    shutil.copytree(EXERCISES_DIR, root / "exercises", ignore=shutil.ignore_patterns("__pycache__"))
    stub = (root / "exercises" / "ex3_openai.py").read_text()
    solved = reset.replace_definitions(stub, (SOLUTIONS_DIR / "ex3_openai.py").read_text(),
                                       list(curriculum.load().item("ex3.1").functions))
    (root / "exercises" / "ex3_openai.py").write_text(solved)


def watch_one_save(root, env: dict[str, str]) -> list[str]:
    """`dlgrade watch --item ex3.1` until it waits, one save of the exercise file, until it waits again."""
    proc = subprocess.Popen([DLGRADE, "watch", "--item", "ex3.1", "--interval", "0.2"],
                            cwd=root, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True, env=env)
    lines: list[str] = []
    waiting = re.compile(r"waiting for changes|等待")

    def read_until(count: int) -> None:
        deadline = time.monotonic() + 240  # bounds a hang only
        while time.monotonic() < deadline and sum(bool(waiting.search(line)) for line in lines) < count:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
    try:
        read_until(1)
        os.utime(root / "exercises" / "ex3_openai.py")  # the learner saves the file
        read_until(2)
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            still = subprocess.run(["ps", "-o", "pid,ppid,pgid,stat,wchan:20,args", "-g", str(proc.pid)],
                                   capture_output=True, text=True).stdout
            os.killpg(proc.pid, signal.SIGKILL)
            said = "".join(lines)
            raise AssertionError(f"dlgrade watch did not stop on Ctrl-C within 30 s:\n{still}\n{said}") from None
    return lines


def test_watch_moves_to_the_next_item_after_a_pass_and_reruns_on_save(tmp_path):
    _mini_repository(tmp_path)
    lines = watch_one_save(tmp_path, {**os.environ, "DLGRADE_ROOT": str(tmp_path), "DLGRADE_LANG": "en"})
    output = "".join(lines)
    assert "ex3.1 passes — next: ex3.2" in output, output[-3000:]
    # ex3.2 is shown once per run, in one block: after the move, and after the save
    blocks = [n for n, line in enumerate(lines) if line.startswith("ex3.2 ")]
    assert len(blocks) == 2, output[-3000:]
    # the pass stays on screen above the next item's block until the learner saves
    assert lines[blocks[0] - 2].startswith("ex3.1 passes — next: ex3.2"), output[-3000:]
    assert not any(line.startswith("ex3.1 passes") for line in lines[blocks[0]:]), output[-3000:]
    assert "not started" in output and "exercises/ex3_openai.py" in output
    assert json.loads((tmp_path / ".dlgrade" / "last-results.json").read_text())["tests"]  # watch records too


def test_the_language_set_once_holds_through_the_learner_loop(tmp_path):
    """A learner who reads only Chinese, in an English shell (no DLGRADE_LANG, English locale), sets the
    language once; then report, next, hint, watch (one save), the command watch suggests and the
    Markdown job summary CI writes are all Chinese, and no suggested command needs --lang."""
    from test_i18n import untranslated_lines

    _mini_repository(tmp_path)
    env = {**english_shell(), "DLGRADE_ROOT": str(tmp_path), "COLUMNS": "200"}
    chosen = dlgrade("lang", "zh", cwd=tmp_path, env=env)
    assert chosen.returncode == 0 and 'lang = "zh"' in (tmp_path / "progress.toml").read_text(), chosen.stderr
    outputs = {name: dlgrade(*args, cwd=tmp_path, env=env) for name, args in (
        ("report", ["report"]), ("next", ["next"]), ("hint", ["hint", "ex3.2"]),
        ("summary", ["report", "--cached", "--format", "markdown"]), ("help", ["--help"]))}
    texts = {name: proc.stdout + proc.stderr for name, proc in outputs.items()}
    assert all(proc.returncode == 0 for proc in outputs.values()), texts
    texts["watch"] = "".join(watch_one_save(tmp_path, env))
    suggested = re.findall(r"重新运行: (pytest .*)", texts["watch"])
    assert suggested and suggested[-1] == "pytest checks/test_ex3.py --item ex3.2", texts["watch"][-2000:]
    rerun = subprocess.run([sys.executable, "-m", *shlex.split(suggested[-1])], cwd=tmp_path, env=env,
                           capture_output=True, text=True, timeout=600)
    texts["suggested command"] = rerun.stdout + rerun.stderr
    assert rerun.returncode == 0, texts["suggested command"][-3000:]
    for name, text in texts.items():
        assert i18n.has_cjk(text), name
        assert not untranslated_lines(text), (name, untranslated_lines(text))
        assert "--lang" not in text, name  # the setting makes it unnecessary
    assert "ex3.1 通过 —— 下一步：ex3.2" in texts["watch"]
