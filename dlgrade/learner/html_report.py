"""The self-contained HTML progress page of `dlgrade report --format html`.

One file, no external assets. Every word on the page is text the browser draws, so Chinese shows
wherever the page is opened (the viewer's own fonts), whatever fonts the machine that made it has:
the per-section progress is HTML bars, and the progress-over-time chart is an inline SVG from
matplotlib with its text kept as text (`svg.fonttype = "none"`) and only numbers and dates in it;
its title and legend are HTML. The exercises come first, the self-assessed sections after; each
section has one bar, counting what the tables count (results.counted_items), graded and
self-assessed sections in different colours.
"""
from __future__ import annotations

import html
import io
from datetime import datetime, timedelta

import matplotlib

matplotlib.use("Agg")  # before pyplot is imported: the non-interactive backend
import matplotlib.dates as mdates
import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from dlgrade.core import render
from dlgrade.core.curriculum import Curriculum, Section
from dlgrade.core.i18n import translate
from dlgrade.core.messages import msg
from dlgrade.core.results import CheckResult, counted_items, item_status

COLORS = {"passed": "#2e7d32", "partial": "#f9a825", "failed": "#c62828", "not_started": "#9e9e9e",
          "planned": "#bdbdbd", "done": "#1565c0", "todo": "#9e9e9e"}
GRADED_COLOR, SELF_COLOR = "#2e7d32", "#1565c0"
DETAIL_CHARS = 400
STYLE = """
body { font-family: system-ui, "Noto Sans CJK SC", "Noto Sans SC", "PingFang SC", "Microsoft YaHei", sans-serif;
       max-width: 1000px; margin: 2em auto; color: #222; }
h1 { margin-bottom: 0.2em; } .muted { color: #777; }
.bar { background: #eee; border-radius: 6px; height: 18px; overflow: hidden; margin: 0.4em 0 1em; }
.bar > div { height: 100%; }
table { border-collapse: collapse; width: 100%; margin-bottom: 1.5em; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid #eee; vertical-align: top; }
.sections td { vertical-align: middle; } .sections .bar { margin: 0; min-width: 12em; }
.sections td.count { white-space: nowrap; text-align: right; }
.status { font-weight: 600; white-space: nowrap; }
.detail { display: block; color: #777; white-space: pre-wrap; overflow-wrap: anywhere; font-size: 0.9em; }
.next { background: #f1f8e9; padding: 0.8em 1em; border-radius: 6px; }
.legend span { margin-right: 1.5em; }
code { background: #f5f5f5; padding: 1px 4px; border-radius: 3px; }
svg { max-width: 100%; height: auto; }
"""
# Dates as numbers: month names would be English on a Chinese page.
DATE_FORMATS = dict(formats=["%Y", "%Y-%m", "%m-%d", "%H:%M", "%H:%M", "%S.%f"],
                    zero_formats=["", "%Y", "%Y-%m", "%m-%d", "%H:%M", "%H:%M"],
                    offset_formats=["", "%Y", "%Y-%m", "%Y-%m-%d", "%Y-%m-%d", "%Y-%m-%d %H:%M"])


def _svg(figure: Figure) -> str:
    """The figure as inline SVG markup, its text kept as text (the browser draws it)."""
    buffer = io.StringIO()
    with plt.rc_context({"svg.fonttype": "none", "svg.hashsalt": "dlgrade"}):
        figure.savefig(buffer, format="svg", bbox_inches="tight")
    plt.close(figure)
    markup = buffer.getvalue()
    return markup[markup.index("<svg"):]


def section_rows(curriculum: Curriculum, results: list[CheckResult],
                 self_done: set[str]) -> list[tuple[Section, bool, int, int]]:
    """(section, graded?, done, counted) per section, in report order."""
    rows = []
    for section in render.sections_in_report_order(curriculum):
        items = curriculum.items_of(section.id)
        done, counted = counted_items(items, results, self_done)
        if counted:
            rows.append((section, any(i.graded for i in items), done, counted))
    return rows


def progress_bars(curriculum: Curriculum, results: list[CheckResult], self_done: set[str], lang: str) -> str:
    """One bar per section, in percent: graded sections green, self-assessed ones blue."""
    rows = []
    for section, graded, done, counted in section_rows(curriculum, results, self_done):
        percent = 100 * done / counted
        color = GRADED_COLOR if graded else SELF_COLOR
        rows.append(f"<tr><td>{html.escape(section.title(lang))}</td>"
                    f"<td><div class='bar'><div style='width:{percent:.1f}%;background:{color}'></div></div></td>"
                    f"<td class='count'>{percent:.0f}% ({done}/{counted})</td></tr>")
    caption = translate("Progress per section (green: graded by checks, blue: self-assessed)", lang)
    return f"<h2>{html.escape(caption)}</h2><table class='sections'>{''.join(rows)}</table>"


def daily(history: list[dict]) -> list[dict]:
    """The last entry of each day: the over-time chart reads over days and weeks."""
    by_day: dict[str, dict] = {}
    for entry in history:
        by_day[datetime.fromisoformat(entry["time"]).date().isoformat()] = entry
    return [by_day[day] for day in sorted(by_day)]


def history_chart(history: list[dict], lang: str) -> str | None:
    """The progress over days and weeks: a heading, an HTML legend and an SVG with numbers and dates only."""
    days = daily(history)
    if not days:
        return None
    dates = [datetime.fromisoformat(d["time"]).date() for d in days]
    graded = [100 * d["graded_passed"] / max(d["graded_total"], 1) for d in days]
    self_part = [100 * d["self_done"] / max(d["self_total"], 1) for d in days]
    figure, ax = plt.subplots(figsize=(8, 2.8))
    ax.plot(dates, graded, marker="o", color=GRADED_COLOR)
    ax.plot(dates, self_part, marker="s", color=SELF_COLOR)
    ax.set_ylim(0, 100)
    ax.set_ylabel("%")
    locator = mdates.AutoDateLocator(minticks=2, maxticks=10)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator, **DATE_FORMATS))
    if len(dates) == 1:
        ax.set_xlim(dates[0] - timedelta(days=3), dates[0] + timedelta(days=3))  # one day: a week around it
    title = html.escape(translate("Progress over time (the last run of each day)", lang))
    legend = "".join(f"<span><span style='color:{color}'>{mark}</span> {html.escape(translate(label, lang))}</span>"
                     for color, mark, label in ((GRADED_COLOR, "●", "graded items passed"),
                                                (SELF_COLOR, "■", "self-assessed items done")))
    return f"<h2>{title}</h2><p class='legend'>{legend}</p>{_svg(figure)}"


def _detail(text: str) -> str:
    """A check's message, cut at a word boundary if long."""
    text = text.strip()
    if len(text) <= DETAIL_CHARS:
        return text
    cut = text[:DETAIL_CHARS]
    return cut[:cut.rfind(" ")] if " " in cut else cut + "…"


def _details(results: list[CheckResult], status: str) -> list[str]:
    """The messages worth showing for an item: each once; one only for an item not started."""
    texts = list(dict.fromkeys(r.output.strip() for r in results
                               if r.status not in ("passed", "skipped") and r.output.strip()))
    return texts[:1] if status == "not_started" else texts


def minutes(iso: str) -> str:
    return datetime.fromisoformat(iso).strftime("%Y-%m-%d %H:%M")


def page(curriculum: Curriculum, results: list[CheckResult], self_done: set[str], lang: str, summary: dict,
         history: list[dict], target: str, recorded: dict[str, str] | None = None) -> str:
    """The page; `recorded` maps a check's nodeid to when its result was recorded (ISO time)."""
    esc = html.escape
    recorded = {nodeid: when for nodeid, when in (recorded or {}).items() if when}

    span = (minutes(min(recorded.values())), minutes(max(recorded.values()))) if recorded else None
    when = esc(translate("results recorded {oldest} – {newest}", lang, oldest=span[0], newest=span[1])) if span \
        else esc(translate("no results recorded yet", lang))
    parts = [f"<!doctype html><html lang='{'zh-CN' if lang == 'zh' else 'en'}'><head><meta charset='utf-8'>"
             f"<title>dlgrade</title><style>{STYLE}</style></head><body>",
             f"<h1>dlgrade · {esc(translate('Learning progress', lang))}</h1>"
             f"<p class='muted'>{esc(target)} · {when}</p>"]
    graded_pct = 100 * summary["graded_passed"] / max(summary["graded_total"], 1)
    self_pct = 100 * summary["self_done"] / max(summary["self_total"], 1)
    parts.append(
        f"<p><b>{summary['graded_passed']}/{summary['graded_total']}</b> "
        f"{esc(translate('graded items passed', lang))} · "
        f"<b>{round(summary['score'], 2):g}/{round(summary['max_score'], 2):g}</b> {esc(msg('points', lang))}</p>"
        f"<div class='bar' title='{graded_pct:.0f}%'><div style='width:{graded_pct:.1f}%;background:{GRADED_COLOR}'>"
        f"</div></div>"
        f"<p><b>{summary['self_done']}/{summary['self_total']}</b> "
        f"{esc(translate('self-assessed items done', lang))}</p>"
        f"<div class='bar' title='{self_pct:.0f}%'><div style='width:{self_pct:.1f}%;background:{SELF_COLOR}'>"
        f"</div></div>")
    lines = render.next_step_lines(curriculum, results, lang)
    parts.append("<div class='next'>" + "<br>".join(esc(line) for line in lines) + "</div>")
    parts.append(progress_bars(curriculum, results, self_done, lang))
    over_time = history_chart(history, lang)
    if over_time:
        parts.append(over_time)
    for section in render.sections_in_report_order(curriculum):
        items = curriculum.items_of(section.id)
        graded = any(i.kind == "code" for i in items)
        self_note = f" <span class='muted'>({esc(translate('self-assessed', lang))})</span>"
        heading = esc(section.title(lang)) + ("" if graded else self_note)
        parts.append(f"<h2>{heading}</h2><table><tr><th>{esc(msg('item', lang))}</th><th></th>"
                     f"<th>{esc(msg('status', lang))}</th><th>{esc(msg('points', lang))}</th></tr>")
        for item in items:
            status = item_status(item, results, self_done)
            mine = [r for r in results if r.item == item.id]
            if item.graded:
                item_points = render.points_text(sum(r.score for r in mine),
                                                 sum(r.max_score for r in mine) or item.points)
            else:
                item_points = esc(render.practice_status(curriculum, item, results, lang))
            detail = "".join(f"<span class='detail'>{esc(_detail(text))}</span>"
                             for text in _details(mine, status))
            times = [recorded[r.nodeid] for r in mine if r.nodeid in recorded]
            stamp = f"<br><span class='muted'>{esc(minutes(max(times)))}</span>" if times else ""
            parts.append(f"<tr><td><code>{esc(item.id)}</code></td><td>{esc(item.title(lang))}{detail}</td>"
                         f"<td class='status' style='color:{COLORS[status]}'>{esc(msg(status, lang))}{stamp}</td>"
                         f"<td>{item_points}</td></tr>")
        parts.append("</table>")
    parts.append("</body></html>")
    return "\n".join(parts)
