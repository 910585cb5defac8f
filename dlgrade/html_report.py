"""The self-contained HTML progress page of `dlgrade report --format html`.

One file, no external assets: the charts are matplotlib PNGs embedded as data URLs.
"""
from __future__ import annotations

import base64
import html
import io
from datetime import datetime

import matplotlib
import matplotlib.font_manager

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402 - after choosing the non-interactive backend

from dlgrade import render  # noqa: E402
from dlgrade.curriculum import Curriculum  # noqa: E402
from dlgrade.messages import msg  # noqa: E402
from dlgrade.results import DONE, PASSED, CheckResult, item_status  # noqa: E402

COLORS = {"passed": "#2e7d32", "partial": "#f9a825", "failed": "#c62828", "not_started": "#9e9e9e",
          "planned": "#bdbdbd", "done": "#2e7d32", "todo": "#9e9e9e"}
STYLE = """
body { font-family: system-ui, "Noto Sans CJK SC", sans-serif; max-width: 1000px; margin: 2em auto; color: #222; }
h1 { margin-bottom: 0.2em; } .muted { color: #777; }
.bar { background: #eee; border-radius: 6px; height: 18px; overflow: hidden; margin: 0.4em 0 1em; }
.bar > div { background: #2e7d32; height: 100%; }
table { border-collapse: collapse; width: 100%; margin-bottom: 1.5em; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid #eee; vertical-align: top; }
.status { font-weight: 600; white-space: nowrap; }
.next { background: #f1f8e9; padding: 0.8em 1em; border-radius: 6px; }
code { background: #f5f5f5; padding: 1px 4px; border-radius: 3px; }
"""


CJK_FONTS = ["Noto Sans CJK SC", "Noto Sans CJK JP", "WenQuanYi Zen Hei", "SimHei", "Microsoft YaHei", "PingFang SC"]


def chart_lang(lang: str) -> str:
    """Chinese chart labels only where matplotlib has a CJK font; DejaVu alone draws empty boxes."""
    if lang != "zh":
        return lang
    for family in CJK_FONTS:
        try:
            matplotlib.font_manager.findfont(family, fallback_to_default=False)
        except ValueError:
            continue
        plt.rcParams["font.sans-serif"] = [family, "DejaVu Sans"]
        return "zh"
    return "en"


def _png(figure) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    plt.close(figure)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def progress_chart(curriculum: Curriculum, results: list[CheckResult], self_done: set[str], lang: str) -> str:
    lang = chart_lang(lang)
    labels, done, total = [], [], []
    for section in curriculum.sections:
        items = curriculum.items_of(section.id)
        counted = [i for i in items if i.graded or i.kind == "self"]
        if not counted:
            continue
        labels.append(section.id)
        done.append(sum(item_status(i, results, self_done) in (PASSED, DONE) for i in counted))
        total.append(len(counted))
    figure, ax = plt.subplots(figsize=(8, 2.8))
    ax.barh(labels, total, color="#e0e0e0")
    ax.barh(labels, done, color="#2e7d32")
    for y, (d, t) in enumerate(zip(done, total)):
        ax.text(t, y, f" {d}/{t}", va="center")
    ax.invert_yaxis()
    ax.set_xlabel(msg("items_passed", lang))
    ax.set_title(msg("progress", lang))
    return _png(figure)


def history_chart(history: list[dict], lang: str) -> str | None:
    if len(history) < 2:
        return None
    lang = chart_lang(lang)
    times = [datetime.fromisoformat(h["time"]) for h in history]
    figure, ax = plt.subplots(figsize=(8, 2.8))
    ax.plot(times, [h["score"] for h in history], marker="o", label=msg("points", lang))
    ax.set_ylim(0, max(h["max_score"] for h in history) or 1)
    ax.set_title(f"{msg('progress', lang)} / {msg('points', lang)}")
    figure.autofmt_xdate()
    return _png(figure)


def page(curriculum: Curriculum, results: list[CheckResult], self_done: set[str], lang: str, summary: dict,
         history: list[dict], target: str) -> str:
    esc = html.escape
    parts = [f"<!doctype html><html lang='{lang}'><head><meta charset='utf-8'><title>dlgrade</title>"
             f"<style>{STYLE}</style></head><body>",
             f"<h1>dlgrade</h1><p class='muted'>{esc(target)} · {esc(summary['generated'])}</p>"]
    fraction = summary["graded_passed"] / max(summary["graded_total"], 1)
    parts.append(f"<p><b>{summary['graded_passed']}/{summary['graded_total']}</b> {esc(msg('items_passed', lang))} · "
                 f"<b>{round(summary['score'], 2):g}/{round(summary['max_score'], 2):g}</b> {esc(msg('points', lang))}"
                 f" · {summary['self_done']}/{summary['self_total']} {esc(msg('done', lang))}</p>"
                 f"<div class='bar'><div style='width:{fraction:.1%}'></div></div>")
    lines = render.next_step_lines(curriculum, results, lang)
    parts.append("<div class='next'>" + "<br>".join(esc(line) for line in lines) + "</div>")
    parts.append(f"<p><img alt='progress' src='{progress_chart(curriculum, results, self_done, lang)}'></p>")
    over_time = history_chart(history, lang)
    if over_time:
        parts.append(f"<p><img alt='progress over time' src='{over_time}'></p>")
    for section in curriculum.sections:
        parts.append(f"<h2>{esc(section.title(lang))}</h2><table><tr><th>{esc(msg('item', lang))}</th><th></th>"
                     f"<th>{esc(msg('status', lang))}</th><th>{esc(msg('points', lang))}</th></tr>")
        for item in curriculum.items_of(section.id):
            status = item_status(item, results, self_done)
            mine = [r for r in results if r.item == item.id]
            points = render.points_text(sum(r.score for r in mine), sum(r.max_score for r in mine) or item.points) \
                if item.graded else ""
            detail = "".join(f"<br><span class='muted'>{esc(r.output.splitlines()[0][:200])}</span>"
                             for r in mine if r.status not in ("passed", "skipped") and r.output)[:1500]
            parts.append(f"<tr><td><code>{esc(item.id)}</code></td><td>{esc(item.title(lang))}{detail}</td>"
                         f"<td class='status' style='color:{COLORS[status]}'>{esc(msg(status, lang))}</td>"
                         f"<td>{points}</td></tr>")
        parts.append("</table>")
    parts.append("</body></html>")
    return "\n".join(parts)
