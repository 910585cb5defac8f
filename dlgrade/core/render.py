"""Tables and next-step lines shared by the pytest summary and `dlgrade report`."""
from __future__ import annotations

import io

from rich.console import Console, Group, RenderableType
from rich.markup import escape
from rich.table import Table

from dlgrade.core.curriculum import Curriculum, Item, Section
from dlgrade.core.i18n import detect_lang, translate
from dlgrade.core.messages import msg
from dlgrade.core.results import (
    DONE,
    FAILED,
    NOT_STARTED,
    PARTIAL,
    PASSED,
    PLANNED,
    TODO,
    CheckResult,
    counted_items,
    item_status,
)

STATUS_STYLE = {PASSED: "green", PARTIAL: "yellow", FAILED: "red", NOT_STARTED: "dim",
                PLANNED: "dim italic", DONE: "green", TODO: "dim"}


def points_text(score: float, max_score: float) -> str:
    return f"{round(score, 2):g}/{round(max_score, 2):g}"


def check_file(curriculum: Curriculum, item: Item) -> str:
    return item.check or curriculum.section(item.section).check or "checks/"


def suggest(command: str, lang: str, *, elsewhere: bool = False) -> str:
    """A command for the learner to type, working in `lang`: it carries `--lang LANG` only when
    their shell would pick another language (the language came from this run's --lang alone,
    not from DLGRADE_LANG, `dlgrade lang` or the locale). `elsewhere`: the command will run on a
    machine this process cannot see (Gradescope's output), so a non-English one always says it."""
    if elsewhere:
        return command if lang == "en" else f"{command} --lang {lang}"
    return command if detect_lang() == lang else f"{command} --lang {lang}"


def rerun_command(curriculum: Curriculum, item: Item, lang: str, *, elsewhere: bool = False) -> str:
    return suggest(f"pytest {check_file(curriculum, item)} --item {item.id}", lang, elsewhere=elsewhere)


def next_item(curriculum: Curriculum, results: list[CheckResult], only: set[str] | None = None) -> Item | None:
    """The first graded item, in curriculum order, that does not pass yet (among `only` ids, if given)."""
    for item in curriculum.items:
        if not item.graded or (only is not None and item.id not in only):
            continue
        if item_status(item, results) != PASSED:
            return item
    return None


def next_step_lines(curriculum: Curriculum, results: list[CheckResult], lang: str, only: set[str] | None = None,
                    ran: set[str] | None = None, hinted: set[str] | frozenset[str] = frozenset()) -> list[str]:
    """What to do next: the first unfinished item (among `only`, if given), its hint unless it was
    shown already (`hinted`), and the command that checks it. When every item of this run (`ran`)
    passes, a line says so first."""
    lines = []
    if ran and all(item_status(curriculum.item(i), results) == PASSED for i in sorted(ran) if _known(curriculum, i)):
        lines.append(translate("{items}: passed", lang, items=", ".join(sorted(ran))))
    item = (next_item(curriculum, results, ran) if ran else None) or next_item(curriculum, results, only)
    if item is None:
        lines.append(translate("every item of this run passes", lang) if only is not None
                     else msg("all_passed", lang))
        return lines
    lines.append(f"{msg('next', lang)}: {item.id} {item.title(lang)} [{msg(item_status(item, results), lang)}]")
    if item.hint and item.id not in hinted:
        lines.append(f"  {msg('hint', lang)}: {item.hint(lang)}")
    lines.append(f"  {msg('rerun', lang)}: {rerun_command(curriculum, item, lang)}")
    return lines


def _known(curriculum: Curriculum, item_id: str) -> bool:
    return any(i.id == item_id for i in curriculum.items)


def not_started_lines(curriculum: Curriculum, results: list[CheckResult], lang: str, only: set[str]) -> list[str]:
    """One line per item of `only` that is not started, with the first check's reason."""
    lines = []
    for item in curriculum.items:
        if item.id not in only or item_status(item, results) != NOT_STARTED:
            continue
        reason = next((r.output.splitlines()[0] for r in results if r.item == item.id and r.output), "")
        lines.append(f"[{msg(NOT_STARTED, lang)}] {item.id} {item.title(lang)}" + (f" — {reason}" if reason else ""))
    return lines


def _points(results: list[CheckResult], item_ids: set[str]) -> tuple[float, float]:
    mine = [r for r in results if r.item in item_ids]
    return sum(r.score for r in mine), sum(r.max_score for r in mine)


def exercise_table(curriculum: Curriculum, results: list[CheckResult], lang: str,
                   only: set[str] | None = None) -> Table:
    """One row per exercise: items passed and points (counting only the items in `only`, if given)."""
    table = Table(show_edge=False, pad_edge=False)
    table.add_column(msg("exercise", lang))
    table.add_column(msg("items_passed", lang), justify="right")
    table.add_column(msg("points", lang), justify="right")
    for section in curriculum.sections:
        graded = [i for i in curriculum.items_of(section.id) if i.graded and (only is None or i.id in only)]
        if not graded:
            continue
        passed, total = counted_items(graded, results, set())
        score, max_score = _points(results, {i.id for i in graded})
        if max_score == 0:
            max_score = sum(i.points for i in graded)
        table.add_row(section.title(lang), f"{passed}/{total}", points_text(score, max_score))
    return table


def sections_in_report_order(curriculum: Curriculum) -> list[Section]:
    """Sections with graded items (the exercises) first, then the self-assessed ones, each in curriculum order."""
    graded = [s for s in curriculum.sections if any(i.kind == "code" for i in curriculum.items_of(s.id))]
    return graded + [s for s in curriculum.sections if s not in graded]


def practice_status(curriculum: Curriculum, item: Item, results: list[CheckResult], lang: str) -> str:
    """'ex5.1: passed' for a paper whose code item is ex5.1, else ''."""
    if not item.practice:
        return ""
    return f"{item.practice}: {msg(item_status(curriculum.item(item.practice), results), lang)}"


def item_tables(curriculum: Curriculum, results: list[CheckResult], lang: str, self_done: set[str]) -> Group:
    """One table per section of the whole curriculum, exercises first, self-assessed items after."""
    tables = []
    for section in sections_in_report_order(curriculum):
        table = Table(title=section.title(lang), title_justify="left", title_style="bold", show_edge=False,
                      pad_edge=False, expand=True)
        table.add_column(msg("item", lang), no_wrap=True, min_width=8)
        table.add_column("", ratio=1, overflow="fold")
        table.add_column(msg("status", lang), no_wrap=True)
        table.add_column(msg("points", lang), justify="right", no_wrap=True)
        for item in curriculum.items_of(section.id):
            status = item_status(item, results, self_done)
            points = ""
            if item.graded:
                score, max_score = _points(results, {item.id})
                points = points_text(score, max_score or item.points)
            elif item.practice:
                points = escape(practice_status(curriculum, item, results, lang))
            table.add_row(item.id, escape(item.title(lang)),
                          f"[{STATUS_STYLE[status]}]{msg(status, lang)}[/]", points)
        tables.append(table)
    return Group(*tables)


def to_text(renderable: RenderableType, width: int = 100) -> str:
    text = io.StringIO()
    Console(file=text, width=width, color_system=None, highlight=False).print(renderable)
    return text.getvalue()
