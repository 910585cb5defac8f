"""The self-contained HTML progress page of `dlgrade report --format html`.

One file, no external assets: the charts are matplotlib PNGs embedded as data URLs. The
exercises come first, the self-assessed sections after; each section has one bar, in percent,
graded and self-assessed sections in different colours. Chinese text needs a CJK font on the
machine that draws the charts and on the one that shows the page (Debian/Ubuntu: fonts-noto-cjk).
"""
from __future__ import annotations

import base64
import html
import io
from datetime import datetime, timedelta
from pathlib import Path

import matplotlib
import matplotlib.font_manager

matplotlib.use("Agg")
import matplotlib.dates as mdates  # noqa: E402 - after choosing the non-interactive backend
import matplotlib.pyplot as plt  # noqa: E402

from dlgrade.core import render  # noqa: E402
from dlgrade.core.curriculum import Curriculum  # noqa: E402
from dlgrade.core.i18n import translate  # noqa: E402
from dlgrade.core.messages import msg  # noqa: E402
from dlgrade.core.results import DONE, PASSED, CheckResult, item_status  # noqa: E402

COLORS = {"passed": "#2e7d32", "partial": "#f9a825", "failed": "#c62828", "not_started": "#9e9e9e",
          "planned": "#bdbdbd", "done": "#1565c0", "todo": "#9e9e9e"}
GRADED_COLOR, SELF_COLOR, EMPTY_COLOR = "#2e7d32", "#1565c0", "#e0e0e0"
DETAIL_CHARS = 400
STYLE = """
body { font-family: system-ui, "Noto Sans CJK SC", "Noto Sans SC", sans-serif; max-width: 1000px; margin: 2em auto;
       color: #222; }
h1 { margin-bottom: 0.2em; } .muted { color: #777; }
.bar { background: #eee; border-radius: 6px; height: 18px; overflow: hidden; margin: 0.4em 0 1em; }
.bar > div { height: 100%; }
table { border-collapse: collapse; width: 100%; margin-bottom: 1.5em; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid #eee; vertical-align: top; }
.status { font-weight: 600; white-space: nowrap; }
.detail { display: block; color: #777; white-space: pre-wrap; overflow-wrap: anywhere; font-size: 0.9em; }
.next { background: #f1f8e9; padding: 0.8em 1em; border-radius: 6px; }
code { background: #f5f5f5; padding: 1px 4px; border-radius: 3px; }
img { max-width: 100%; height: auto; }
"""
CJK_FONTS = ["Noto Sans CJK SC", "Noto Sans CJK JP", "Noto Sans SC", "WenQuanYi Zen Hei", "SimHei",
             "Microsoft YaHei", "PingFang SC"]


CJK_FILES = ("NotoSansCJK", "NotoSerifCJK", "wqy-zenhei", "wqy-microhei", "simhei", "msyh", "PingFang")


def _cjk_family() -> str | None:
    for family in CJK_FONTS:
        try:
            matplotlib.font_manager.findfont(family, fallback_to_default=False)
            return family
        except ValueError:
            continue
    return None


def chart_lang(lang: str) -> str:
    """Chinese chart labels only where matplotlib has a CJK font; DejaVu alone draws empty boxes.

    matplotlib keeps its font list in a cache made on first use, so a font installed since
    (apt-get install fonts-noto-cjk) is not in it: the system's font files are added then.
    """
    if lang != "zh":
        return lang
    family = _cjk_family()
    if family is None:
        for path in matplotlib.font_manager.findSystemFonts():
            if any(name.lower() in Path(path).name.lower() for name in CJK_FILES):
                matplotlib.font_manager.fontManager.addfont(path)
        family = _cjk_family()
    if family is None:
        return "en"
    plt.rcParams["font.sans-serif"] = [family, "DejaVu Sans"]
    return "zh"


def _png(figure) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    plt.close(figure)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def section_rows(curriculum: Curriculum, results: list[CheckResult], self_done: set[str]) -> list[tuple]:
    """(section, graded?, done, total, percent) per section, in report order."""
    rows = []
    for section in render.sections_in_report_order(curriculum):
        counted = [i for i in curriculum.items_of(section.id) if i.graded or i.kind == "self"]
        if not counted:
            continue
        graded = any(i.graded for i in counted)
        done = sum(item_status(i, results, self_done) in (PASSED, DONE) for i in counted)
        rows.append((section, graded, done, len(counted), 100 * done / len(counted)))
    return rows


def progress_chart(curriculum: Curriculum, results: list[CheckResult], self_done: set[str], lang: str) -> str:
    """One bar per section, in percent: graded sections green, self-assessed ones blue."""
    lang = chart_lang(lang)
    rows = section_rows(curriculum, results, self_done)
    figure, ax = plt.subplots(figsize=(8, 0.45 * len(rows) + 1.2))
    labels = [section.title(lang) for section, *_ in rows]
    ax.barh(labels, [100] * len(rows), color=EMPTY_COLOR)
    ax.barh(labels, [percent for *_, percent in rows],
            color=[GRADED_COLOR if graded else SELF_COLOR for _, graded, *_ in rows])
    for y, (_, graded, done, total, percent) in enumerate(rows):
        ax.text(101, y, f"{percent:.0f}%  ({done}/{total})", va="center")
    ax.set_xlim(0, 100)
    ax.invert_yaxis()
    ax.set_xlabel("%")
    ax.set_title(translate("Progress per section (green: graded by checks, blue: self-assessed)", lang))
    return _png(figure)


def daily(history: list[dict]) -> list[dict]:
    """The last entry of each day: the over-time chart reads over days and weeks."""
    by_day: dict[str, dict] = {}
    for entry in history:
        by_day[datetime.fromisoformat(entry["time"]).date().isoformat()] = entry
    return [by_day[day] for day in sorted(by_day)]


def history_chart(history: list[dict], lang: str) -> str | None:
    days = daily(history)
    if not days:
        return None
    lang = chart_lang(lang)
    dates = [datetime.fromisoformat(d["time"]).date() for d in days]
    graded = [100 * d["graded_passed"] / max(d["graded_total"], 1) for d in days]
    self_part = [100 * d["self_done"] / max(d["self_total"], 1) for d in days]
    figure, ax = plt.subplots(figsize=(8, 2.8))
    ax.plot(dates, graded, marker="o", color=GRADED_COLOR, label=translate("graded items passed", lang))
    ax.plot(dates, self_part, marker="s", color=SELF_COLOR, label=translate("self-assessed items done", lang))
    ax.set_ylim(0, 100)
    ax.set_ylabel("%")
    locator = mdates.AutoDateLocator(minticks=2, maxticks=10)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    if len(dates) == 1:
        ax.set_xlim(dates[0] - timedelta(days=3), dates[0] + timedelta(days=3))  # one day: a week around it
    ax.legend(loc="upper left")
    ax.set_title(translate("Progress over time (the last run of each day)", lang))
    return _png(figure)


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
             f"<h1>dlgrade · {esc(translate('Learning progress', lang))}</h1><p class='muted'>{esc(target)} · {when}</p>"]
    graded_pct = 100 * summary["graded_passed"] / max(summary["graded_total"], 1)
    self_pct = 100 * summary["self_done"] / max(summary["self_total"], 1)
    parts.append(
        f"<p><b>{summary['graded_passed']}/{summary['graded_total']}</b> {esc(translate('graded items passed', lang))} · "
        f"<b>{round(summary['score'], 2):g}/{round(summary['max_score'], 2):g}</b> {esc(msg('points', lang))}</p>"
        f"<div class='bar' title='{graded_pct:.0f}%'><div style='width:{graded_pct:.1f}%;background:{GRADED_COLOR}'>"
        f"</div></div>"
        f"<p><b>{summary['self_done']}/{summary['self_total']}</b> {esc(translate('self-assessed items done', lang))}</p>"
        f"<div class='bar' title='{self_pct:.0f}%'><div style='width:{self_pct:.1f}%;background:{SELF_COLOR}'>"
        f"</div></div>")
    lines = render.next_step_lines(curriculum, results, lang)
    parts.append("<div class='next'>" + "<br>".join(esc(line) for line in lines) + "</div>")
    parts.append(f"<p><img alt='{esc(translate('progress', lang))}' src='{progress_chart(curriculum, results, self_done, lang)}'></p>")
    over_time = history_chart(history, lang)
    if over_time:
        parts.append(f"<p><img alt='{esc(translate('Progress over time (the last run of each day)', lang))}' src='{over_time}'></p>")
    for section in render.sections_in_report_order(curriculum):
        items = curriculum.items_of(section.id)
        graded = any(i.kind == "code" for i in items)
        heading = esc(section.title(lang)) + ("" if graded else f" <span class='muted'>({esc(translate('self-assessed', lang))})</span>")
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
