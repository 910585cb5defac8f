"""The learner's loop: hint, next, reset, watch, the checklist update and the HTML report."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from html.parser import HTMLParser

from dlgrade import checklist, curriculum, reset, stubs
from dlgrade.paths import EXERCISES_DIR, REPO_ROOT, SOLUTIONS_DIR
from gradelib import CHECKLIST


def dlgrade(*args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dlgrade", *args], cwd=REPO_ROOT, capture_output=True, text=True,
                          timeout=timeout)


def test_hint_in_both_languages():
    english, chinese = dlgrade("hint", "ex3.2", "--lang", "en").stdout, dlgrade("hint", "ex3.2", "--lang", "zh").stdout
    assert "exercises/ex3_openai.py" in english and "pytest checks/test_ex3.py --item ex3.2" in english
    assert "base64" in english and "提示" in chinese
    assert dlgrade("hint", "ex9.9").returncode == 2


def test_reset_an_item_keeps_the_rest_of_the_file(tmp_path):
    exercises = tmp_path / "exercises"
    stubs.write_stubs(SOLUTIONS_DIR, exercises)
    solved = (SOLUTIONS_DIR / "ex3_openai.py").read_text()
    (exercises / "ex3_openai.py").write_text(solved)  # a learner who solved everything
    path, backup = reset.reset("ex3.2", exercises)
    text = path.read_text()
    assert backup.read_text() == solved
    names = {"image_data_url", "ask_about_image", "respond_about_image"}
    stub_spans, spans = reset._spans(stubs.generate_stub(solved)), reset._spans(text)
    for name in spans:
        body = "\n".join(text.splitlines()[spans[name][0] - 1: spans[name][1]])
        assert ("NotImplementedError" in body) == (name in names), name
    assert set(spans) == set(stub_spans)
    reset.reset("ex3", exercises)
    assert (exercises / "ex3_openai.py").read_text() == (EXERCISES_DIR / "ex3_openai.py").read_text()


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
    results = tmp_path / "results.json"
    check = {"name": "ex3.1", "number": "ex3.1", "score": 10.0, "max_score": 10.0, "status": "passed", "output": "",
             "visibility": "visible", "extra_data": {"nodeid": "checks/test_ex3.py::t", "dlgrade_status": "passed"}}
    results.write_text(json.dumps({"score": 10.0, "max_score": 10.0, "tests": [check]}))
    earlier = {"target": "exercises", "graded_passed": 0, "graded_total": 18, "self_done": 0, "self_total": 40,
               "score": 0.0, "max_score": 165.0}
    (tmp_path / "history.jsonl").write_text("".join(json.dumps({**earlier, "time": f"2026-11-2{d}T10:00:00"}) + "\n"
                                                    for d in (6, 7)))
    proc = dlgrade("report", "--cached", "--format", "html", "--output", str(tmp_path / "r.html"),
                   "--progress", str(tmp_path / "progress.toml"), "--results", str(results), "--lang", "en")
    assert proc.returncode == 0, proc.stderr
    page = _Page()
    page.feed((tmp_path / "r.html").read_text(encoding="utf-8"))
    # the progress chart, and the progress-over-time chart that earlier runs allow; no external files
    assert len(page.images) == 2 and all(src.startswith("data:image/png;base64,") for src in page.images)
    text = " ".join(page.text)
    assert all(item.id in text for item in curriculum.load().items)
    assert "<b>1/18</b> items passed" in (tmp_path / "r.html").read_text(encoding="utf-8")


def test_watch_reruns_when_the_exercise_changes(tmp_path):
    proc = subprocess.Popen([sys.executable, "-m", "dlgrade", "watch", "--item", "ex3.1", "--interval", "0.2"],
                            cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    target = EXERCISES_DIR / "ex3_openai.py"
    try:
        deadline = time.monotonic() + 60
        lines = []
        while time.monotonic() < deadline and sum("waiting for changes" in line for line in lines) < 1:
            lines.append(proc.stdout.readline())
        os.utime(target)  # the learner saves the file
        while time.monotonic() < deadline and sum("waiting for changes" in line for line in lines) < 2:
            lines.append(proc.stdout.readline())
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        proc.wait(timeout=30)
    runs = sum("waiting for changes" in line for line in lines)
    assert runs == 2 and any("not started" in line for line in lines), "".join(lines)[-2000:]
